// OpenAI strict mode (Structured Outputs, `strict: true`): every schema the tools emit by default is
// checked against the rules OpenAI documents under "Supported schemas", written out here on their
// own (not derived from the converter), and the tools read the nulls such a schema makes a model send
// as "not given".
import { Mailroom } from '@mailroom/sdk'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createMailroomTools, createToolExecutor, openAIResponsesTools, openAITools, strictJsonSchemaOf, type JsonSchema } from '../src/index.js'

// What OpenAI's structured-outputs guide lists as supported (types, keywords per type, formats) and
// its limits: at most 5000 object properties in all, 10 levels of nesting, 120,000 characters of
// property names, definition names, enum and const values, 1000 enum values, and 15,000 characters
// for the values of one string enum of more than 250 values. The root is an object, not an anyOf.
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'])
const COMMON = new Set(['type', 'description', 'enum', 'const', 'anyOf', '$ref'])
const BY_TYPE: Record<string, Set<string>> = {
  string: new Set(['pattern', 'format']),
  number: new Set(['multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum']),
  integer: new Set(['multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum']),
  array: new Set(['items', 'minItems', 'maxItems']),
  object: new Set(['properties', 'required', 'additionalProperties']),
  boolean: new Set(),
  null: new Set(),
}
const FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid'])
const LIMITS = { properties: 5000, depth: 10, chars: 120_000, enumValues: 1000, bigEnumChars: 15_000 }

/** Every way `schema` breaks OpenAI's strict-mode rules, as readable paths (empty: none). */
export function strictModeViolations(schema: JsonSchema): string[] {
  const problems: string[] = []
  let properties = 0
  let chars = 0
  let enumValues = 0
  if (schema.type !== 'object') problems.push('root: must be type "object"')
  if ('anyOf' in schema) problems.push('root: must not be anyOf')

  const visit = (node: unknown, path: string, depth: number): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      problems.push(`${path}: not a schema object`)
      return
    }
    const n = node as JsonSchema
    if (depth > LIMITS.depth) problems.push(`${path}: nested deeper than ${LIMITS.depth} levels`)
    const types = n.type === undefined ? [] : Array.isArray(n.type) ? (n.type as unknown[]) : [n.type]
    for (const t of types) if (typeof t !== 'string' || !TYPES.has(t)) problems.push(`${path}: unsupported type ${JSON.stringify(t)}`)
    if (n.type === undefined && n.anyOf === undefined && n.$ref === undefined && n.enum === undefined && n.const === undefined) {
      problems.push(`${path}: no type`)
    }
    const allowed = new Set([...COMMON, ...types.flatMap((t) => [...(BY_TYPE[t as string] ?? [])])])
    if (path === '$') allowed.add('$defs')
    for (const key of Object.keys(n)) if (!allowed.has(key)) problems.push(`${path}: keyword "${key}" is not supported${types.length ? ` for ${types.join('|')}` : ''}`)
    if (n.format !== undefined && !FORMATS.has(String(n.format))) problems.push(`${path}: format ${String(n.format)} is not supported`)
    if (typeof n.pattern === 'string') {
      try {
        new RegExp(n.pattern)
      } catch {
        problems.push(`${path}: pattern does not compile`)
      }
    }
    if (Array.isArray(n.enum)) {
      enumValues += n.enum.length
      const strings = n.enum.filter((v): v is string => typeof v === 'string')
      for (const v of strings) chars += v.length
      if (n.enum.length > 250 && strings.reduce((a, v) => a + v.length, 0) > LIMITS.bigEnumChars) problems.push(`${path}: enum values too long`)
    }
    if (typeof n.const === 'string') chars += n.const.length
    if (types.includes('object')) {
      if (n.additionalProperties !== false) problems.push(`${path}: additionalProperties must be false`)
      const props = (n.properties ?? {}) as Record<string, unknown>
      const keys = Object.keys(props)
      const required = Array.isArray(n.required) ? (n.required as string[]) : []
      const missing = keys.filter((k) => !required.includes(k))
      if (missing.length) problems.push(`${path}: every property must be required (missing: ${missing.join(', ')})`)
      const unknown = required.filter((k) => !keys.includes(k))
      if (unknown.length) problems.push(`${path}: required names unknown properties (${unknown.join(', ')})`)
      properties += keys.length
      for (const k of keys) {
        chars += k.length
        visit(props[k], `${path}.${k}`, depth + 1)
      }
    }
    if (types.includes('array')) {
      if (n.items === undefined) problems.push(`${path}: array without items`)
      else visit(n.items, `${path}[]`, depth + 1)
    }
    if (n.anyOf !== undefined) {
      if (!Array.isArray(n.anyOf) || n.anyOf.length === 0) problems.push(`${path}: anyOf must be a non-empty list`)
      else n.anyOf.forEach((branch, i) => visit(branch, `${path}.anyOf[${i}]`, depth))
    }
  }
  visit(schema, '$', 1)
  for (const [name, def] of Object.entries((schema.$defs ?? {}) as Record<string, unknown>)) {
    chars += name.length
    visit(def, `$defs.${name}`, 1)
  }
  if (properties > LIMITS.properties) problems.push(`more than ${LIMITS.properties} object properties (${properties})`)
  if (chars > LIMITS.chars) problems.push(`more than ${LIMITS.chars} characters of names and values (${chars})`)
  if (enumValues > LIMITS.enumValues) problems.push(`more than ${LIMITS.enumValues} enum values (${enumValues})`)
  return problems
}

