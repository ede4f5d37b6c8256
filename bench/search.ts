// Search latency as one inbox grows: GET /v1/inboxes/{id}/search (blind index, GIN) timed at each
// size for words of very different frequencies, so a query whose cost follows the mailbox instead of
// the page shows as a ratio between the columns.
//
// The inbox is filled by inserting rows in bulk (messages with sealed subjects and previews, and
// their blind-index rows computed with the tenant's key exactly as ingest does), since putting
// 100,000 messages through SMTP and the parser would measure ingest, not search. Each message holds
// 80 words drawn from a 20,000-word vocabulary with Zipf frequencies (rank r drawn with weight 1/r),
// as natural text roughly does: the rank-5 word is in most messages, the rank-100 word in about 7%,
// the rank-5000 word in about 0.15%.
//
//   pnpm exec tsx bench/search.ts [--sizes 1000,10000,100000] [--repeat 30]
import { performance } from 'node:perf_hooks'
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { flags, fmt, int, machineBanner, quietCheck, runAgainWithStartFlags, summarize } from './lib/common.js'
import { startInProcess } from './lib/server.js'
import { call } from './lib/api.js'
import { analyzeLikeAutovacuum, dropAll, runBench } from './lib/db.js'
import { fromPublicId } from '../apps/server/src/lib/ids.js'
import { withTenant } from '../apps/server/src/db/scope.js'
import { ctx } from '../apps/server/src/messages/service.js'

const USAGE = `usage: pnpm exec tsx bench/search.ts [options]
  --sizes <a,b,...>   messages in the inbox at each measurement, increasing (default 1000,10000,100000)
  --repeat <n>        times each search is timed at each size (default 30)
  (real Postgres only: BENCH_DATABASE_URL, default the local one)`

const f = flags({ sizes: { type: 'string', default: '1000,10000,100000' }, repeat: { type: 'string', default: '30' } }, USAGE)
// The server runs in this process: with its start flags, as `pnpm start` runs it.
runAgainWithStartFlags()
const SIZES = f.sizes.split(',').map((s) => int(s.trim(), 'sizes'))
const REPEAT = int(f.repeat, 'repeat')
if (SIZES.some((s, i) => i > 0 && s <= SIZES[i - 1]!)) {
  console.error(`--sizes must increase\n${USAGE}`)
  process.exit(2)
}

const VOCABULARY = 20_000
const WORDS_PER_MESSAGE = 80
const SENDERS = 100
/** Word of rank r (1-based): letters only, so the normaliser keeps it whole. */
function word(r: number): string {
  let out = ''
  for (let n = r; n > 0; n = Math.floor(n / 26)) out = String.fromCharCode(97 + (n % 26)) + out
  return `w${out}x`
}

// A deterministic generator (mulberry32), so every run fills the same inbox.
function rng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Zipf(1) by inverse CDF over the cumulative weights.
const cumulative: number[] = []
{
  let sum = 0
  for (let r = 1; r <= VOCABULARY; r++) cumulative.push((sum += 1 / r))
}
function drawRank(u: number): number {
  const target = u * cumulative[cumulative.length - 1]!
  let lo = 0
  let hi = cumulative.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cumulative[mid]! < target) lo = mid + 1
    else hi = mid
  }
  return lo + 1
}

