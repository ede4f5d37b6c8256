// A tiny JSON client for the setup calls (tenants, inboxes); the measured paths use the SDK or raw HTTP.
import { mapLimit } from './common.js'

export async function call(baseUrl: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers }
}

export interface InboxFixture {
  id: string
  address: string
  key: string
  tenantKey: string
}

/** Top-level tenants through the operator key (POST /v1/tenants), like an operator would. */
export async function createTenantsViaApi(baseUrl: string, operatorKey: string, n: number): Promise<{ id: string; key: string }[]> {
  return mapLimit(Array.from({ length: n }, (_, i) => i), 4, async (i) => {
    const res = await call(baseUrl, operatorKey, 'POST', '/v1/tenants', { name: `bench-${i}` })
    if (res.status !== 201) throw new Error(`create tenant: ${res.status} ${JSON.stringify(res.body)}`)
    return { id: res.body.id as string, key: res.body.apiKey as string }
  })
}

/** `n` inboxes spread over the tenants, each with its own inbox key. */
export async function createInboxesViaApi(
  baseUrl: string,
  tenants: { key: string }[],
  n: number,
  opts: { concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<InboxFixture[]> {
  let done = 0
  return mapLimit(Array.from({ length: n }, (_, i) => i), opts.concurrency ?? 16, async (i) => {
    const tenantKey = tenants[i % tenants.length]!.key
    const res = await call(baseUrl, tenantKey, 'POST', '/v1/inboxes', { name: `agent-${i}`, createKey: true })
    if (res.status !== 201) throw new Error(`create inbox: ${res.status} ${JSON.stringify(res.body)}`)
    if (++done % 1000 === 0) opts.onProgress?.(done)
    return { id: res.body.id, address: res.body.address, key: res.body.apiKey, tenantKey }
  })
}

/** Every message of an inbox, walking the pages (100 a page). */
export async function listAll(baseUrl: string, key: string, inboxId: string): Promise<any[]> {
  const out: any[] = []
  let after: string | null = null
  for (let page = 0; page < 10_000; page++) {
    const q: string = `?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`
    const res = await call(baseUrl, key, 'GET', `/v1/inboxes/${inboxId}/messages${q}`)
    if (res.status !== 200) throw new Error(`list messages: ${res.status} ${JSON.stringify(res.body)}`)
    out.push(...res.body.data)
    after = res.body.nextCursor
    if (!after) break
  }
  return out
}
