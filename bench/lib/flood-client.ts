// The flooding tenant of bench/flood.ts, in a process of its own so its loops do not share the
// measuring process's event loop: `concurrency` clients, each sending the next request the moment
// the previous answer is in, for `seconds`. By default they ignore 429 and Retry-After, as a
// runaway agent would; with `polite` they wait as the SDK does. Reports status counts over IPC.
import { Agent, request } from 'node:http'

interface Order {
  baseUrl: string
  key: string
  path: string
  concurrency: number
  seconds: number
  polite: boolean
}

process.once('message', async (o: Order) => {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency })
  const get = () =>
    new Promise<{ status: number; retryAfter: number }>((resolve, reject) => {
      const req = request(o.baseUrl + o.path, { agent, headers: { authorization: `Bearer ${o.key}` } }, (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: Number(res.headers['retry-after'] ?? 0) }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
  const statuses: Record<string, number> = {}
  const end = Date.now() + o.seconds * 1000
  const one = async () => {
    while (Date.now() < end) {
      let status = 'error'
      let retryAfter = 0
      try {
        const res = await get()
        status = String(res.status)
        retryAfter = res.retryAfter
      } catch {
        /* counted as error */
      }
      statuses[status] = (statuses[status] ?? 0) + 1
      if (o.polite && retryAfter > 0) await new Promise((r) => setTimeout(r, retryAfter * 1000))
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, one))
  process.send!({ type: 'done', statuses })
})