async function main() {
  const server = await startInProcess({ pglite: false })
  console.log(machineBanner('search: blind-index search as one inbox grows', server.database))
  console.log(await quietCheck())
  const owner = postgres(server.ownerUrl!, { max: 1, onnotice: () => {} })
  try {
    const tenant = await server.makeTenant('search')
    const inbox = await server.makeInbox(tenant.id, 'agent')
    const tenantId = fromPublicId('tenant', tenant.id)!
    const inboxId = fromPublicId('inbox', inbox.id)!
    const { database, crypto } = server.running.deps
    const cipher = await withTenant(database, { tenantId }, (tx) => crypto.cipher(tx, tenantId))
    // Each word's keyed hash once (as ingest would compute it for every message holding it).
    // (One word at a time: a message's own list is capped, see MAX_TERMS.)
    const termOf = Array.from({ length: VOCABULARY }, (_, i) => cipher.blindTerms(inboxId, [word(i + 1)])[0]!)
    // One raw row all the bulk messages point at (the raw bytes play no part in search).
    const rawId = randomUUID()
    const exec = (text: string, params: unknown[]) => owner.unsafe(text, params as never[])
    await exec(`insert into raw_messages (tenant_id, id, data_enc, size, sha256) values ($1, $2, '\\x00', 1, 'bench')`, [tenantId, rawId])

    const random = rng(42)
    const start = Date.now() - 400 * 86_400_000
    let stored = 0
    const fill = async (upTo: number) => {
      const CHUNK = 2000
      while (stored < upTo) {
        const n = Math.min(CHUNK, upTo - stored)
        const msgs: unknown[] = []
        const search: unknown[] = []
        for (let i = 0; i < n; i++) {
          const id = randomUUID()
          const seq = stored + i
          const ranks = new Set<number>()
          for (let w = 0; w < WORDS_PER_MESSAGE; w++) ranks.add(drawRank(random()))
          const words = [...ranks].map(word)
          const subject = words.slice(0, 6).join(' ')
          msgs.push({
            id,
            from_address: `sender${seq % SENDERS}@example.com`,
            subject_enc: cipher.seal(ctx.subject(id), subject).toString('base64'),
            preview_enc: cipher.seal(ctx.preview(id), words.join(' ').slice(0, 200)).toString('base64'),
            received_at: new Date(start + seq * 60_000).toISOString(),
          })
          search.push({ message_id: id, terms: [...ranks].map((r) => termOf[r - 1]!) })
        }
        await exec(
          `insert into messages (tenant_id, id, inbox_id, raw_id, direction, status, parse_status, from_address, to_addresses, size, subject_enc, preview_enc, received_at, seq)
           select $1, x.id, $2, $3, 'inbound', 'received', 'parsed', x.from_address, array[$4], 2000, decode(x.subject_enc, 'base64'), decode(x.preview_enc, 'base64'), x.received_at, null
           from json_to_recordset($5::text::json) as x(id uuid, from_address text, subject_enc text, preview_enc text, received_at timestamptz)`,
          [tenantId, inboxId, rawId, inbox.address, JSON.stringify(msgs)],
        )
        await exec(
          `insert into message_search (tenant_id, message_id, inbox_id, terms)
           select $1, x.message_id, $2, x.terms from json_to_recordset($3::text::json) as x(message_id uuid, terms bigint[])`,
          [tenantId, inboxId, JSON.stringify(search)],
        )
        stored += n
      }
    }

    const get = async (path: string) => {
      const t = performance.now()
      const res = await call(server.baseUrl, inbox.key, 'GET', path)
      const ms = performance.now() - t
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`)
      return { ms, body: res.body as { data: unknown[]; nextCursor: string | null } }
    }
    const base = `/v1/inboxes/${inbox.id}/search?limit=20`
    const queries: [string, string][] = [
      ['a word in most messages (rank 5)', `${base}&q=${word(5)}`],
      ['a word in ~7% (rank 100)', `${base}&q=${word(100)}`],
      ['a word in ~0.15% (rank 5000)', `${base}&q=${word(5000)}`],
      ['a word in no message', `${base}&q=nosuchword`],
      ['two words, ~7% and ~2% (ranks 100, 400)', `${base}&q=${word(100)}%20${word(400)}`],
      ['rank 5 word, from a sender with 1%', `${base}&q=${word(5)}&from=sender7@example.com`],
      ['rank 100 word, second page', ''],
    ]
    const results = new Map<string, string[]>()
    const p50s = new Map<string, number[]>()
    const hits = new Map<string, number[]>()
    for (const size of SIZES) {
      process.stdout.write(`filling the inbox to ${size.toLocaleString('en')} messages... `)
      const t = performance.now()
      await fill(size)
      console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`)
      await analyzeLikeAutovacuum(server.ownerUrl)
      for (const [name, q] of queries) {
        const path = q || `${base}&q=${word(100)}&after=${(await get(`${base}&q=${word(100)}`)).body.nextCursor ?? ''}`
        const first = await get(path) // a first call that prepares the statements
        hits.set(name, [...(hits.get(name) ?? []), first.body.data.length])
        const times: number[] = []
        for (let i = 0; i < REPEAT; i++) times.push((await get(path)).ms)
        const s = summarize(times)
        results.set(name, [...(results.get(name) ?? []), `${fmt(s.p50, 1)} / ${fmt(s.p95, 1)}`])
        p50s.set(name, [...(p50s.get(name) ?? []), s.p50])
      }
    }
    console.log(`\nsearch time in ms (p50 / p95 of ${REPEAT}, HTTP on loopback, inbox key, limit 20), by messages in the inbox:`)
    console.log(`| query | ${SIZES.map((s) => `${s.toLocaleString('en')} messages`).join(' | ')} | p50 at ${SIZES.at(-1)!.toLocaleString('en')} / at ${SIZES[0]!.toLocaleString('en')} |`)
    console.log(`|---|${SIZES.map(() => '---|').join('')}---|`)
    for (const [name] of queries) {
      const p = p50s.get(name)!
      console.log(`| ${name} | ${results.get(name)!.join(' | ')} | ${fmt(p.at(-1)! / p[0]!, 2)}x |`)
    }
    console.log(`\nresults on the page at each size: ${[...hits].map(([n, h]) => `${n}: ${h.join('/')}`).join('; ')}`)
  } finally {
    await owner.end({ timeout: 5 })
    await server.stop()
    await dropAll()
  }
}

runBench(main)
