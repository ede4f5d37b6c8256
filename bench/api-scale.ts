// The messages API as an inbox grows: the same requests timed on one inbox at each size, so a
// request whose cost follows the mailbox instead of the page shows as a ratio between the columns.
//
//   pnpm exec tsx bench/api-scale.ts [--sizes 1000,10000] [--repeat 30] [--pglite]
import { performance } from 'node:perf_hooks'
import { flags, fmt, int, machineBanner, quietCheck, runAgainWithStartFlags, summarize } from './lib/common.js'
import { buildMessages } from './lib/mail.js'
import { startInProcess } from './lib/server.js'
import { call } from './lib/api.js'
import { analyzeLikeAutovacuum, dropAll, runBench } from './lib/db.js'
import { fromPublicId } from '../apps/server/src/lib/ids.js'

const USAGE = `usage: pnpm exec tsx bench/api-scale.ts [options]
  --sizes <a,b,...>   messages in the inbox at each measurement, increasing (default 1000,10000)
  --repeat <n>        times each request is timed at each size (default 30)
  --pglite            embedded PGlite instead of the local Postgres`

const f = flags({ sizes: { type: 'string', default: '1000,10000' }, repeat: { type: 'string', default: '30' }, pglite: { type: 'boolean', default: false } }, USAGE)
// The server runs in this process: with its start flags, as `pnpm start` runs it.
runAgainWithStartFlags()
const SIZES = f.sizes.split(',').map((s) => int(s.trim(), 'sizes'))
const REPEAT = int(f.repeat, 'repeat')
if (SIZES.some((s, i) => i > 0 && s <= SIZES[i - 1]!)) {
  console.error(`--sizes must increase\n${USAGE}`)
  process.exit(2)
}

async function main() {
  const server = await startInProcess({ pglite: f.pglite })
  console.log(machineBanner('api-scale: the messages API as one inbox grows', server.database))
  console.log(await quietCheck())
  try {
    const tenant = await server.makeTenant('scale')
    const inbox = await server.makeInbox(tenant.id, 'agent')
    const recipient = { tenantId: fromPublicId('tenant', tenant.id)!, inboxId: fromPublicId('inbox', inbox.id)!, address: inbox.address }
    const env = { mailFrom: 'sender@example.com', remoteIp: '127.0.0.1', helo: 'bench.example' }
    const get = async (path: string) => {
      const t = performance.now()
      const res = await call(server.baseUrl, inbox.key, 'GET', path)
      const ms = performance.now() - t
      if (res.status !== 200 && res.status !== 204) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`)
      return { ms, body: res.body }
    }
    const base = `/v1/inboxes/${inbox.id}`
    // Each sender of the mix (sender0..sender96) wrote about 1% of the mail; nobody@ none of it.
    const requests: [string, () => Promise<string>][] = [
      ['newest 20', async () => `${base}/messages?limit=20`],
      ['?from= a sender with 1% of the mail', async () => `${base}/messages?limit=20&from=sender5@example.com`],
      ['?from= a sender with none', async () => `${base}/messages?limit=20&from=nobody@example.com`],
      ['?to= an address with none (bounded scan)', async () => `${base}/messages?limit=20&to=nobody@example.com`],
      ['?subject= text no subject has (bounded scan)', async () => `${base}/messages?limit=20&subject=no-such-words`],
      ['threads, newest 20', async () => `${base}/threads?limit=20`],
      ['one message', async () => `${base}/messages/${(await get(`${base}/messages?limit=1`)).body.data[0].id}`],
      ['wait, nothing new (timeout=0)', async () => `${base}/messages/wait?timeout=0`],
    ]
    const results = new Map<string, string[]>()
    const p50s = new Map<string, number[]>()
    let stored = 0
    for (const size of SIZES) {
      process.stdout.write(`filling the inbox to ${size} messages... `)
      const msgs = await buildMessages(size - stored, { to: inbox.address, seed: size })
      const t = performance.now()
      // Straight into ingest, as many at once as the SMTP bench's 16 connections would.
      for (let i = 0; i < msgs.length; i += 16) {
        await Promise.all(msgs.slice(i, i + 16).map((m) => server.running.deps.ingest.accept([recipient], m.raw, env)))
      }
      await server.running.deps.ingest.idle()
      stored = size
      console.log(`${((msgs.length / (performance.now() - t)) * 1000).toFixed(0)} msgs/s`)
      await analyzeLikeAutovacuum(server.ownerUrl)
      for (const [name, path] of requests) {
        const p = await path()
        await get(p) // a first call that prepares the statements
        const times: number[] = []
        for (let i = 0; i < REPEAT; i++) times.push((await get(p)).ms)
        const s = summarize(times)
        results.set(name, [...(results.get(name) ?? []), `${fmt(s.p50, 2)} / ${fmt(s.p95, 2)}`])
        p50s.set(name, [...(p50s.get(name) ?? []), s.p50])
      }
    }
    console.log(`\nrequest time in ms (p50 / p95 of ${REPEAT}, HTTP on loopback, inbox key), by messages in the inbox:`)
    console.log(`| request | ${SIZES.map((s) => `${s.toLocaleString('en')} messages`).join(' | ')} | p50 at ${SIZES.at(-1)!.toLocaleString('en')} / at ${SIZES[0]!.toLocaleString('en')} |`)
    console.log(`|---|${SIZES.map(() => '---|').join('')}---|`)
    for (const [name] of requests) {
      const p = p50s.get(name)!
      console.log(`| ${name} | ${results.get(name)!.join(' | ')} | ${fmt(p.at(-1)! / p[0]!, 2)}x |`)
    }
  } finally {
    await server.stop()
    await dropAll()
  }
}

runBench(main)
