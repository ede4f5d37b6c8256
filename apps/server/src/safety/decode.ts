// Encoded blocks worth reading: base64, hex, URL-encoding, HTML entities written in plain text,
// rot13 and reversed text. Each decoder keeps only output that reads as text, and all of them
// together decode at most MAX_DECODED characters per field, so a message of base64 costs little.
import { decodeEntities } from './html.js'

export interface Decoded {
  kind: 'base64' | 'hex' | 'url-encoding' | 'entities' | 'rot13' | 'reversed'
  /** Where the encoded block is in the original. */
  start: number
  end: number
  text: string
}

const MAX_BLOCKS = 24
const MAX_DECODED = 64 * 1024
const MAX_BLOCK = 16 * 1024

// Hex written with separators or escapes: "69 67 6e ...", "69:67:6e", "\\x69\\x67", "0x69, 0x67".
const HEX_SEPARATED = /(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}[ :]){11,}[0-9a-fA-F]{2}|(?:(?:\\x|0x)[0-9a-fA-F]{2}[\s,]{0,2}){8,}/g
const HEX_SEPARATED_HINT = /[0-9a-fA-F]{2}[ :][0-9a-fA-F]{2}[ :][0-9a-fA-F]{2}[ :][0-9a-fA-F]{2}|\\x[0-9a-fA-F]{2}|0x[0-9a-fA-F]{2}/
const TOKEN = /\S{6,4000}/g
const PERCENT = /%[0-9a-fA-F]{2}/g
const ENTITY_COUNT = /&#x?[0-9a-f]{1,6};/gi
// Words of instructions in rot13 (group 1) or written backwards (group 2): one scan finds either.
const ROT13_OR_REVERSED = /\b(?:(vtaber|qvfertneq|vafgehpgvbaf|cerivbhf|flfgrz cebzcg|cnffjbeqf?|sbejneq|perqragvnyf|vtabevrer|najrvfhatra|bhoyvr|vafgehppvbarf)|(erongi|dragersid|snoitcurtsni|suoiverp|tpmorp metsys|sdrowssap|drawrof|slaitnederc))\b/g

/** Share of characters that are printable text; binary decodes score low. */
function readable(s: string): boolean {
  if (s.length < 8) return false
  let good = 0
  let letters = 0
  let spaces = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x20) spaces++
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) letters++
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 || (c >= 0xa0 && c !== 0xfffd)) good++
  }
  return good / s.length >= 0.95 && letters / s.length >= 0.5 && spaces >= 2
}

function rot13(s: string): string {
  return s.replace(/[a-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - 97 + 13) % 26) + 97))
}

/**
 * Decoded blocks of `original` that read as text. `folded` (lower case, see text.ts) is only used
 * to spot rot13 and reversed words cheaply.
 */
export function decodedBlocks(original: string, folded: string): Decoded[] {
  const out: Decoded[] = []
  let budget = MAX_DECODED
  const push = (d: Decoded) => {
    if (out.length >= MAX_BLOCKS || budget <= 0) return false
    budget -= d.text.length
    out.push(d)
    return true
  }

  // Base64 and hex runs: one pass over the characters (long runs of the base64 alphabet, a run
  // continuing over a single line break as wrapped base64 does).
  for (const run of longRuns(original)) {
    if (out.length >= MAX_BLOCKS || budget <= 0) break
    const block = run.lineBreaks ? original.slice(run.start, run.end).replace(/\s+/g, '') : original.slice(run.start, run.end)
    if (run.hex && block.length >= 24 && block.length % 2 === 0) {
      const text = Buffer.from(block.slice(0, MAX_BLOCK), 'hex').toString('utf8')
      if (readable(text)) push({ kind: 'hex', start: run.start, end: run.end, text })
      continue
    }
    // Real base64 of text mixes cases and rarely is a plain word or a long lowercase identifier.
    if (block.length < 20 || !run.upper || !run.lower) continue
    const text = Buffer.from(block.slice(0, MAX_BLOCK), run.urlSafe ? 'base64url' : 'base64').toString('utf8')
    if (readable(text)) push({ kind: 'base64', start: run.start, end: run.end, text })
  }

  if (HEX_SEPARATED_HINT.test(original)) {
    HEX_SEPARATED.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = HEX_SEPARATED.exec(original)) && out.length < MAX_BLOCKS && budget > 0) {
      const digits = m[0].replace(/\\x|0x|[\s:,]/gi, '')
      if (digits.length < 16 || digits.length % 2 !== 0) continue
      const text = Buffer.from(digits.slice(0, MAX_BLOCK), 'hex').toString('utf8')
      if (readable(text)) push({ kind: 'hex', start: m.index, end: m.index + m[0].length, text })
    }
  }

  if (original.includes('%')) {
    TOKEN.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = TOKEN.exec(original)) && out.length < MAX_BLOCKS && budget > 0) {
      const token = m[0]
      if (!token.includes('%')) continue
      const count = token.match(PERCENT)?.length ?? 0
      if (count < 3) continue
      let text: string
      try {
        text = decodeURIComponent(token.replace(/\+/g, ' '))
      } catch {
        continue
      }
      if (text !== token) push({ kind: 'url-encoding', start: m.index, end: m.index + token.length, text })
    }
  }

  const entities = original.match(ENTITY_COUNT)?.length ?? 0
  if (entities >= 5 && out.length < MAX_BLOCKS) {
    const text = decodeEntities(original.slice(0, MAX_BLOCK * 4))
    if (text !== original) push({ kind: 'entities', start: 0, end: original.length, text })
  }

  ROT13_OR_REVERSED.lastIndex = 0
  let rotAt = -1
  let revAt = -1
  let hint: RegExpExecArray | null
  while ((hint = ROT13_OR_REVERSED.exec(folded)) && (rotAt < 0 || revAt < 0)) {
    if (hint[1] !== undefined && rotAt < 0) rotAt = hint.index
    if (hint[2] !== undefined && revAt < 0) revAt = hint.index
  }
  if (rotAt >= 0) push({ kind: 'rot13', ...around(folded, rotAt), text: rot13(paragraph(folded, rotAt)) })
  if (revAt >= 0) push({ kind: 'reversed', ...around(folded, revAt), text: [...paragraph(folded, revAt)].reverse().join('') })
  return out
}

