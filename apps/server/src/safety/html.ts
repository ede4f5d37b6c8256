// HTML as a reader sees it, and what a reader does not see: one linear pass over the markup that
// yields the visible text (inline tags joined without a space, so `ig<b></b>nore` reads `ignore`),
// the hidden text with why it is hidden (CSS, same colour as the background, comments, hidden
// inputs, alt/title attributes), and the links with their anchor text. No DOM, no dependency: a
// mail's HTML is hostile input, so the pass is capped in size, in depth and in what it keeps.
import { MAX_FIELD_CHARS, cap } from './text.js'

export interface HiddenSpan {
  start: number
  end: number
  /** Why a reader does not see it, e.g. `display:none`, `white on white`, `HTML comment`. */
  reason: string
  /** Hidden by styling (as opposed to a comment or an attribute a reader never sees as text). */
  styled: boolean
}

export interface Link {
  href: string
  /** The anchor's visible text (at most 200 characters). */
  text: string
}

export interface HtmlAnalysis {
  visible: string
  /** Positions in `visible` where an inline tag split a word in two (`ig<b></b>nore`). */
  tagBreaks: number[]
  hidden: string
  hiddenSpans: HiddenSpan[]
  links: Link[]
  /** Work done: tags read (bounded by the input cap). */
  tags: number
}

const MAX_DEPTH = 256
const MAX_CLOSE_SEARCH = 32
const MAX_LINKS = 300
const MAX_SPANS = 500
const MAX_ANCHOR = 200

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr'])
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure', 'footer',
  'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table',
  'tbody', 'thead', 'tfoot', 'tr', 'td', 'th', 'ul', 'center', 'html', 'body', 'head', 'caption',
])
/** Elements whose content is not markup: read as one block up to their end tag. */
const RAW = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'noscript'])

interface Frame {
  name: string
  hidden: string | null
  fg: number | null
  bg: number | null
}

// ---- colours ------------------------------------------------------------------------------------

const NAMED: Record<string, number> = {
  white: 0xffffff, black: 0x000000, red: 0xff0000, green: 0x008000, blue: 0x0000ff, yellow: 0xffff00,
  gray: 0x808080, grey: 0x808080, silver: 0xc0c0c0, whitesmoke: 0xf5f5f5, snow: 0xfffafa, ivory: 0xfffff0,
  ghostwhite: 0xf8f8ff, navy: 0x000080, orange: 0xffa500, purple: 0x800080, transparent: -1,
}

/** A colour as 0xRRGGBB, -1 for transparent, null when not understood. */
export function parseColor(v: string): number | null {
  const s = v.trim().toLowerCase()
  if (s in NAMED) return NAMED[s]!
  let m = /^#([0-9a-f]{3}|[0-9a-f]{6})\b/.exec(s)
  if (m) {
    const h = m[1]!
    return h.length === 3 ? parseInt(h[0]! + h[0]! + h[1]! + h[1]! + h[2]! + h[2]!, 16) : parseInt(h, 16)
  }
  m = /^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*([\d.]+)\s*)?\)/.exec(s)
  if (m) {
    if (m[4] !== undefined && Number(m[4]) <= 0.1) return -1
    return (Math.min(255, +m[1]!) << 16) | (Math.min(255, +m[2]!) << 8) | Math.min(255, +m[3]!)
  }
  return null
}

function close(a: number, b: number): boolean {
  const d = Math.abs((a >> 16) - (b >> 16)) + Math.abs(((a >> 8) & 255) - ((b >> 8) & 255)) + Math.abs((a & 255) - (b & 255))
  return d <= 30
}

// ---- CSS ----------------------------------------------------------------------------------------

interface Style {
  hidden: string | null
  fg: number | null
  bg: number | null
}

const px = (v: string): number | null => {
  const m = /^(-?[\d.]+)\s*(px|pt|em|rem|%)?/.exec(v.trim())
  if (!m) return null
  const n = Number(m[1])
  if (!Number.isFinite(n)) return null
  return m[2] === 'em' || m[2] === 'rem' ? n * 16 : m[2] === '%' ? n * 0.16 : n
}