// No request is made to build the definitions.
const offline = new Mailroom({ apiKey: 'mr_tk_unused', baseUrl: 'http://127.0.0.1:9' })
const toolSets = {
  'inbox key': createMailroomTools({ mailroom: offline }),
  'tenant key': createMailroomTools({ mailroom: offline, scope: 'tenant' }),
  'tenant key bound to an inbox': createMailroomTools({ mailroom: offline, scope: 'tenant', inboxId: 'inb_1' }),
}

describe('the strict-mode rules themselves', () => {
  it('catch what OpenAI refuses', () => {
    expect(strictModeViolations({ type: 'object', properties: { a: { type: 'string' } } })).toEqual([
      '$: additionalProperties must be false',
      '$: every property must be required (missing: a)',
    ])
    expect(strictModeViolations({ anyOf: [{ type: 'object' }] })).toContain('root: must not be anyOf')
    const bad = strictModeViolations({
      type: 'object',
      properties: { n: { type: 'integer', default: 10 }, s: { type: 'string', minLength: 1, format: 'uri' } },
      required: ['n', 's'],
      additionalProperties: false,
    })
    expect(bad).toEqual(['$.n: keyword "default" is not supported for integer', '$.s: keyword "minLength" is not supported for string', '$.s: format uri is not supported'])
    let deep: JsonSchema = { type: 'string' }
    for (let i = 0; i < 11; i++) deep = { type: 'object', properties: { x: deep }, required: ['x'], additionalProperties: false }
    expect(strictModeViolations(deep).some((p) => p.includes('nested deeper'))).toBe(true)
  })
})

