// Property-based fuzzing of the whole HTTP API: for every operation in /openapi.json, requests with
// generated bodies, queries and ids, built from the operation's own schemas (near-valid input, the
// kind that gets past the first checks) and mixed with hostile values (NUL, unpaired surrogates,
// huge numbers, deep nesting, wrong types). Whatever comes in, the answer is never a 5xx.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'

const RUNS = Number(process.env.MAILROOM_FUZZ_RUNS ?? 20)

type Schema = Record<string, any>
interface Operation {
  method: string
  path: string
  scope: 'tenant' | 'inbox'
  params: { name: string; in: string; schema: Schema; required?: boolean }[]
  body: Schema | null
}

let server: TestServer
let tenant: TenantFixture
let inbox: InboxFixture
let doc: any
let ids: Record<string, string> = {}

beforeAll(async () => {
  server = await startTestServer()
  tenant = await makeTenant(server, 'fuzzed')
  inbox = await makeInbox(server, tenant, 'target')
  await sendMail(server, { to: inbox.address, subject: 'fuzz me', text: 'hello', attachments: [{ filename: 'a.txt', content: 'x' }] })
  await settled(server)
  const list = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)
  const msg = list.body.data[0]
  ids = { tenant: tenant.id, inbox: inbox.id, message: msg.id, thread: msg.threadId, attachment: msg.attachments[0]?.id ?? 'att_x' }
  doc = (await tenant.api.get('/openapi.json')).body
}, 120_000)
afterAll(() => server?.stop())

const HOSTILE_STRINGS = ['\u0000', 'a\u0000b', '\ud800', '\udc00x', '\udfff\ud800', '', ' ', '../../etc/passwd', "'; drop table tenants; --", '%00', '\u202e', 'x'.repeat(5000), '😀', 'null', '-1', '1e309']

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
)
const hostileNumber = fc.oneof(fc.constantFrom(0, -1, 1e300, -1e300, 2 ** 53 + 1, 2 ** 31, -(2 ** 31) - 1, 0.5, Number.MAX_SAFE_INTEGER), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
const deep = fc.constant(JSON.parse('['.repeat(200) + ']'.repeat(200)))
const anyJson: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileString, hostileNumber, deep, fc.constant(null))

function deref(s: Schema): Schema {
  if (s?.$ref) return deref(doc.components.schemas[s.$ref.split('/').pop()])
  return s ?? {}
}

/** Values for a JSON schema: mostly valid-looking, sometimes hostile in place. */
function arb(schemaIn: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(schemaIn)
  const alts: fc.Arbitrary<unknown>[] = []
  if (s.const !== undefined) alts.push(fc.constant(s.const))
  if (s.enum) alts.push(fc.constantFrom(...s.enum))
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) if (s[k]) alts.push(fc.oneof(...s[k].map((x: Schema) => arb(x, depth + 1))))
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  for (const t of types) {
    if (t === 'null') alts.push(fc.constant(null))
    if (t === 'boolean') alts.push(fc.boolean())
    if (t === 'integer' || t === 'number') {
      const min = Math.max(s.minimum ?? -10, -1e9)
      const max = Math.max(min, Math.min(s.maximum ?? min + 1000, 1e9))
      alts.push(t === 'integer' ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true }))
    }
    if (t === 'string') {
      let str: fc.Arbitrary<string> = fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 30, 60) })
      if (s.pattern) {
        try {
          str = fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= (s.maxLength ?? 500))
        } catch {
          /* a pattern JavaScript cannot compile: plain strings */
        }
      }
      if (s.format === 'email') str = fc.emailAddress()
      if (s.format === 'date-time') str = fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(2100, 0)) }).map((d) => d.toISOString())
      if (s.format === 'uri') str = fc.webUrl()
      // Near-valid: the schema's string with a character Postgres cannot store slipped in.
      const spiked = fc.tuple(str, fc.constantFrom('\u0000', '\ud800', '\udc00'), fc.nat()).map(([x, bad, at]) => x.slice(0, at % (x.length + 1)) + bad + x.slice(at % (x.length + 1)))
      alts.push(fc.oneof({ arbitrary: str, weight: 2 }, { arbitrary: spiked, weight: 1 }))
    }
    if (t === 'array' && depth < 4) alts.push(fc.array(arb(s.items ?? {}, depth + 1), { maxLength: Math.min(s.maxItems ?? 3, 3) }))
    if (t === 'object' && depth < 4) {
      const props: Record<string, Schema> = s.properties ?? {}
      const required = new Set<string>(s.required ?? [])
      alts.push(
        fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, arb(v, depth + 1)])), {
          requiredKeys: [...required].filter((k) => k in props),
        }),
      )
    }
  }
  if (alts.length === 0) alts.push(anyJson)
  // One value in eight is hostile, whatever the schema says.
  return fc.oneof({ arbitrary: fc.oneof(...alts), weight: 7 }, { arbitrary: anyJson, weight: 1 })
}

