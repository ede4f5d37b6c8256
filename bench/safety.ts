// The inbound-safety scorer's CPU cost: a typical ~15 KB newsletter-like message (HTML + text,
// tracked links, a hidden preheader) scored many times, and every message of the labelled set
// (apps/server/test/safety/fixtures), and the message mix bench/ingest.ts sends (so the scorer's
// share of ingest's CPU per message can be read off the two benches). Messages are parsed first by the production parser (not
// timed); then only scoreMessage(scoreInputOf(...)) runs, on one thread, after a warm-up.
// CPU is process.cpuUsage() per batch of at least 200 messages (whole passes), divided by the
// messages scored: the fastest and the median batch are printed.
//
//   pnpm exec tsx bench/safety.ts [--iterations 20000] [--rounds 50] [--warmup 2000]
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import { buildMessages } from './lib/mail.js'
import { awaitQuiet, flags, fmt, int, machineBanner, quietCheck, summarize } from './lib/common.js'
import { createParser, type ParsedMessage } from '../apps/server/src/messages/parser.js'
import { analyze, scoreInputOf, type AuthInput, type ScoreContext, type ScoreInput } from '../apps/server/src/safety/score.js'

const USAGE = `usage: pnpm exec tsx bench/safety.ts [options]
  --iterations <n>  times the typical message is scored (default 20000)
  --rounds <n>      passes over the labelled set (default 50)
  --warmup <n>      scores before each measurement, not counted (default 2000)`

const f = flags({ iterations: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '50' }, warmup: { type: 'string', default: '2000' } }, USAGE)
const ITERATIONS = int(f.iterations, 'iterations')
const ROUNDS = int(f.rounds, 'rounds')
const WARMUP = int(f.warmup, 'warmup', 0)

const FIXTURES = fileURLToPath(new URL('../apps/server/test/safety/fixtures/', import.meta.url))
const CONTEXT: ScoreContext = { tenantDomains: ['mailroom.localhost', 'acme.com'], recipient: 'agent@acme.com' }