/** Reads a declaration list (`display:none; color:#fff`) for what hides text. */
export function readStyle(decls: string): Style {
  const out: Style = { hidden: null, fg: null, bg: null }
  let overflowHidden = false
  let zeroBox: string | null = null
  let positioned = false
  let offscreen: string | null = null
  for (const decl of decls.slice(0, 4_000).split(';')) {
    const colon = decl.indexOf(':')
    if (colon < 0) continue
    const prop = decl.slice(0, colon).trim().toLowerCase()
    const value = decl.slice(colon + 1).replace(/!important/i, '').trim().toLowerCase()
    switch (prop) {
      case 'display':
        if (value === 'none') out.hidden ??= 'display:none'
        break
      case 'visibility':
        if (value === 'hidden' || value === 'collapse') out.hidden ??= `visibility:${value}`
        break
      case 'mso-hide':
        if (value === 'all') out.hidden ??= 'mso-hide:all'
        break
      case 'opacity': {
        const n = Number(value)
        if (Number.isFinite(n) && n <= 0.1) out.hidden ??= `opacity:${value}`
        break
      }
      case 'font-size': {
        const n = px(value)
        if (n !== null && n <= 3) out.hidden ??= `font-size:${value}`
        break
      }
      case 'color': {
        const c = parseColor(value)
        if (c === -1) out.hidden ??= 'color:transparent'
        else if (c !== null) out.fg = c
        break
      }
      case 'background':
      case 'background-color': {
        const c = parseColor(value.split(/\s+/)[0] ?? '')
        if (c !== null && c !== -1) out.bg = c
        break
      }
      case 'overflow':
        if (value === 'hidden') overflowHidden = true
        break
      case 'height':
      case 'max-height':
      case 'width':
      case 'max-width': {
        const n = px(value)
        if (n !== null && n <= 1) zeroBox = `${prop}:${value}`
        break
      }
      case 'position':
        if (value === 'absolute' || value === 'fixed') positioned = true
        break
      case 'left':
      case 'top':
      case 'right':
      case 'margin-left':
      case 'margin-top':
      case 'text-indent': {
        const n = px(value)
        if (n !== null && n <= -500) offscreen = `${prop}:${value}`
        break
      }
      case 'clip':
        if (/rect\(\s*0/.test(value)) out.hidden ??= 'clip:rect(0…)'
        break
      case 'clip-path':
        if (/inset\(\s*(?:50|100)%|circle\(\s*0/.test(value)) out.hidden ??= `clip-path:${value}`
        break
      case 'transform':
        if (/scale\(\s*0(?:\.0\d*)?\s*[,)]/.test(value)) out.hidden ??= `transform:${value}`
        break
    }
  }
  if (!out.hidden && zeroBox && overflowHidden) out.hidden = `${zeroBox}; overflow:hidden`
  if (!out.hidden && offscreen && (positioned || offscreen.startsWith('text-indent') || offscreen.startsWith('margin'))) out.hidden = `off-screen (${offscreen})`
  return out
}

/** Classes that a <style> block hides outside media queries (`.x { display:none }`). */
function hiddenClassesOf(css: string, into: Map<string, string>): void {
  let depth = 0
  let media = false
  let i = 0
  const n = Math.min(css.length, 64 * 1024)
  while (i < n) {
    const open = css.indexOf('{', i)
    const shut = css.indexOf('}', i)
    if (open < 0 && shut < 0) break
    if (shut >= 0 && (open < 0 || shut < open)) {
      depth = Math.max(0, depth - 1)
      if (depth === 0) media = false
      i = shut + 1
      continue
    }
    const selector = css.slice(i, open).replace(/\/\*[^]*?\*\//g, '').trim()
    if (selector.startsWith('@')) {
      // @media, @supports ...: what they hide depends on the screen; @font-face and the like hide nothing.
      if (depth === 0) media = true
      depth++
      i = open + 1
      continue
    }
    const end = css.indexOf('}', open)
    const decls = css.slice(open + 1, end < 0 ? n : end)
    if (!media) {
      const style = readStyle(decls)
      if (style.hidden) {
        for (const m of selector.matchAll(/\.([a-zA-Z_][\w-]{0,63})(?![\w-]*\s*[>+~\s]\s*[\w.#])/g)) {
          if (into.size < 200) into.set(m[1]!.toLowerCase(), `.${m[1]} { ${style.hidden} }`)
        }
      }
    }
    i = end < 0 ? n : end + 1
  }
}

// ---- entities -----------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', zwnj: '\u200c', zwj: '\u200d', shy: '\u00ad',
  lrm: '\u200e', rlm: '\u200f', copy: '©', reg: '®', trade: '™', hellip: '…', mdash: '—', ndash: '–', lsquo: '‘',
  rsquo: '’', ldquo: '“', rdquo: '”', sbquo: '‚', bdquo: '„', laquo: '«', raquo: '»', bull: '•', middot: '·',
  euro: '€', pound: '£', yen: '¥', cent: '¢', deg: '°', times: '×', iexcl: '¡', iquest: '¿', szlig: 'ß',
  aacute: 'á', agrave: 'à', acirc: 'â', auml: 'ä', atilde: 'ã', aring: 'å', ccedil: 'ç', eacute: 'é', egrave: 'è',
  ecirc: 'ê', euml: 'ë', iacute: 'í', igrave: 'ì', icirc: 'î', iuml: 'ï', ntilde: 'ñ', oacute: 'ó', ograve: 'ò',
  ocirc: 'ô', ouml: 'ö', otilde: 'õ', uacute: 'ú', ugrave: 'ù', ucirc: 'û', uuml: 'ü', Auml: 'Ä', Ouml: 'Ö',
  Uuml: 'Ü', Eacute: 'É', Agrave: 'À', Ccedil: 'Ç', Ntilde: 'Ñ', oelig: 'œ', thinsp: '\u2009', ensp: '\u2002',
  emsp: '\u2003', zwsp: '\u200b',
}

const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}));?/g

export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s
  return s.replace(ENTITY, (m, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) return ENTITIES[name] ?? ENTITIES[name.toLowerCase()] ?? m
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16)
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd'
    return String.fromCodePoint(cp)
  })
}

