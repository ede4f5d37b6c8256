// Text folding for matching, with a map back to the original so that an excerpt shows what the
// reader saw. Folding: invisible characters removed, NFKD with combining marks stripped (accents,
// fullwidth and mathematical letters), Cyrillic and Greek lookalikes mapped to Latin, lower case.
// Everything here is linear in the input and allocates little on the common all-ASCII path.

/** The most of one field (text, HTML, subject ...) the scorer examines. */
export const MAX_FIELD_CHARS = 256 * 1024
/** Longest excerpt, in characters, after invisible characters are made visible. */
export const MAX_EXCERPT = 120

// Cyrillic and Greek letters that render like Latin ones (lower-cased first), plus Latin letters
// NFKD leaves alone. Marked `true` when the mapping is a disguise rather than a spelling variant.
const FOLD_EXTRA: Record<string, [string, boolean]> = {
  // Cyrillic
  а: ['a', true], в: ['b', true], е: ['e', true], ё: ['e', true], к: ['k', true], м: ['m', true],
  н: ['h', true], о: ['o', true], р: ['p', true], с: ['c', true], т: ['t', true], у: ['y', true],
  х: ['x', true], і: ['i', true], ї: ['i', true], ј: ['j', true], ѕ: ['s', true], ԁ: ['d', true],
  ԛ: ['q', true], ԝ: ['w', true], һ: ['h', true], ӏ: ['l', true], ɡ: ['g', true], ո: ['n', true],
  // Greek
  α: ['a', true], β: ['b', true], ε: ['e', true], η: ['n', true], ι: ['i', true], κ: ['k', true],
  ν: ['v', true], ο: ['o', true], ρ: ['p', true], τ: ['t', true], υ: ['u', true], χ: ['x', true],
  ζ: ['z', true], ω: ['w', true],
  // Armenian, and Latin letters that imitate others (alpha, dotless iota, small capitals)
  օ: ['o', true], ս: ['u', true], ց: ['g', true], հ: ['h', true], ɑ: ['a', true], ɩ: ['i', true],
  ᴀ: ['a', true], ʙ: ['b', true], ᴄ: ['c', true], ᴅ: ['d', true], ᴇ: ['e', true], ɢ: ['g', true], ʜ: ['h', true],
  ɪ: ['i', true], ᴊ: ['j', true], ᴋ: ['k', true], ʟ: ['l', true], ᴍ: ['m', true], ɴ: ['n', true], ᴏ: ['o', true],
  ᴘ: ['p', true], ʀ: ['r', true], ꜱ: ['s', true], ᴛ: ['t', true], ᴜ: ['u', true], ᴠ: ['v', true], ᴡ: ['w', true],
  ʏ: ['y', true], ᴢ: ['z', true],
  // Latin letters without a decomposition
  ı: ['i', true], ß: ['ss', false], ø: ['o', false], æ: ['ae', false], œ: ['oe', false],
  ł: ['l', false], đ: ['d', false], ð: ['d', false], þ: ['th', false],
  // Typographic quotes, read as plain ones (the mention check looks for quotes)
  '‘': ["'", false], '’': ["'", false], '‛': ["'", false], '′': ["'", false], '“': ['"', false], '”': ['"', false],
  '„': ['"', false], '«': ['"', false], '»': ['"', false],
}
/** Lookalikes counted for the mixed-script (homoglyph) check; µ/μ is left out (units: 5 µm). */
const LOOKALIKE = new Set(Object.keys(FOLD_EXTRA).filter((k) => FOLD_EXTRA[k]![1] && k !== 'ı'))

/** Characters that render as nothing (or only steer direction) and are dropped before matching. */
export function isInvisible(cp: number): boolean {
  return (
    (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0xad ||
    cp === 0x34f ||
    cp === 0x61c ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x17b4 ||
    cp === 0x17b5 ||
    (cp >= 0x180b && cp <= 0x180e) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x206f) ||
    cp === 0x3164 ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    cp === 0xfeff ||
    cp === 0xffa0 ||
    (cp >= 0xe0000 && cp <= 0xe007f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  )
}

/** Zero-width characters that, between two Latin letters, split a word without showing. */
const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x180e, 0x2062, 0x2063, 0x2064])
/** Direction overrides and isolates: they reorder what is shown (U+202A-C embeddings are common in phone numbers). */
const BIDI_OVERRIDE = new Set([0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069])

