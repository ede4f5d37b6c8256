// scratch (deleted after use): open W waits and take a heap snapshot of the server
import http from 'node:http'
import { startChild } from './server.ts'
import { createInboxesViaApi, createTenantsViaApi } from './api.ts'
import { dropAll } from './db.ts'
import { rssOf, sleep } from './common.ts'
const W = Number(process.argv[2] ?? 2000)
const server = await startChild({ pglite: false })
try {
  const tenants = await createTenantsViaApi(server.baseUrl, server.operatorKey, 2)
  const inboxes = await createInboxesViaApi(server.baseUrl, tenants, W)
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
  const child: any = (server as any)
  const snap = async (name: string) => {
    const cp = (globalThis as any).__child
  }
  await server.stats({ gc: true }); await sleep(500)
  const s0 = await server.stats({ gc: true })
  console.log('before', (rssOf(server.pid)/1048576).toFixed(1), 'heap', (s0.heapUsed/1048576).toFixed(1))
  process.env.SNAP && (await (server as any).snapshot?.('/tmp/before.heapsnapshot'))
  const reqs: http.ClientRequest[] = []
  for (let i = 0; i < W; i++) {
    const r = http.get(`${server.baseUrl}/v1/inboxes/${inboxes[i]!.id}/messages/wait?timeout=30`, { agent, headers: { authorization: `Bearer ${inboxes[i]!.key}` } }, (res) => res.resume())
    reqs.push(r)
    if (i % 200 === 199) await sleep(100)
  }
  while ((await server.stats()).waiters < W) await sleep(50)
  const s1 = await server.stats({ gc: true }); await sleep(500)
  console.log('with', W, (rssOf(server.pid)/1048576).toFixed(1), 'heap', (s1.heapUsed/1048576).toFixed(1), 'per wait KB', ((s1.heapUsed - s0.heapUsed)/W/1024).toFixed(1))
  if (process.env.SNAP) console.log(await (server as any).snapshot('/tmp/with.heapsnapshot'))
  for (const r of reqs) r.destroy()
} finally { await server.stop(); await dropAll() }
process.exit(0)
