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

// Linear: a block starts only where a run starts (the look-behind), and the classes of a line and
// of the line break between two lines are disjoint.
const BASE64 = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}(?:\r?\n[A-Za-z0-9+/_-]{16,}){0,200}={0,2}/g
const HEX = /(?<![0-9a-fA-F])(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s:,]?){12,}/g
const TOKEN = /\S{6,4000}/g
const PERCENT = /%[0-9a-fA-F]{2}/g
const ENTITY_COUNT = /&#x?[0-9a-f]{1,6};/gi
const ROT13_HINT = /\b(?:vtaber|qvfertneq|vafgehpgvbaf|cerivbhf|flfgrz cebzcg|cnffjbeqf?|sbejneq|perqragvnyf|vtabevrer|najrvfhatra|bhoyvr|vafgehppvbarf)\b/
const REVERSED_HINT = /\b(?:erongi|dragersid|snoitcurtsni|suoiverp|tpmorp metsys|sdrowssap|drawrof|slaitnederc)\b/

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

  BASE64.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = BASE64.exec(original)) && out.length < MAX_BLOCKS && budget > 0) {
    const block = m[0].replace(/\s+/g, '')
    // Real base64 of text mixes cases and rarely is a plain word or a long lowercase identifier.
    if (block.length < 20 || !/[A-Z]/.test(block) || !/[a-z]/.test(block)) continue
    const text = Buffer.from(block.slice(0, MAX_BLOCK), block.includes('-') || block.includes('_') ? 'base64url' : 'base64').toString('utf8')
    if (readable(text)) push({ kind: 'base64', start: m.index, end: m.index + m[0].length, text })
  }

  HEX.lastIndex = 0
  while ((m = HEX.exec(original)) && out.length < MAX_BLOCKS && budget > 0) {
    const digits = m[0].replace(/\\x|0x|[\s:,]/gi, '')
    if (digits.length < 24 || digits.length % 2 !== 0) continue
    const text = Buffer.from(digits.slice(0, MAX_BLOCK), 'hex').toString('utf8')
    if (readable(text)) push({ kind: 'hex', start: m.index, end: m.index + m[0].length, text })
  }

  if (original.includes('%')) {
    TOKEN.lastIndex = 0
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

  const hint = ROT13_HINT.exec(folded)
  if (hint) push({ kind: 'rot13', ...around(folded, hint.index), text: rot13(paragraph(folded, hint.index)) })
  const rev = REVERSED_HINT.exec(folded)
  if (rev) push({ kind: 'reversed', ...around(folded, rev.index), text: [...paragraph(folded, rev.index)].reverse().join('') })
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