interface Fold {
  out: string
  /** A disguise: invisible, compatibility form (fullwidth, mathematical), or lookalike letter. */
  evasive: boolean
  script: 'latin' | 'lookalike' | 'other' | 'none'
}

const foldCache = new Map<number, Fold>()
const LETTER = /\p{L}/u
const MARKS = /\p{M}/gu

function foldOf(cp: number): Fold {
  let f = foldCache.get(cp)
  if (f) return f
  const ch = String.fromCodePoint(cp)
  if (isInvisible(cp)) f = { out: '', evasive: true, script: 'none' }
  // A combining mark on its own (not part of a precomposed letter) sits on the letter before it:
  // "ig̈nore". Dropped like the accents of precomposed letters, but a disguise inside a phrase.
  else if (/^\p{M}$/u.test(ch)) f = { out: '', evasive: true, script: 'none' }
  else {
    const lower = ch.toLowerCase()
    const extra = FOLD_EXTRA[lower]
    if (extra) f = { out: extra[0], evasive: extra[1], script: LOOKALIKE.has(lower) ? 'lookalike' : LETTER.test(lower) ? 'latin' : 'none' }
    else {
      const nfd = ch.normalize('NFD')
      const nfkd = ch.normalize('NFKD')
      let out = nfkd.toLowerCase().normalize('NFKD').replace(MARKS, '')
      const extraAfter = out.length === 1 ? FOLD_EXTRA[out] : undefined
      if (extraAfter) out = extraAfter[0]
      const space = /^\s+$/.test(out)
      if (space) out = ' '
      const letter = LETTER.test(ch)
      const latin = /^[a-z]+$/.test(out)
      f = {
        out,
        evasive: !space && (nfd !== nfkd || extraAfter?.[1] === true),
        script: !letter ? 'none' : latin ? (extraAfter?.[1] ? 'lookalike' : 'latin') : 'other',
      }
    }
  }
  if (foldCache.size < 20_000) foldCache.set(cp, f)
  return f
}

export interface Folded {
  /** The text as rules match it. */
  text: string
  /** The original it came from. */
  original: string
  /** Index in `original` of the character behind index `i` of `text` (i may equal text.length). */
  toOriginal(i: number): number
  /** True when original[start, end) holds a disguised character (invisible, lookalike, compatibility form). */
  disguised(start: number, end: number): boolean
  /** Original spans of words that mix Latin letters with Cyrillic or Greek lookalikes. */
  mixedScriptWords: [number, number][]
  /** Original positions of zero-width characters between two Latin letters. */
  zeroWidthInWords: number[]
  /** Original positions of direction overrides and isolates. */
  bidiOverrides: number[]
  /** Text smuggled as Unicode tag characters (U+E0020-E007E), decoded to ASCII. */
  tagText: string
}

const NOT_PLAIN_ASCII = /[^\t\n\r\x20-\x7e]/
const MAX_POSITIONS = 1_000