function operations(): Operation[] {
  const out: Operation[] = []
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      // A stream never ends by itself; its input handling is the same middleware as everyone's.
      if (path === '/v1/events') continue
      const body = op.requestBody?.content?.['application/json']?.schema ?? null
      out.push({ method: method.toUpperCase(), path, scope: op['x-mailroom-scope'] ?? 'tenant', params: op.parameters ?? [], body })
    }
  }
  return out
}

/**
 * Percent-encodes a path segment, lone surrogates included (as the bytes a careless client would
 * send for them: WTF-8), where encodeURIComponent would throw.
 */
function encodeSegment(s: string): string {
  let out = ''
  for (const ch of s) {
    const c = ch.charCodeAt(0)
    if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
    else out += encodeURIComponent(ch)
  }
  return out
}

const ID_KIND: Record<string, string> = { id: 'inbox', messageId: 'message', threadId: 'thread', attachmentId: 'attachment', deliveryId: 'x', address: 'x' }

function idArb(op: Operation, name: string): fc.Arbitrary<string> {
  const known = op.path.startsWith('/v1/tenants/') && name === 'id' ? ids.tenant : ids[ID_KIND[name] ?? ''] 
  return fc.oneof({ arbitrary: fc.constant(known ?? 'x'), weight: 3 }, { arbitrary: hostileString, weight: 2 }, { arbitrary: fc.stringMatching(/^(inb|msg|tnt|whk|dom)_[0-9a-f]{32}$/), weight: 1 })
}

describe('fuzzing every operation of /openapi.json', () => {
  it('covers the document', () => {
    expect(operations().length).toBeGreaterThanOrEqual(50)
  })

  it('no input yields a 5xx', async () => {
    const failures: string[] = []
    for (const op of operations()) {
      const pathParams = op.params.filter((p) => p.in === 'path')
      const queryParams = op.params.filter((p) => p.in === 'query')
      const request = fc.record({
        path: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, idArb(op, p.name)]))),
        query: fc.record(Object.fromEntries(queryParams.map((p) => [p.name, fc.oneof(arb(p.schema), hostileString)])), { requiredKeys: [] }),
        body: op.body ? fc.oneof({ arbitrary: arb(op.body), weight: 4 }, { arbitrary: anyJson, weight: 1 }) : fc.constant(undefined),
        key: fc.constantFrom(op.scope === 'inbox' ? inbox.key : tenant.key, tenant.key),
      })
      const before = failures.length
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          let url = op.path.replace(/\{(\w+)\}/g, (_, n: string) => encodeSegment(String((r.path as Record<string, unknown>)[n])))
          const qs = new URLSearchParams()
          for (const [k, v] of Object.entries(r.query)) if (v !== undefined) qs.set(k, typeof v === 'string' ? v : JSON.stringify(v))
          if ([...qs].length) url += `?${qs}`
          const res = await fetch(server.baseUrl + url, {
            method: op.method,
            headers: { authorization: `Bearer ${r.key}`, ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) },
            body: r.body === undefined || op.method === 'GET' || op.method === 'DELETE' ? undefined : JSON.stringify(r.body),
            signal: AbortSignal.timeout(60_000),
          })
          const text = await res.text()
          if (res.status >= 500) {
            failures.push(`${op.method} ${url} ${JSON.stringify(r.body)?.slice(0, 300)} -> ${res.status} ${text.slice(0, 300)}`)
            return false
          }
          return true
        }),
        { numRuns: RUNS, endOnFailure: true },
      ).catch((err: Error) => {
        // A 5xx is listed already (with its request); anything else that failed the property is listed whole.
        const seed = /seed: [-\d]+/.exec(err.message)?.[0] ?? 'seed unknown'
        failures.push(failures.length > before ? `  (${op.method} ${op.path}: ${seed}, to replay)` : `${op.method} ${op.path}: ${err.message.slice(0, 600)}`)
      })
    }
    expect(failures).toEqual([])
  }, 600_000)
})
