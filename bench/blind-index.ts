// The blind index's cost per message, on the main thread where ingest runs it: the searchable words
// of the message mix bench/ingest.ts sends (parsed by the production parser first, not timed), then
// hashed for one inbox per message as blindTerms does (crypto/blind-index.ts: HMAC-SHA-256 in
// JavaScript, hmac48.ts) and, for comparison, through node:crypto's createHmac (what it replaced;
// the same hashes, checked). Inboxes are taken round-robin, 20 (the ingest bench's) or many.
//
//   pnpm exec tsx bench/blind-index.ts [--messages 10000] [--inboxes 20,1000]
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { buildMessages } from './lib/mail.js'
import { awaitQuiet, flags, fmt, int, machineBanner, quietCheck } from './lib/common.js'
import { createParser } from '../apps/server/src/messages/parser.js'
import { blindTerms } from '../apps/server/src/crypto/blind-index.js'
import { searchableWords } from '../apps/server/src/messages/search.js'

const USAGE = `usage: pnpm exec tsx bench/blind-index.ts [options]
  --messages <n>    messages hashed per measurement (default 10000), after 2,000 not counted
  --inboxes <a,b>   inbox counts the messages are spread over, round-robin (default 20,1000)`

const f = flags({ messages: { type: 'string', default: '10000' }, inboxes: { type: 'string', default: '20,1000' } }, USAGE)
const N = int(f.messages, 'messages')
const INBOXES = f.inboxes.split(',').map((s) => int(s.trim(), 'inboxes'))

/** node:crypto, one HMAC object per word: the hashes blindTerms must equal. */
function nodeCryptoTerms(key: Buffer, inboxId: string, words: Iterable<string>): number[] {
  const seen = new Set<string>()
  const out: number[] = []
  for (const w of words) {
    if (seen.has(w)) continue
    seen.add(w)
    out.push(createHmac('sha256', key).update(inboxId).update('\u0000').update(w, 'utf8').digest().readUIntBE(0, 6))
  }
  return out
}

function cpuUsPerMessage(run: (i: number) => void): number {
  for (let i = 0; i < 2000; i++) run(i)
  const c0 = process.cpuUsage()
  for (let i = 0; i < N; i++) run(i)
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / N
}

async function main() {
  console.log(machineBanner('blind-index: CPU per message of hashing its searchable words', 'none (pure function)'))
  console.log(await quietCheck())
  const parser = createParser({ threads: 1 })
  const words: string[][] = []
  try {
    for (const m of await buildMessages(200)) {
      const p = await parser.parse(m.raw, { content: false })
      words.push([...searchableWords(p)])
    }
  } finally {
    await parser.close()
  }
  const distinct = words.reduce((n, w) => n + new Set(w).size, 0) / words.length
  console.log(`messages: bench/ingest.ts's mix, ${words.length} different ones; ${fmt(words.reduce((n, w) => n + w.length, 0) / words.length, 0)} words each, ${fmt(distinct, 0)} distinct (each hashed once)`)
  const key = randomBytes(32)
  const inboxIds = Array.from({ length: Math.max(...INBOXES) }, () => randomUUID())
  // Every message once, each under one of the inboxes (fewer inboxes than messages: --inboxes 20).
  for (let i = 0; i < words.length; i++) {
    const inboxId = inboxIds[i % inboxIds.length]!
    if (JSON.stringify(blindTerms(key, inboxId, words[i]!)) !== JSON.stringify(nodeCryptoTerms(key, inboxId, words[i]!))) throw new Error('blindTerms differs from node:crypto')
  }
  console.log('check: blindTerms gives node:crypto HMAC-SHA-256 for every message')
  console.log('')
  console.log('| inboxes | blindTerms (JavaScript HMAC) | node:crypto createHmac per word |')
  console.log('|---|---|---|')
  for (const inboxes of INBOXES) {
    const quiet = await awaitQuiet(30_000)
    if (quiet) console.log(quiet)
    const js = cpuUsPerMessage((i) => blindTerms(key, inboxIds[i % inboxes]!, words[i % words.length]!))
    const node = cpuUsPerMessage((i) => nodeCryptoTerms(key, inboxIds[i % inboxes]!, words[i % words.length]!))
    console.log(`| ${inboxes} | **${fmt(js, 0)} µs** per message (${fmt(js / distinct, 2)} µs a word) | ${fmt(node, 0)} µs (${fmt(node / distinct, 2)} µs a word) |`)
  }
}

await main()