/** Folds `original` (already capped by the caller) for matching. Linear time. */
export function fold(original: string): Folded {
  if (!NOT_PLAIN_ASCII.test(original)) {
    return {
      text: original.toLowerCase(),
      original,
      toOriginal: (i) => i,
      disguised: () => false,
      mixedScriptWords: [],
      zeroWidthInWords: [],
      bidiOverrides: [],
      tagText: '',
    }
  }
  const parts: string[] = []
  // Breakpoints: from normalized position bpNorm[k] on, original = bpOrig[k] + (i - bpNorm[k]).
  const bpNorm: number[] = [0]
  const bpOrig: number[] = [0]
  const disguise: number[] = []
  const mixed: [number, number][] = []
  const zw: number[] = []
  const bidi: number[] = []
  let tags = ''
  let len = 0
  let runStart = 0
  // The current word, for the mixed-script check.
  let wordStart = -1
  let wordLatin = false
  let wordLookalike = false
  let wordOther = false
  const endWord = (at: number) => {
    if (wordStart >= 0 && wordLatin && wordLookalike && !wordOther && mixed.length < 50) mixed.push([wordStart, at])
    wordStart = -1
    wordLatin = wordLookalike = wordOther = false
  }
  const n = original.length
  let i = 0
  while (i < n) {
    const c = original.charCodeAt(i)
    if (c >= 0x20 && c < 0x7f) {
      const isLetter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)
      if (isLetter) {
        if (wordStart < 0) wordStart = i
        wordLatin = true
      } else if (!(c >= 0x30 && c <= 0x39)) endWord(i)
      i++
      continue
    }
    if (c === 0x09 || c === 0x0a || c === 0x0d) {
      endWord(i)
      i++
      continue
    }
    // A character that needs folding: flush the ASCII run before it.
    if (runStart < i) {
      const run = original.slice(runStart, i).toLowerCase()
      parts.push(run)
      len += run.length
    }
    const cp = original.codePointAt(i)!
    const width = cp > 0xffff ? 2 : 1
    const f = foldOf(cp)
    if (f.evasive && disguise.length < 10 * MAX_POSITIONS) disguise.push(i)
    if (f.out === '') {
      if (ZERO_WIDTH.has(cp) && zw.length < MAX_POSITIONS && isAsciiLetterAt(original, i - 1, -1) && isAsciiLetterAt(original, i + width, 1)) zw.push(i)
      if (BIDI_OVERRIDE.has(cp) && bidi.length < MAX_POSITIONS) bidi.push(i)
      if (cp >= 0xe0020 && cp <= 0xe007e && tags.length < MAX_FIELD_CHARS) tags += String.fromCharCode(cp - 0xe0000)
    } else {
      if (f.script === 'none') endWord(i)
      else {
        if (wordStart < 0) wordStart = i
        if (f.script === 'latin') wordLatin = true
        else if (f.script === 'lookalike') wordLookalike = true
        else wordOther = true
      }
      parts.push(f.out)
      len += f.out.length
    }
    i += width
    runStart = i
    bpNorm.push(len)
    bpOrig.push(i)
  }
  endWord(n)
  if (runStart < n) parts.push(original.slice(runStart).toLowerCase())
  const text = parts.join('')
  const toOriginal = (pos: number): number => {
    // The last breakpoint at or before pos (binary search).
    let lo = 0
    let hi = bpNorm.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (bpNorm[mid]! <= pos) lo = mid
      else hi = mid - 1
    }
    return Math.min(n, bpOrig[lo]! + (pos - bpNorm[lo]!))
  }
  return {
    text,
    original,
    toOriginal,
    disguised: (start, end) => {
      const k = lowerBound(disguise, start)
      return k < disguise.length && disguise[k]! < end
    },
    mixedScriptWords: mixed,
    zeroWidthInWords: zw,
    bidiOverrides: bidi,
    tagText: tags,
  }
}

function isAsciiLetterAt(s: string, i: number, step: 1 | -1): boolean {
  // Skip over other zero-width characters: "i\u200b\u200cg" still splits a word.
  for (let k = 0; k < 8 && i >= 0 && i < s.length; k++, i += step) {
    const c = s.charCodeAt(i)
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) return true
    if (!ZERO_WIDTH.has(c)) return false
  }
  return false
}