describe('OpenAI tools, strict by default', () => {
  for (const [label, tools] of Object.entries(toolSets)) {
    it(`${label}: every emitted schema follows the strict-mode rules, and is marked strict`, () => {
      const chat = openAITools(tools)
      const responses = openAIResponsesTools(tools)
      for (const def of chat) {
        expect(def.function.strict, def.function.name).toBe(true)
        expect(strictModeViolations(def.function.parameters), def.function.name).toEqual([])
      }
      for (const def of responses) {
        expect(def.strict).toBe(true)
        expect(strictModeViolations(def.parameters), def.name).toEqual([])
      }
      // The plain schemas (strict: false) would be refused: that is what the option is for.
      const plain = openAITools(tools, { strict: false })
      expect(plain.some((d) => strictModeViolations(d.function.parameters).length > 0)).toBe(true)
    })
  }

  it('optional arguments become required-but-nullable, required ones stay as they are', () => {
    const tools = createMailroomTools({ mailroom: offline, scope: 'tenant' })
    const byName = Object.fromEntries(openAITools(tools).map((d) => [d.function.name, d.function.parameters as any]))
    const wait = byName.wait_for_email
    expect(wait.required.sort()).toEqual(['after_cursor', 'from', 'inbox_id', 'subject', 'timeout_seconds'])
    expect(wait.properties.inbox_id.type).toBe('string')
    expect(wait.properties.timeout_seconds).toMatchObject({ type: ['integer', 'null'], minimum: 1, maximum: 300 })
    expect(wait.properties.timeout_seconds.default).toBeUndefined()
    expect(wait.properties.timeout_seconds.description).toMatch(/default 60/)
    const list = byName.list_messages
    expect(list.properties.direction).toEqual({
      description: expect.any(String),
      anyOf: [{ type: 'string', enum: ['inbound', 'outbound'] }, { type: 'null' }],
    })
    const send = byName.send_email
    expect(send.properties.to.anyOf).toEqual([{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 50 }])
    expect(send.properties.cc.anyOf.at(-1)).toEqual({ type: 'null' })
    expect(byName.create_inbox.properties.name).toMatchObject({ type: ['string', 'null'], pattern: expect.any(String) })
  })

  it('strictJsonSchemaOf works on any tool-shaped zod object, nested ones included', () => {
    const schema = strictJsonSchemaOf(
      z
        .object({
          q: z.string().min(1),
          page: z.object({ size: z.number().int().max(100).default(10), after: z.string().optional() }).strict().optional(),
          tags: z.array(z.object({ name: z.string() }).strict()).max(5),
        })
        .strict(),
    )
    expect(strictModeViolations(schema)).toEqual([])
    expect((schema as any).properties.page.anyOf[0].required).toEqual(['size', 'after'])
  })
})

describe('null means "not given"', () => {
  /** A client whose requests are recorded and answered here (no server needed for these checks). */
  function recordingClient(answer: (url: URL, body: unknown) => unknown) {
    const requests: { method: string; url: URL; body: unknown }[] = []
    const mailroom = new Mailroom({
      apiKey: 'mr_tk_test',
      baseUrl: 'http://mailroom.test',
      maxRetries: 0,
      fetch: async (input, init) => {
        const url = new URL(input)
        const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
        requests.push({ method: init.method ?? 'GET', url, body })
        const data = answer(url, body)
        return data === null ? new Response(null, { status: 204, headers: { 'Mailroom-Cursor': 'cur_now' } }) : Response.json(data, { status: 200 })
      },
    })
    return { mailroom, requests }
  }
  const inbox = { id: 'inb_1', tenantId: 'tnt_1', address: 'a@agents.test', displayName: null, metadata: {}, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' }

  it('create_inbox and list_messages with every optional argument null behave as if they were left out', async () => {
    const { mailroom, requests } = recordingClient((url) => {
      if (url.pathname === '/v1/inboxes') return inbox
      if (url.pathname === '/v1/inboxes/inb_1') return inbox
      if (url.pathname === '/v1/inboxes/inb_1/messages') return { data: [], nextCursor: null }
      throw new Error(`unexpected ${url}`)
    })
    const executor = createToolExecutor(createMailroomTools({ mailroom, scope: 'tenant' }))
    expect(await executor.execute('create_inbox', '{"name":null,"display_name":null}')).toMatchObject({ inbox: { id: 'inb_1' } })
    expect(requests[0]!.body).toEqual({})
    const listed = await executor.execute('list_messages', { inbox_id: 'inb_1', from: null, subject: null, direction: null, limit: null, cursor: null })
    expect(listed).toMatchObject({ messages: [], next_cursor: null })
    const list = requests.find((r) => r.url.pathname.endsWith('/messages'))!
    expect(Object.fromEntries(list.url.searchParams)).toEqual({ limit: '10' }) // the default, nothing else
  })

  it('a required argument sent as null is still refused, with the field named', async () => {
    const { mailroom } = recordingClient(() => inbox)
    const executor = createToolExecutor(createMailroomTools({ mailroom, scope: 'tenant' }))
    const res = await executor.execute('read_message', { inbox_id: 'inb_1', message_id: null, max_chars: null })
    expect(res).toMatchObject({ error: { code: 'invalid_arguments', issues: [{ path: 'message_id' }] } })
  })
})