// ---- the pass -----------------------------------------------------------------------------------

const TAG_NAME = /[a-zA-Z][a-zA-Z0-9:-]{0,31}/y
const ATTR = /[\s/]*([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?/y
const SPACES = /[\t\n\r\f ]+/g
/** The attributes the pass reads; others are skipped without decoding. */
const USED_ATTRS = new Set(['style', 'class', 'hidden', 'href', 'color', 'bgcolor', 'alt', 'title', 'aria-label', 'type', 'value', 'content', 'http-equiv', 'charset'])
const TEXT_ATTRS = ['alt', 'title', 'aria-label'] as const

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x0c) return false
  }
  return true
}

function noQuote(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22 || c === 0x27) return false
  }
  return true
}
const isLetterCode = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c >= 0xc0

/** Reads HTML (capped at MAX_FIELD_CHARS) in one pass. */
export function analyzeHtml(input: string): HtmlAnalysis {
  const html = cap(input)
  const n = html.length
  const visibleParts: string[] = []
  let visibleLen = 0
  let lastVisibleCode = 0x20
  const hiddenParts: string[] = []
  let hiddenLen = 0
  const spans: HiddenSpan[] = []
  const tagBreaks: number[] = []
  const links: Link[] = []
  const hiddenClasses = new Map<string, string>()
  const styles = new Map<string, Style>()
  const stack: Frame[] = []
  let skipped = 0 // opened beyond MAX_DEPTH, not on the stack
  let tags = 0
  let anchor: { href: string; text: string } | null = null
  let breakAt = -1 // a tag just followed a letter at this visible position

  const top = (): Frame | undefined => stack[stack.length - 1]

  const addHidden = (text: string, reason: string, styled: boolean) => {
    if (hiddenLen > MAX_FIELD_CHARS) return
    let t = text.replace(SPACES, ' ')
    const last = spans[spans.length - 1]
    // Text under the same reason right after the last is the same span, spaces kept, so a phrase
    // split by tags ("ignore <span>previous</span> instructions") stays whole.
    if (last && last.reason === reason && last.end === hiddenLen) {
      if (t === ' ' && hiddenParts[hiddenParts.length - 1]?.endsWith(' ')) return
      hiddenParts.push(t)
      hiddenLen += t.length
      last.end = hiddenLen
      return
    }
    t = t.trimStart()
    if (!t) return
    if (hiddenLen > 0) {
      hiddenParts.push('\n')
      hiddenLen++
    }
    hiddenParts.push(t)
    if (spans.length < MAX_SPANS) spans.push({ start: hiddenLen, end: hiddenLen + t.length, reason, styled })
    hiddenLen += t.length
  }

  const addText = (raw: string) => {
    if (!raw) return
    // Most text between tags in mail HTML is indentation: one space, or nothing at the start.
    if (isBlank(raw)) {
      const hiddenBy = top()?.hidden
      if (hiddenBy) {
        addHidden(' ', hiddenBy, true)
        return
      }
      if (visibleLen === 0 || lastVisibleCode === 0x20 || lastVisibleCode === 0x0a) return
      visibleParts.push(' ')
      visibleLen++
      lastVisibleCode = 0x20
      breakAt = -1
      if (anchor && anchor.text.length < MAX_ANCHOR) anchor.text += ' '
      return
    }
    const text = decodeEntities(raw).replace(SPACES, ' ')
    if (!text) return
    const frame = top()
    if (frame?.hidden) {
      addHidden(text, frame.hidden, true)
      return
    }
    if (visibleLen > MAX_FIELD_CHARS) return
    if (breakAt === visibleLen && isLetterCode(text.charCodeAt(0)) && tagBreaks.length < 1_000) tagBreaks.push(visibleLen)
    breakAt = -1
    visibleParts.push(text)
    visibleLen += text.length
    lastVisibleCode = text.charCodeAt(text.length - 1)
    if (anchor && anchor.text.length < MAX_ANCHOR) anchor.text += text
  }

  const newline = () => {
    if (top()?.hidden) {
      if (hiddenLen > 0 && hiddenParts[hiddenParts.length - 1] !== '\n') {
        hiddenParts.push(' ')
        hiddenLen++
        const last = spans[spans.length - 1]
        if (last && last.end === hiddenLen - 1) last.end = hiddenLen
      }
      return
    }
    if (lastVisibleCode !== 0x0a && visibleLen > 0) {
      visibleParts.push('\n')
      visibleLen++
      lastVisibleCode = 0x0a
    }
    breakAt = -1
  }

  const inlineTag = () => {
    if (isLetterCode(lastVisibleCode) && !top()?.hidden) breakAt = visibleLen
  }

  const closeTag = (name: string) => {
    if (skipped > 0) {
      skipped--
      return
    }
    for (let k = stack.length - 1, seen = 0; k >= 0 && seen < MAX_CLOSE_SEARCH; k--, seen++) {
      if (stack[k]!.name === name) {
        stack.length = k
        return
      }
    }
  }

  let i = 0
  while (i < n) {
    const lt = html.indexOf('<', i)
    if (lt < 0) {
      addText(html.slice(i))
      break
    }
    if (lt > i) addText(html.slice(i, lt))
    tags++
    const next = html.charCodeAt(lt + 1)
    // Comments: `<!-- ... -->`; what they say is hidden from the reader (conditional comments hold markup).
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4)
      const body = html.slice(lt + 4, end < 0 ? n : end)
      const text = body.replace(/<[^<>]{0,2000}>/g, ' ')
      if (/[a-zA-Z]{3}/.test(text)) addHidden(decodeEntities(text), 'HTML comment', false)
      i = end < 0 ? n : end + 3
      continue
    }
    if (next === 0x21 /* ! */ || next === 0x3f /* ? */) {
      const end = html.indexOf('>', lt + 2)
      i = end < 0 ? n : end + 1
      continue
    }
    const closing = next === 0x2f /* / */
    TAG_NAME.lastIndex = lt + (closing ? 2 : 1)
    const nameMatch = TAG_NAME.exec(html)
    if (!nameMatch) {
      addText('<')
      i = lt + 1
      continue
    }
    const name = nameMatch[0].toLowerCase()
    // The end of the tag: the first '>' outside a quoted attribute value (fast path: no quotes).
    let j = TAG_NAME.lastIndex
    let quote = 0
    const gt = html.indexOf('>', j)
    const simple = gt >= 0 && gt - j < 4_000 && noQuote(html, j, gt)
    if (simple) j = gt
    else for (; j < n; j++) {
      const c = html.charCodeAt(j)
      if (quote) {
        if (c === quote) quote = 0
      } else if (c === 0x22 || c === 0x27) {
        // Quotes count only as attribute values (after '='), not stray ones in broken markup.
        if (html.charCodeAt(j - 1) === 0x3d || /=\s*$/.test(html.slice(Math.max(0, j - 4), j))) quote = c
      } else if (c === 0x3e) break
    }
    const tagEnd = Math.min(j, n)
    i = tagEnd + 1
    if (closing) {
      if (name === 'a' && anchor) {
        if (links.length < MAX_LINKS) links.push({ href: anchor.href, text: anchor.text.trim() })
        anchor = null
      }
      if (BLOCK.has(name)) newline()
      else inlineTag()
      closeTag(name)
      continue
    }

    // Attributes.
    const attrs: Record<string, string> = {}
    ATTR.lastIndex = TAG_NAME.lastIndex
    let count = 0
    while (ATTR.lastIndex < tagEnd && count++ < 64) {
      const m = ATTR.exec(html)
      if (!m || m.index >= tagEnd) break
      const key = m[1]!.toLowerCase()
      if (USED_ATTRS.has(key) && !(key in attrs)) attrs[key] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '')
      if (ATTR.lastIndex <= m.index) break
    }
    const selfClosing = html.charCodeAt(tagEnd - 1) === 0x2f

    if (RAW.has(name)) {
      const endRe = new RegExp(`</${name}\\s*>`, 'gi')
      endRe.lastIndex = i
      const m = endRe.exec(html)
      const body = html.slice(i, m ? m.index : n)
      i = m ? endRe.lastIndex : n
      if (name === 'style') hiddenClassesOf(body, hiddenClasses)
      else if (name === 'textarea') addText(body)
      else if (name === 'script' || name === 'title' || name === 'noscript') addHidden(decodeEntities(body.replace(/<[^<>]{0,2000}>/g, ' ')), `<${name}>`, false)
      continue
    }

    // Attribute text a reader does not see as body text, but a model reading the HTML does.
    for (const key of TEXT_ATTRS) {
      const v = attrs[key]
      if (v && v.length > 12) addHidden(v, `${key} attribute`, false)
    }
    if (name === 'input' && (attrs.type ?? '').toLowerCase() === 'hidden' && attrs.value) addHidden(attrs.value, 'hidden input', false)
    if (name === 'meta' && attrs.content && attrs.content.length > 12 && !attrs['http-equiv'] && !attrs.charset) addHidden(attrs.content, 'meta content', false)

    if (name === 'a' && attrs.href !== undefined) {
      if (anchor && links.length < MAX_LINKS) links.push({ href: anchor.href, text: anchor.text.trim() })
      anchor = { href: attrs.href.trim(), text: '' }
    }

    if (VOID.has(name) || selfClosing) {
      if (BLOCK.has(name)) newline()
      else inlineTag()
      continue
    }

    // The element's own look, then what it inherits.
    const parent = top()
    // Newsletters repeat the same inline styles on every cell: read each distinct one once.
    let style: Style
    if (attrs.style) {
      const known = styles.get(attrs.style)
      style = known ? { ...known } : readStyle(attrs.style)
      if (!known && styles.size < 500) styles.set(attrs.style, { ...style })
    } else style = { hidden: null, fg: null, bg: null }
    if (attrs.color) style.fg = parseColor(attrs.color) ?? style.fg
    if (attrs.bgcolor) style.bg = parseColor(attrs.bgcolor) ?? style.bg
    let hidden = parent?.hidden ?? null
    if (!hidden) {
      if (attrs.hidden !== undefined) hidden = 'hidden attribute'
      else if (style.hidden) hidden = style.hidden
      else if (attrs.class) {
        for (const c of attrs.class.toLowerCase().split(/\s+/)) {
          const why = hiddenClasses.get(c)
          if (why) {
            hidden = why
            break
          }
        }
      }
    }
    const fg = style.fg ?? parent?.fg ?? null
    const bg = style.bg ?? parent?.bg ?? null
    if (!hidden && (style.fg !== null || style.bg !== null)) {
      const shownFg = fg ?? 0x000000
      const shownBg = bg ?? 0xffffff
      if (close(shownFg, shownBg)) hidden = `text colour ${hex(shownFg)} on background ${hex(shownBg)}`
    }
    if (BLOCK.has(name)) newline()
    else inlineTag()
    if (stack.length < MAX_DEPTH) stack.push({ name, hidden, fg, bg })
    else skipped++
  }
  if (anchor && links.length < MAX_LINKS) links.push({ href: anchor.href, text: anchor.text.trim() })

  return { visible: visibleParts.join(''), tagBreaks, hidden: hiddenParts.join(''), hiddenSpans: spans, links, tags }
}

const hex = (c: number) => `#${c.toString(16).padStart(6, '0')}`

/** The hidden span at a position of `hidden`. */
export function spanAt(spans: HiddenSpan[], pos: number): HiddenSpan | undefined {
  let lo = 0
  let hi = spans.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (spans[mid]!.start <= pos) lo = mid
    else hi = mid - 1
  }
  const s = spans[lo]
  return s && s.start <= pos ? s : undefined
}