export function lowerBound(sorted: number[], value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

// ---- leetspeak ---------------------------------------------------------------------------------

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i', '|': 'l' }
const LEET_HINT = /[a-z][013457@$!|]|[013457@$!|][a-z]/g
const LEET_CHARS = /[0134571@$!|]/g
const isLeetTokenChar = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x40 || c === 0x24 || c === 0x21 || c === 0x7c

/**
 * The folded text with leetspeak read as letters (`1gn0re` -> `ignore`), same length, so positions
 * still map, and the words that changed; null when no word mixes letters and leet digits. Only
 * words with at least two letters change, so numbers and codes stay as they are. Linear: it visits
 * only the words where a letter touches a leet digit, each once.
 */
export function unleet(text: string): { text: string; changed: string[] } | null {
  LEET_HINT.lastIndex = 0
  const changed: string[] = []
  const parts: string[] = []
  let copied = 0
  let m: RegExpExecArray | null
  while ((m = LEET_HINT.exec(text)) && changed.length < 200) {
    let start = m.index
    let end = m.index + 2
    while (start > 0 && isLeetTokenChar(text.charCodeAt(start - 1))) start--
    while (end < text.length && isLeetTokenChar(text.charCodeAt(end))) end++
    LEET_HINT.lastIndex = end
    // Words are short: a long run of letters and digits is an identifier or an encoded token.
    if (start < copied || end - start < 3 || end - start > 30) continue
    const tok = text.slice(start, end)
    let letters = 0
    for (let k = 0; k < tok.length && letters < 2; k++) if (tok.charCodeAt(k) >= 0x61) letters++
    if (letters < 2) continue
    const t = tok.replace(LEET_CHARS, (c) => LEET[c]!)
    if (t === tok) continue
    changed.push(t)
    parts.push(text.slice(copied, start), t)
    copied = end
  }
  if (changed.length === 0) return null
  parts.push(text.slice(copied))
  return { text: parts.join(''), changed }
}

// ---- scrambled words ---------------------------------------------------------------------------

// Words a model still reads when their inner letters are shuffled ("ignroe", "intsrcutions"):
// first and last letter kept, the rest in any order. Only the words instruction rules hinge on.
const SCRAMBLE_WORDS = ['ignore', 'disregard', 'previous', 'instructions', 'forward', 'password', 'passwords', 'system', 'prompt', 'credentials', 'reveal', 'override', 'forget', 'everything', 'emails', 'messages']
const signature = (w: string) => `${w[0]}${[...w.slice(1, -1)].sort().join('')}${w[w.length - 1]}`
const SCRAMBLED = new Map(SCRAMBLE_WORDS.map((w) => [signature(w), w]))
/** First letter, last letter and length of each target, as one number: a cheap test before sorting. */
const endsKey = (first: number, last: number, length: number) => (first << 16) | (last << 8) | length
const ENDS = new Set(SCRAMBLE_WORDS.map((w) => endsKey(w.charCodeAt(0), w.charCodeAt(w.length - 1), w.length)))
const isLower = (c: number) => c >= 0x61 && c <= 0x7a
const isWordChar = (c: number) => isLower(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || (c >= 0x41 && c <= 0x5a)

/**
 * The folded text with shuffled words put back in order (same length), when at least two were
 * shuffled; null otherwise. One pass over the characters, no allocation for ordinary words: a word
 * is sorted only when its first and last letters and its length fit a target.
 */
export function unscramble(text: string): { text: string; changed: number } | null {
  const parts: string[] = []
  let copied = 0
  let changed = 0
  const n = text.length
  let i = 0
  while (i < n) {
    if (!isLower(text.charCodeAt(i)) || (i > 0 && isWordChar(text.charCodeAt(i - 1)))) {
      i++
      continue
    }
    let j = i + 1
    while (j < n && isLower(text.charCodeAt(j))) j++
    const len = j - i
    if (len >= 5 && len <= 12 && (j === n || !isWordChar(text.charCodeAt(j))) && ENDS.has(endsKey(text.charCodeAt(i), text.charCodeAt(j - 1), len))) {
      const w = text.slice(i, j)
      const target = SCRAMBLED.get(signature(w))
      if (target && target !== w) {
        changed++
        parts.push(text.slice(copied, i), target)
        copied = j
      }
    }
    i = j
  }
  if (changed < 2) return null
  parts.push(text.slice(copied))
  return { text: parts.join(''), changed }
}

// ---- spaced letters ----------------------------------------------------------------------------

// Six or more single letters each followed by one to three separators: "i g n o r e", "i.g.n.o.r.e".
// Letters and separators are disjoint classes, so the engine never backtracks more than one step.
const SPACED = /(?<![a-z])(?:[a-z][ .\-*·|/+~]{1,3}){5,}[a-z](?![a-z])/g

/** Runs of spaced-out letters, joined: single separators dropped, wider gaps read as a space. */
export function spacedRuns(text: string, limit = 20): { start: number; end: number; joined: string }[] {
  const out: { start: number; end: number; joined: string }[] = []
  if (text.length < 11) return out
  SPACED.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = SPACED.exec(text)) && out.length < limit) {
    const joined = m[0].replace(/[ .\-*·|/+~]{2,}/g, ' ').replace(/[ .\-*·|/+~]/g, '')
    out.push({ start: m.index, end: m.index + m[0].length, joined })
  }
  return out
}

