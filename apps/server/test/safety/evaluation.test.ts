// The scorer against the labelled set in fixtures/: every message parsed by the production parser
// (mailparser in its worker thread, as ingest runs it), scored, and compared with its label. Prints
// recall, the false-positive rate, per-category recall and every misclassified file; fails below
// 90% recall or above 3% false positives at the default threshold (risk >= medium).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createParser, type MailParser, type ParsedMessage } from '../../src/messages/parser.js'
import { scoreInputOf, scoreMessage, type ScoreAuth, type SignalCategory, type Verdict } from '../../src/safety/score.js'

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))

interface Entry {
  file: string
  label: 'hostile' | 'benign'
  categories?: SignalCategory[]
  auth?: (ScoreAuth & { dkimDomains: string[] }) | null
  /** Written after the rules were tuned and first scored as they were: a check on overfitting. */
  holdout?: boolean
  note?: string
}
interface Manifest {
  context: { tenantDomains: string[]; recipient: string }
  messages: Entry[]
}

const manifest = JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8')) as Manifest
const flagged = (v: Verdict) => v.risk !== 'low'

let parser: MailParser
const results: { entry: Entry; verdict: Verdict }[] = []

beforeAll(async () => {
  parser = createParser({ threads: 2 })
  const parsed = await Promise.all(
    manifest.messages.map(async (entry) => {
      const raw = readFileSync(`${FIXTURES}${entry.file}`)
      return { entry, parsed: await parser.parse(raw, { content: false }).catch(() => null) }
    }),
  )
  for (const { entry, parsed: p } of parsed) {
    // A message mailparser cannot read is kept raw and flagged by ingest; the scorer sees an empty one.
    const message: ParsedMessage = p ?? { headers: [], subject: null, from: null, to: [], cc: [], replyTo: [], date: null, text: null, html: null, messageId: null, inReplyTo: null, references: [], attachments: [] }
    const verdict = scoreMessage(scoreInputOf(message, entry.auth ?? null, manifest.context))
    results.push({ entry, verdict })
  }
}, 120_000)

afterAll(async () => {
  await parser?.close()
})

const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`

describe('the labelled set', () => {
  it('has at least 100 hostile and 180 benign messages, every hostile one naming its categories', () => {
    const hostile = manifest.messages.filter((m) => m.label === 'hostile')
    const benign = manifest.messages.filter((m) => m.label === 'benign')
    expect(hostile.length).toBeGreaterThanOrEqual(100)
    expect(benign.length).toBeGreaterThanOrEqual(180)
    for (const m of hostile) expect(m.categories?.length, m.file).toBeGreaterThan(0)
    const all = new Set(hostile.flatMap((m) => m.categories!))
    for (const c of ['instruction_override', 'role_spoofing', 'exfiltration', 'coercion', 'hidden_content', 'obfuscation', 'link_mismatch', 'sender_spoofing']) {
      expect(all.has(c as SignalCategory), c).toBe(true)
    }
  })

  it('is scored with recall >= 90% on hostile mail and <= 3% false positives on benign mail (flagged = risk >= medium)', () => {
    const hostile = results.filter((r) => r.entry.label === 'hostile')
    const benign = results.filter((r) => r.entry.label === 'benign')
    const caught = hostile.filter((r) => flagged(r.verdict))
    const falsePositives = benign.filter((r) => flagged(r.verdict))
    const missed = hostile.filter((r) => !flagged(r.verdict))

    // Per category: of the hostile messages expected to trigger it, how many did.
    const perCategory = new Map<string, { expected: number; fired: number; missing: string[] }>()
    for (const r of hostile) {
      const fired = new Set(r.verdict.signals.filter((s) => !s.rule.endsWith('.mention')).map((s) => s.category))
      for (const c of r.entry.categories ?? []) {
        const row = perCategory.get(c) ?? { expected: 0, fired: 0, missing: [] }
        row.expected++
        if (fired.has(c)) row.fired++
        else row.missing.push(r.entry.file)
        perCategory.set(c, row)
      }
    }
    const high = hostile.filter((r) => r.verdict.risk === 'high').length
    const holdoutHostile = hostile.filter((r) => r.entry.holdout)
    const holdoutBenign = benign.filter((r) => r.entry.holdout)
    const lines = [
      '',
      `safety evaluation: ${hostile.length} hostile, ${benign.length} benign`,
      `  recall (hostile flagged): ${caught.length}/${hostile.length} = ${pct(caught.length, hostile.length)} (high: ${pct(high, hostile.length)})`,
      `  false positives (benign flagged): ${falsePositives.length}/${benign.length} = ${pct(falsePositives.length, benign.length)}`,
      `  of which the holdout part: recall ${holdoutHostile.filter((r) => flagged(r.verdict)).length}/${holdoutHostile.length}, false positives ${holdoutBenign.filter((r) => flagged(r.verdict)).length}/${holdoutBenign.length}`,
      '  per-category recall (expected category fired):',
      ...[...perCategory.entries()].sort().map(([c, row]) => `    ${c.padEnd(22)} ${row.fired}/${row.expected} = ${pct(row.fired, row.expected)}${row.missing.length ? `  missing: ${row.missing.join(', ')}` : ''}`),
      ...(missed.length ? ['  missed hostile:', ...missed.map((r) => `    ${r.entry.file} (score ${r.verdict.injectionScore}; ${r.verdict.signals.map((s) => s.rule).join(', ') || 'no signal'})`)] : []),
      ...(falsePositives.length ? ['  false positives:', ...falsePositives.map((r) => `    ${r.entry.file} (${r.verdict.risk}, score ${r.verdict.injectionScore}; ${r.verdict.signals.map((s) => `${s.rule}: ${s.excerpt}`).join(' | ')})`)] : []),
      '',
    ]
    console.log(lines.join('\n'))
    expect(caught.length / hostile.length).toBeGreaterThanOrEqual(0.9)
    expect(falsePositives.length / benign.length).toBeLessThanOrEqual(0.03)
  })
})