/** A newsletter as ESPs send them: table layout, inline styles, a hidden preheader, tracked links. */
async function typicalMessage(): Promise<Buffer> {
  const words = 'the team shipped a faster build pipeline this week and we measured how it behaves on large monorepos with many packages and long test suites'.split(' ')
  const para = (i: number) => Array.from({ length: 60 }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(' ')
  const link = (i: number) => `https://click.devnews-mail.com/ls/click?upn=${Buffer.from(`https://devnews.example.com/articles/${i}?utm_source=newsletter&utm_medium=email`).toString('base64url')}`
  const sections = Array.from({ length: 9 }, (_, i) => `<tr><td style="padding:16px 24px;font-family:Arial,sans-serif;font-size:15px;line-height:22px;color:#333333">
<h2 style="margin:0 0 8px;font-size:18px;color:#111111">Story ${i + 1}: what changed</h2><p style="margin:0 0 12px">${para(i)}.</p>
<p style="margin:0"><a href="${link(i)}" style="color:#1a73e8;text-decoration:none">Read more &rarr;</a></p></td></tr>`).join('\n')
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><style>.mobile{display:none}@media (max-width:600px){.desktop{display:none!important}}</style></head>
<body style="margin:0;background:#f4f4f4"><div style="display:none;max-height:0;overflow:hidden">This week: faster builds, new test runner, and a look at monorepo tooling.${'&#847;&zwnj;&nbsp;'.repeat(40)}</div>
<table width="600" align="center" cellpadding="0" cellspacing="0" style="background:#ffffff"><tr><td bgcolor="#1a73e8" style="padding:20px 24px;color:#ffffff;font-size:22px;font-family:Arial">DevNews Weekly</td></tr>
${sections}
<tr><td style="padding:16px 24px;font-size:11px;color:#888888">You receive this because you subscribed. <a href="https://devnews.example.com/unsubscribe?u=1234">Unsubscribe</a></td></tr></table></body></html>`
  const text = `DevNews Weekly\n\n${Array.from({ length: 9 }, (_, i) => `Story ${i + 1}: what changed\n\n${para(i)}.\n\nRead more: ${link(i)}`).join('\n\n')}\n\nUnsubscribe: https://devnews.example.com/unsubscribe?u=1234\n`
  return new MailComposer({
    from: 'DevNews <news@devnews.example.com>',
    to: 'agent@acme.com',
    subject: 'DevNews Weekly #118: faster builds, new test runner',
    html,
    text,
    headers: { 'List-Unsubscribe': '<https://devnews.example.com/unsubscribe?u=1234>', 'List-Id': 'DevNews <news.devnews.example.com>' },
  })
    .compile()
    .build()
}

/**
 * Scores `inputs` round-robin `count` times in batches: CPU (user + system) per message of the
 * fastest and of the median batch (other work on the machine inflates some batches), wall time per
 * message overall, and each call's wall time for the spread.
 */
function measure(inputs: ScoreInput[], count: number): { cpuMinUs: number; cpuMedianUs: number; wallUs: number; perCall: number[] } {
  for (let i = 0; i < WARMUP; i++) analyze(inputs[i % inputs.length]!)
  const perCall: number[] = []
  const batches: number[] = []
  // Whole passes over the inputs per batch (so every batch scores the same mix of messages), at
  // least 200 messages each: many small batches give the quiet moments of a busy machine a chance.
  const batch = inputs.length * Math.max(1, Math.ceil(200 / inputs.length))
  const wall0 = performance.now()
  let i = 0
  while (i < count) {
    const first = i
    const end = Math.min(count, i + batch)
    const cpu0 = process.cpuUsage()
    for (; i < end; i++) {
      const t = performance.now()
      analyze(inputs[i % inputs.length]!)
      perCall.push((performance.now() - t) * 1000)
    }
    const cpu = process.cpuUsage(cpu0)
    if (end - first === batch) batches.push((cpu.user + cpu.system) / batch)
  }
  const wall = (performance.now() - wall0) * 1000
  batches.sort((a, b) => a - b)
  return { cpuMinUs: batches[0]!, cpuMedianUs: batches[Math.floor(batches.length / 2)]!, wallUs: wall / count, perCall }
}

async function main() {
  console.log(machineBanner('safety: CPU per message of the inbound-safety scorer', 'none (pure function)'))
  console.log(await quietCheck())
  const parser = createParser({ threads: 1 })
  let typical: ParsedMessage
  const set: { file: string; input: ScoreInput }[] = []
  const mix: ScoreInput[] = []
  try {
    for (const m of await buildMessages(200)) mix.push(scoreInputOf(await parser.parse(m.raw, { content: false }), null, CONTEXT))
    const raw = await typicalMessage()
    typical = await parser.parse(raw, { content: false })
    console.log(`typical message: ${(raw.length / 1024).toFixed(1)} KB raw, html ${((typical.html?.length ?? 0) / 1024).toFixed(1)} KB, text ${((typical.text?.length ?? 0) / 1024).toFixed(1)} KB`)
    const manifest = JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8')) as { messages: { file: string; auth?: AuthInput | null }[] }
    for (const m of manifest.messages) {
      const parsed = await parser.parse(readFileSync(`${FIXTURES}${m.file}`), { content: false }).catch(() => null)
      if (parsed) set.push({ file: m.file, input: scoreInputOf(parsed, m.auth ?? null, CONTEXT) })
    }
  } finally {
    await parser.close()
  }

  const typicalInput = scoreInputOf(typical, { spf: 'pass', dkim: 'pass', dmarc: 'pass', dkimDomains: ['devnews.example.com'] }, CONTEXT)
  const { stats } = analyze(typicalInput)
  console.log(`typical message work: ${stats.examinedChars} characters examined, ${stats.ruleRuns} rule patterns run, ${stats.htmlTags} tags`)

  console.log(await awaitQuiet(60_000))
  const a = measure([typicalInput], ITERATIONS)
  const sa = summarize(a.perCall)
  console.log(await awaitQuiet(60_000))
  const b = measure(
    set.map((s) => s.input),
    set.length * ROUNDS,
  )
  const sb = summarize(b.perCall)
  // The slowest messages of the set (mean over the rounds), to see where the cost is.
  const perFile = set.map((s, i) => {
    let total = 0
    for (let k = i; k < b.perCall.length; k += set.length) total += b.perCall[k]!
    return { file: s.file, us: total / ROUNDS }
  })
  perFile.sort((x, y) => y.us - x.us)
  console.log(await awaitQuiet(60_000))
  const c = measure(mix, mix.length * ROUNDS)
  const sc = summarize(c.perCall)

  console.log('')
  console.log('| measure | CPU per message: fastest / median batch | wall per message: mean / p50 / p99 / max |')
  console.log('|---|---|---|')
  console.log(`| typical ~15 KB newsletter, ${ITERATIONS} scores | **${fmt(a.cpuMinUs / 1000, 3)}** / ${fmt(a.cpuMedianUs / 1000, 3)} ms | ${fmt(a.wallUs / 1000, 3)} / ${fmt(sa.p50 / 1000, 3)} / ${fmt(sa.p99 / 1000, 3)} / ${fmt(sa.max / 1000, 3)} ms |`)
  console.log(`| labelled set, ${set.length} messages x ${ROUNDS} rounds | **${fmt(b.cpuMinUs / 1000, 3)}** / ${fmt(b.cpuMedianUs / 1000, 3)} ms | ${fmt(b.wallUs / 1000, 3)} / ${fmt(sb.p50 / 1000, 3)} / ${fmt(sb.p99 / 1000, 3)} / ${fmt(sb.max / 1000, 3)} ms |`)
  console.log(`| bench/ingest.ts's mix, ${mix.length} messages x ${ROUNDS} rounds | **${fmt(c.cpuMinUs / 1000, 3)}** / ${fmt(c.cpuMedianUs / 1000, 3)} ms | ${fmt(c.wallUs / 1000, 3)} / ${fmt(sc.p50 / 1000, 3)} / ${fmt(sc.p99 / 1000, 3)} / ${fmt(sc.max / 1000, 3)} ms |`)
  console.log('')
  console.log('slowest in the set (mean wall per score):')
  for (const p of perFile.slice(0, 5)) console.log(`  ${fmt(p.us / 1000, 3)} ms  ${p.file}`)
}

await main()
