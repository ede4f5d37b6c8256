// Webhook test kit: a Mailroom process with webhook tuning, and a real HTTP receiver on loopback
// that records every request and answers as the test tells it to (a status, or hang).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../../src/lib/log.js'
import type { StartOptions } from '../../src/server.js'
import type { TestDb } from '@mailroom/testkit/db'
import { startTestServer, type TestServer } from '@mailroom/testkit/server'
import type { Config } from '../../src/config.js'

export async function startWebhookServer(
  opts: { config?: Partial<Config>; webhooks?: StartOptions['webhooks']; db?: TestDb; resolver?: StartOptions['resolver']; delivery?: StartOptions['delivery']; log?: Logger } = {},
): Promise<TestServer> {
  return startTestServer({
    ...opts,
    config: { webhookAllowPrivate: 'loopback', ...opts.config },
    webhooks: { pollMs: 100, retryBaseMs: 50, retryMaxMs: 200, ...opts.webhooks },
  })
}

export interface Hit {
  path: string
  headers: IncomingHttpHeaders
  body: string
  json: any
  at: number
  /** When the connection ended (answered, or dropped by the client, e.g. at its timeout). */
  closedAt?: number
}

export interface Receiver {
  url: string
  hits: Hit[]
  /** Answer for the n-th request (1-based) on a path: a status code, or 'hang' (never answers). */
  rule: (hit: Hit, n: number) => number | 'hang'
  waitFor(n: number, timeoutMs?: number, path?: string): Promise<Hit[]>
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const counts = new Map<string, number>()
  const hanging = new Set<import('node:http').ServerResponse>()
  const r: Receiver = {
    url: '',
    hits: [],
    rule: () => 200,
    async waitFor(n, timeoutMs = 15_000, path) {
      const end = Date.now() + timeoutMs
      for (;;) {
        const got = r.hits.filter((h) => !path || h.path === path)
        if (got.length >= n) return got
        if (Date.now() > end) throw new Error(`receiver: ${got.length}/${n} requests${path ? ` on ${path}` : ''} after ${timeoutMs} ms`)
        await new Promise((res) => setTimeout(res, 20))
      }
    },
    close: async () => {},
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let json: unknown = null
      try {
        json = JSON.parse(body)
      } catch {
        /* not JSON */
      }
      const hit: Hit = { path: req.url ?? '/', headers: req.headers, body, json, at: Date.now() }
      const n = (counts.get(hit.path) ?? 0) + 1
      counts.set(hit.path, n)
      r.hits.push(hit)
      res.once('close', () => (hit.closedAt = Date.now()))
      const answer = r.rule(hit, n)
      if (answer === 'hang') {
        hanging.add(res)
        return
      }
      res.writeHead(answer, { 'content-type': 'text/plain' })
      res.end(answer >= 300 ? 'receiver says no' : 'ok')
    })
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()))
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  r.close = async () => {
    for (const res of hanging) res.destroy()
    server.closeAllConnections()
    await new Promise<void>((ok) => server.close(() => ok()))
  }
  return r
}
