// The tool definitions as models receive them: JSON Schema via z.toJSONSchema for the AI SDK, MCP
// and OpenAI with strict: false; OpenAI's strict-mode form of it by default (checked against
// OpenAI's rules in strict.test.ts).
import { Mailroom } from '@mailroom/sdk'
import { asSchema } from 'ai'
import { describe, expect, it } from 'vitest'
import { createMailroomTools, jsonSchemaOf, mcpToolDefinition, openAIResponsesTools, openAITools, vercelTools, type MailroomToolName } from '../src/index.js'

// No request is made: building tools only needs a client object.
const mailroom = new Mailroom({ apiKey: 'mr_ik_unused', baseUrl: 'http://127.0.0.1:9' })

const names = (tools: { name: string }[]) => tools.map((t) => t.name).sort()

describe('tool sets', () => {
  it('an inbox key gets get_inbox and the mail tools, none of which asks for an inbox id', () => {
    const tools = createMailroomTools({ mailroom })
    expect(names(tools)).toEqual(['get_email_cursor', 'get_inbox', 'list_contacts', 'list_messages', 'mark_email', 'read_message', 'reply_to_email', 'search_email', 'send_email', 'wait_for_email'])
    for (const def of openAITools(tools)) expect(Object.keys((def.function.parameters.properties ?? {}) as object)).not.toContain('inbox_id')
  })

  it('a tenant key gets create_inbox, and every mail tool requires inbox_id', () => {
    const tools = createMailroomTools({ mailroom, scope: 'tenant' })
    expect(names(tools)).toEqual(['create_inbox', 'get_email_cursor', 'list_contacts', 'list_messages', 'mark_email', 'read_message', 'reply_to_email', 'search_email', 'send_email', 'wait_for_email'])
    for (const def of openAITools(tools, { strict: false })) {
      if (def.function.name === 'create_inbox') continue
      expect(def.function.parameters.required).toContain('inbox_id')
      // Not nullable in strict mode either: a mail tool always needs its inbox.
      const strict = openAITools(tools).find((d) => d.function.name === def.function.name)!
      expect((strict.function.parameters.properties as any).inbox_id.type).toBe('string')
    }
  })

  it('a tenant key bound to one inbox gets the inbox-key set, without inbox_id', () => {
    const tools = createMailroomTools({ mailroom, scope: 'tenant', inboxId: 'inb_1' })
    expect(names(tools)).toEqual(names(createMailroomTools({ mailroom })))
    expect(JSON.stringify(openAITools(tools))).not.toContain('inbox_id')
  })

  it('include picks tools', () => {
    expect(names(createMailroomTools({ mailroom, include: ['wait_for_email', 'read_message'] }))).toEqual(['read_message', 'wait_for_email'])
  })
})

describe('OpenAI function definitions', () => {
  const tools = createMailroomTools({ mailroom, scope: 'tenant' })
  // The plain schemas (strict: false); strict mode's form is checked in strict.test.ts.
  const defs = openAITools(tools, { strict: false })
  const byName = Object.fromEntries(defs.map((d) => [d.function.name, d.function])) as Record<MailroomToolName, (typeof defs)[number]['function']>

  it('are function tools with a description for the model and an object schema, strict by default', () => {
    expect(defs.every((d) => d.function.strict === false)).toBe(true)
    expect(openAITools(tools).every((d) => d.function.strict === true)).toBe(true)
    for (const d of [...defs, ...openAITools(tools)]) {
      expect(d.type).toBe('function')
      expect(d.function.name).toMatch(/^[a-z_]{1,64}$/)
      expect(d.function.description.length).toBeGreaterThan(60)
      expect(d.function.parameters.type).toBe('object')
      expect(d.function.parameters.$schema).toBeUndefined()
      expect(d.function.parameters.additionalProperties).toBe(false)
      // Every parameter is described for the model.
      for (const [key, prop] of Object.entries(d.function.parameters.properties as Record<string, { description?: string }>)) {
        expect(prop.description, `${d.function.name}.${key}`).toBeTruthy()
      }
      // Plain JSON: survives a round trip.
      expect(JSON.parse(JSON.stringify(d))).toEqual(d)
    }
  })

  it('send_email: recipients as a string or a list, subject and text required', () => {
    const p = byName.send_email.parameters as any
    expect([...p.required].sort()).toEqual(['inbox_id', 'subject', 'text', 'to'])
    expect(p.properties.to.anyOf).toEqual([
      { type: 'string', minLength: 3, maxLength: 320 },
      { type: 'array', items: { type: 'string', minLength: 3, maxLength: 320 }, minItems: 1, maxItems: 50 },
    ])
    expect(p.properties.headers).toBeUndefined() // a model cannot set arbitrary headers
  })

  it('wait_for_email: timeout with bounds and a default, so it is optional', () => {
    const p = byName.wait_for_email.parameters as any
    expect(p.properties.timeout_seconds).toMatchObject({ type: 'integer', minimum: 1, maximum: 300, default: 60 })
    expect(p.required).toEqual(['inbox_id'])
  })

  it('list_messages and create_inbox: enums, bounds, patterns', () => {
    const list = byName.list_messages.parameters as any
    expect(list.properties.direction.enum).toEqual(['inbound', 'outbound'])
    expect(list.properties.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 50, default: 10 })
    const create = byName.create_inbox.parameters as any
    expect(create.required ?? []).toEqual([])
    expect(create.properties.name.pattern).toBeTruthy()
    expect(byName.read_message.parameters.required).toEqual(['inbox_id', 'message_id'])
    expect(byName.reply_to_email.parameters.required).toEqual(['inbox_id', 'message_id', 'text'])
  })

  it('the Responses API shape carries the same schema, strict or not', () => {
    for (const strict of [true, false]) {
      const chat = openAITools(tools, { strict })
      const responses = openAIResponsesTools(tools, { strict })
      expect(responses.map((r) => r.name)).toEqual(chat.map((d) => d.function.name))
      for (const [i, r] of responses.entries()) {
        expect(r).toEqual({ type: 'function', name: chat[i]!.function.name, description: chat[i]!.function.description, parameters: chat[i]!.function.parameters, strict })
      }
    }
  })

  it('the AI SDK and MCP see the same JSON Schema', async () => {
    const vercel = vercelTools(tools)
    expect(Object.keys(vercel).sort()).toEqual(names(tools))
    for (const d of defs) {
      const t = vercel[d.function.name]!
      expect(t.description).toBe(d.function.description)
      expect(await asSchema(t.inputSchema).jsonSchema).toEqual(d.function.parameters)
      const mcp = mcpToolDefinition(tools.find((x) => x.name === d.function.name)!)
      expect(mcp.inputSchema).toEqual(d.function.parameters)
      expect(mcp.inputSchema).toEqual(jsonSchemaOf(tools.find((x) => x.name === d.function.name)!.inputSchema))
      expect(mcp.annotations?.readOnlyHint).toBe(['list_messages', 'read_message', 'get_email_cursor', 'wait_for_email', 'get_inbox', 'search_email', 'list_contacts'].includes(d.function.name))
    }
  })
})