// ---- excerpts ----------------------------------------------------------------------------------

/** Shows invisible and control characters as [U+XXXX] and folds runs of white space. */
export function visible(s: string): string {
  let out = ''
  let lastSpace = false
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d || cp === 0xa0) {
      if (!lastSpace) out += ' '
      lastSpace = true
      continue
    }
    lastSpace = false
    out += isInvisible(cp) || (cp >= 0xd800 && cp <= 0xdfff) ? `[U+${cp.toString(16).toUpperCase().padStart(4, '0')}]` : ch
    if (out.length > MAX_EXCERPT * 2) break
  }
  return out
}

/**
 * An excerpt of `original` around [start, end): the match itself, a little context when short,
 * invisible characters made visible, at most MAX_EXCERPT characters.
 */
export function excerptOf(original: string, start: number, end: number): string {
  const pad = Math.max(0, Math.min(30, (80 - (end - start)) >> 1))
  let from = Math.max(0, start - pad)
  let to = Math.min(original.length, end + pad, from + MAX_EXCERPT * 2)
  // Do not cut a surrogate pair in two.
  if (from > 0 && isLowSurrogate(original.charCodeAt(from))) from--
  if (to < original.length && isLowSurrogate(original.charCodeAt(to))) to++
  return clip(visible(original.slice(from, to)).trim(), from > 0, to < original.length)
}

/** Cuts to MAX_EXCERPT characters with an ellipsis where something was left out. */
export function clip(s: string, before = false, after = false): string {
  let body = s
  const room = MAX_EXCERPT - (before ? 1 : 0)
  if (body.length > room) {
    body = body.slice(0, room - 1)
    // Never end inside a [U+XXXX] marker or a surrogate pair.
    const open = body.lastIndexOf('[U+')
    if (open >= 0 && body.indexOf(']', open) < 0) body = body.slice(0, open)
    if (body.length > 0 && isHighSurrogate(body.charCodeAt(body.length - 1))) body = body.slice(0, -1)
    after = true
  }
  return `${before ? '…' : ''}${body}${after ? '…' : ''}`
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff
const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff

/** How much of a long field's end is examined besides its beginning. */
export const TAIL_CHARS = 64 * 1024

/**
 * A field as examined: whole up to `max` characters; past that its first `max - TAIL_CHARS` and its
 * last TAIL_CHARS characters, so padding a message with filler does not push an instruction at the
 * end out of sight. Never splits a surrogate pair.
 */
export function cap(s: string | null | undefined, max = MAX_FIELD_CHARS): string {
  if (!s) return ''
  if (s.length <= max) return s
  const tail = Math.min(TAIL_CHARS, max >> 2)
  let headEnd = max - tail
  if (isHighSurrogate(s.charCodeAt(headEnd - 1))) headEnd--
  let tailStart = s.length - tail
  if (isLowSurrogate(s.charCodeAt(tailStart))) tailStart++
  return `${s.slice(0, headEnd)}\n…\n${s.slice(tailStart)}`
}