interface Run {
  start: number
  end: number
  upper: boolean
  lower: boolean
  hex: boolean
  urlSafe: boolean
  lineBreaks: boolean
}

const B64 = 1
const HEXC = 2
const UP = 4
const LOW = 8
const SAFE = 16
const CLASS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z0-9+/_-]/.test(ch)) CLASS[c]! |= B64
  if (/[0-9a-fA-F]/.test(ch)) CLASS[c]! |= HEXC
  if (/[A-Z]/.test(ch)) CLASS[c]! |= UP
  if (/[a-z]/.test(ch)) CLASS[c]! |= LOW
  if (ch === '-' || ch === '_') CLASS[c]! |= SAFE
}

/** Where the base64-alphabet characters from `from` end, looking at most 16 ahead (a long run's least). */
function reach16(s: string, from: number): number {
  let k = from
  while (k < s.length && k - from < 16 && s.charCodeAt(k) < 128 && CLASS[s.charCodeAt(k)]! & B64) k++
  return k
}

/** Runs of at least 16 base64-alphabet characters (with trailing '='), joined over single line breaks. */
function longRuns(s: string): Run[] {
  const out: Run[] = []
  let i = 0
  const n = s.length
  while (i < n && out.length < 200) {
    const c = s.charCodeAt(i)
    if (c >= 128 || !(CLASS[c]! & B64)) {
      i++
      continue
    }
    // Most runs are words, too short to be a block: passed over without a record.
    const w = reach16(s, i)
    if (w - i < 16) {
      i = w
      continue
    }
    const run: Run = { start: i, end: i, upper: false, lower: false, hex: true, urlSafe: false, lineBreaks: false }
    let lineStart = i
    for (;;) {
      let j = lineStart
      while (j < n) {
        const d = s.charCodeAt(j)
        if (d >= 128) break
        const k = CLASS[d]!
        if (!(k & B64)) break
        if (k & UP) run.upper = true
        if (k & LOW) run.lower = true
        if (!(k & HEXC)) run.hex = false
        if (k & SAFE) run.urlSafe = true
        j++
      }
      if (j - lineStart < 16) {
        // Too short: the end of a wrapped block, or no block at all.
        if (lineStart === run.start) run.end = j
        break
      }
      run.end = j
      while (run.end < n && s.charCodeAt(run.end) === 0x3d /* = */) run.end++
      // Wrapped base64 continues after one line break with another long line.
      let next = run.end
      if (s.charCodeAt(next) === 0x0d) next++
      if (s.charCodeAt(next) !== 0x0a) break
      lineStart = next + 1
      run.lineBreaks = true
      if (reach16(s, lineStart) - lineStart < 16) break
    }
    if (run.end - run.start >= 16) out.push(run)
    i = Math.max(run.end, i + 1)
  }
  return out
}

/** The paragraph (at most 4 KB) around a position. */
function paragraph(s: string, at: number): string {
  const { start, end } = around(s, at)
  return s.slice(start, end)
}

function around(s: string, at: number): { start: number; end: number } {
  const before = s.lastIndexOf('\n\n', at)
  const after = s.indexOf('\n\n', at)
  const start = Math.max(before < 0 ? 0 : before + 2, at - 2048)
  const end = Math.min(after < 0 ? s.length : after, at + 2048)
  return { start, end }
}
