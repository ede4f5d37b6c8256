// What an operator sees: /metrics in Prometheus format (for the operator key, or on a listener of
// its own), with bounded labels, and one JSON log line per request with its id, tenant and duration.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { client, makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { createLogger } from '../../src/lib/log.js'
import { Metrics } from '../../src/lib/metrics.js'

const OPERATOR = 'operator-key-'.padEnd(40, 'x')
const lines: string[] = []
let server: TestServer
let inbox: InboxFixture

/** The value of one series in a scrape, written as exposed (`name{label="v"}`); NaN when it is not there. */
function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1))
}

beforeAll(async () => {
  server = await startTestServer({ config: { operatorKey: OPERATOR, metricsPort: 0 }, log: createLogger('info', (l) => lines.push(l)) })
  inbox = await makeInbox(server, await makeTenant(server, 'observed'), 'watched')
  await sendMail(server, { to: inbox.address, subject: 'counted', text: 'hello' })
  await settled(server)
  await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)
  await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0`)
})
afterAll(() => server?.stop())

describe('/metrics', () => {
  it('answers the operator key only', async () => {
    expect((await client(server.baseUrl).get('/metrics')).status).toBe(401)
    expect((await client(server.baseUrl, inbox.key).get('/metrics')).status).toBe(401)
    const res = await client(server.baseUrl, OPERATOR).get('/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  })

  // A second server of its own: slow to start on a loaded machine.
  it('is refused outright when no operator key is configured', { timeout: 120_000 }, async () => {
    const bare = await startTestServer()
    try {
      const res = await client(bare.baseUrl, 'anything').get('/metrics')
      expect(res.status).toBe(403)
      expect(res.body.error.message).toMatch(/MAILROOM_OPERATOR_KEY|MAILROOM_METRICS_PORT/)
    } finally {
      await bare.stop()
    }
  })

  it('covers HTTP, SMTP, mail, queues, the pool, held requests and the event loop, with route patterns as labels', async () => {
    const { text } = await client(server.baseUrl, OPERATOR).get('/metrics')
    for (const series of [
      /mailroom_http_requests_total\{method="GET",route="\/v1\/inboxes\/:id\/messages",status="200"\} [1-9]/,
      /mailroom_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/inboxes\/:id\/messages"\}/,
      /mailroom_smtp_replies_total\{code="250"\} [1-9]/,
      /mailroom_smtp_replies_total\{code="354"\} 1/,
      /mailroom_messages_accepted_total\{direction="inbound"\} 1/,
      /mailroom_messages_parsed_total\{status="parsed"\} 1/,
      /mailroom_queue_depth\{queue="outbox"\} 0/,
      /mailroom_queue_depth\{queue="webhook"\} 0/,
      /mailroom_queue_depth\{queue="parse"\} 0/,
      /mailroom_queue_oldest_seconds\{queue="outbox"\} 0/,
      /mailroom_db_up 1/,
      /mailroom_db_pool_in_use \d/,
      // How many wait at this instant depends on the background workers' polls (slower on Citus).
      /mailroom_db_pool_waiting \d/,
      /mailroom_held_requests\{kind="wait"\} 0/,
      /mailroom_held_requests\{kind="stream"\} 0/,
      /mailroom_wait_looks_total\{at="database"\} [1-9]/,
      /nodejs_eventloop_lag_seconds \d/,
    ]) {
      expect(text).toMatch(series)
    }
    // Paths never become labels: no ids of any kind in the metrics.
    expect(text).not.toMatch(/(inb|msg|tnt|key)_[0-9a-f]{32}/)
    // Long-poll waits are counted but stay out of the latency histogram.
    expect(text).toMatch(/mailroom_http_requests_total\{method="GET",route="\/v1\/inboxes\/:id\/messages\/wait",status="204"\} 1/)
    expect(text).not.toMatch(/duration_seconds_bucket\{[^}]*route="\/v1\/inboxes\/:id\/messages\/wait"/)
  })

  it('types each of its counts as a counter named _total, and nothing else so (rate() treats a restart as a reset only for counters)', async () => {
    const { text } = await client(server.baseUrl, OPERATOR).get('/metrics')
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }))
    // The counts kept elsewhere and read at each scrape among them.
    for (const name of ['mailroom_memory_asks_total', 'mailroom_wait_looks_total', 'mailroom_db_shed_total']) expect(types).toContainEqual({ name, type: 'counter' })
    // Mailroom's own series (prom-client's process metrics name some gauges _total: nodejs_active_handles_total).
    expect(types.filter((t) => t.name.startsWith('mailroom_') && t.name.endsWith('_total') !== (t.type === 'counter'))).toEqual([])
    // Read at each scrape, a count stays what it was: the next scrape neither adds it again nor loses
    // it (the wait in beforeAll looked at the database once; nothing waits since).
    const looks = 'mailroom_wait_looks_total{at="database"}'
    const first = valueOf(text, looks)
    expect(first).toBeGreaterThanOrEqual(1)
    expect(valueOf((await client(server.baseUrl, OPERATOR).get('/metrics')).text, looks)).toBe(first)
  })

  it('counts the asks of each memory kept until a change is announced, answered from memory or by a read', async () => {
    const keys = server.running.deps.keys
    for (let i = 0; i < 400 && !keys.trusted; i++) await new Promise((r) => setTimeout(r, 25))
    const t = await makeTenant(server, 'kept')
    const asks = async (memory: string, answered: string) => {
      const { text } = await client(server.baseUrl, OPERATOR).get('/metrics')
      const n = valueOf(text, `mailroom_memory_asks_total{memory="${memory}",answered="${answered}"}`)
      expect(n, `${memory} ${answered}`).not.toBeNaN()
      return n
    }
    for (const memory of ['routes', 'policies', 'tenant_limits', 'act_as']) expect(await asks(memory, 'database')).toBeGreaterThanOrEqual(0)
    const [read, served] = [await asks('keys', 'database'), await asks('keys', 'memory')]
    for (let i = 0; i < 3; i++) expect((await t.api.get('/v1/me')).status).toBe(200)
    // The first request read the key (the operator's key is not a stored one); the next two were served from memory.
    expect(await asks('keys', 'database')).toBe(read + 1)
    expect(await asks('keys', 'memory')).toBe(served + 2)
  })

  it("times each stage of a received message before its 250: the parse thread's queue, the parse, the batch's queue and its transaction", async () => {
    const { text } = await client(server.baseUrl, OPERATOR).get('/metrics')
    for (const stage of ['parse_wait', 'parse', 'batch_wait', 'commit']) {
      // The one message sent in beforeAll: one observation per stage.
      expect(valueOf(text, `mailroom_ingest_stage_seconds_count{stage="${stage}"}`)).toBe(1)
      const sum = valueOf(text, `mailroom_ingest_stage_seconds_sum{stage="${stage}"}`)
      expect(sum).toBeGreaterThanOrEqual(0)
      expect(sum).toBeLessThan(60)
    }
    // A transaction takes some time: at least its round trips.
    expect(valueOf(text, 'mailroom_ingest_stage_seconds_sum{stage="commit"}')).toBeGreaterThan(0)
  })

  it("times each step of a batch's transaction (its reads, its writes, the COMMIT) and counts its messages", async () => {
    const { text } = await client(server.baseUrl, OPERATOR).get('/metrics')
    // The one message sent in beforeAll went in a batch of its own.
    expect(text).toMatch(/mailroom_ingest_batch_messages_count 1\n/)
    expect(text).toMatch(/mailroom_ingest_batch_messages_sum 1\n/)
    expect(text).toMatch(/mailroom_ingest_batch_messages_bucket\{le="1"\} 1\n/)
    let steps = 0
    for (const step of ['reads', 'writes', 'commit']) {
      expect(valueOf(text, `mailroom_ingest_batch_seconds_count{step="${step}"}`)).toBe(1)
      const sum = valueOf(text, `mailroom_ingest_batch_seconds_sum{step="${step}"}`)
      expect(sum).toBeGreaterThan(0)
      steps += sum
    }
    // The steps are parts of the message's commit stage.
    expect(steps).toBeLessThanOrEqual(valueOf(text, 'mailroom_ingest_stage_seconds_sum{stage="commit"}'))
  })

  it('MAILROOM_METRICS_PORT serves /metrics without a key, and nothing else', async () => {
    const port = server.running.metricsPort!
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(res.status).toBe(200)
    expect(await res.text()).toMatch(/mailroom_http_requests_total/)
    expect((await fetch(`http://127.0.0.1:${port}/v1/inboxes`)).status).toBe(404)
  })
})

describe('tenant labels', () => {
  it('name only the ten busiest tenants of the last full minute, never one series per tenant', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date'] })
    try {
      const m = new Metrics({}, { defaults: false })
      for (let t = 0; t < 15; t++) for (let n = 0; n <= t; n++) m.tenantRequest(`tnt_${String(t).padStart(32, '0')}`)
      expect((await m.render()).body).not.toMatch(/mailroom_top_tenant_requests\{/)
      vi.setSystemTime(Date.UTC(2026, 0, 1, 0, 1, 5))
      const body = (await m.render()).body
      const series = body.split('\n').filter((l) => l.startsWith('mailroom_top_tenant_requests{'))
      expect(series).toHaveLength(10)
      expect(series[0]).toMatch(/tnt_0+14"\} 15/)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('request logs', () => {
  it('one JSON line per request: its id, route, status, duration and tenant', () => {
    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request' && l.route === '/v1/inboxes/:id/messages')
    expect(requests.length).toBeGreaterThanOrEqual(1)
    expect(requests[0]).toMatchObject({ level: 'info', method: 'GET', status: 200, requestId: expect.stringMatching(/^req_/), tenantId: expect.stringMatching(/^tnt_/), ms: expect.any(Number) })
    expect(requests[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT/)
  })
})
