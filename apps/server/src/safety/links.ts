// Link tricks: anchor text naming another domain than the target, IP-literal and punycode hosts,
// user info before the host, hosts imitating a brand's or the tenant's domain, script URLs.
import { TRACKERS, brandAndTenantTargets, brandOfHost, hostToUnicode, isIpHost, lookalikeOf, registrable, type Lookalike } from './domains.js'
import type { Link } from './html.js'
import type { SignalRuleId } from './rules.js'
import { clip, visible } from './text.js'

export interface LinkFinding {
  rule: SignalRuleId
  excerpt: string
  /** `html` for the HTML part's links, `text` for URLs written in the text part. */
  location: 'html' | 'text'
}

const MAX_URLS = 300
const TEXT_URL = /\b(?:https?|hxxps?):\/\/[^\s<>"'`)\]}]{1,2000}/gi
// A domain named in anchor text: "paypal.com", "https://www.paypal.com/login", "Go to paypal.com now".
const TEXT_DOMAIN = /(?:^|[\s(<"'])(?:https?:\/\/)?(?:www\.)?((?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.){1,6}[a-z]{2,24})(?=$|[\s/:?#)>"',.!;])/i
const NOT_TLD = new Set(['pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'png', 'jpg', 'jpeg', 'gif', 'zip', 'txt', 'csv', 'html', 'htm', 'php', 'exe', 'js', 'ts', 'json', 'md', 'eml', 'ics', 'svg', 'mp4', 'mp3', 'wav', 'tar', 'gz', 'py', 'rb', 'yml', 'yaml', 'xml', 'jsx', 'tsx', 'css', 'log', 'sh'])
const TRACKING_PREFIX = /^(?:click|clicks|links?|email|e|t|track|trk|tracking|go|r|l|url\d*|em|mail|news|info|ablink|sg|mandrillapp|u\d+|o\d+|ct|c|lnk|redirect|out)\./

function parse(href: string): URL | null {
  try {
    return new URL(href.trim().replace(/^hxxp/i, 'http'))
  } catch {
    return null
  }
}

function tracked(host: string): boolean {
  const reg = registrable(host)
  return TRACKERS.has(reg) || TRACKERS.has(host) || TRACKING_PREFIX.test(host)
}

/** Checks one URL on its own (no anchor text). */
function checkUrl(url: URL, raw: string, look: (host: string) => Lookalike, out: Omit<LinkFinding, 'location'>[]): void {
  const protocol = url.protocol
  if (protocol === 'javascript:' || protocol === 'data:' || protocol === 'vbscript:') {
    out.push({ rule: 'link.script_url', excerpt: clip(visible(raw)) })
    return
  }
  if (protocol !== 'http:' && protocol !== 'https:') return
  const host = url.hostname.toLowerCase()
  if (url.username || url.password) out.push({ rule: 'link.userinfo', excerpt: clip(visible(raw)) })
  if (isIpHost(host)) {
    out.push({ rule: 'link.ip_host', excerpt: clip(visible(raw)) })
    return
  }
  const like = look(host)
  if (like) out.push({ rule: 'link.lookalike_host', excerpt: clip(`${visible(raw)} (imitates ${like.target})`) })
  else if (host.split('.').some((l) => l.startsWith('xn--'))) out.push({ rule: 'link.punycode', excerpt: clip(`${visible(raw)} (${hostToUnicode(host)})`) })
}

/**
 * Findings for the HTML links (with their anchor text) and the URLs written in text. At most one
 * finding per rule and location: the score counts a rule once, and one example explains it.
 */
export function checkLinks(links: Link[], textUrls: string[], tenantDomains: string[]): LinkFinding[] {
  const targets = brandAndTenantTargets(tenantDomains)
  // Newsletters send every link through the same few hosts: judge each host once.
  const seen = new Map<string, Lookalike>()
  const look = (host: string): Lookalike => {
    let v = seen.get(host)
    if (v === undefined) seen.set(host, (v = lookalikeOf(host, targets)))
    return v
  }
  const ownOrBrand = new Set(tenantDomains.map(registrable))
  const found: LinkFinding[] = []
  let out: Omit<LinkFinding, 'location'>[] = []
  let n = 0
  for (const link of links) {
    if (n++ >= MAX_URLS) break
    const url = parse(link.href)
    if (!url) continue
    checkUrl(url, link.href, look, out)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue
    const m = TEXT_DOMAIN.exec(link.text)
    if (!m) continue
    const named = m[1]!.toLowerCase()
    const tld = named.slice(named.lastIndexOf('.') + 1)
    if (NOT_TLD.has(tld) || /^\d+$/.test(tld)) continue
    const host = url.hostname.toLowerCase()
    if (registrable(named) === registrable(host)) continue
    const excerpt = clip(`${visible(link.text)} -> ${visible(link.href)}`)
    if (tracked(host)) out.push({ rule: 'link.text_domain_mismatch_tracked', excerpt })
    else if (ownOrBrand.has(registrable(named)) || brandOfHost(named)) out.push({ rule: 'link.brand_text_mismatch', excerpt })
    else out.push({ rule: 'link.text_domain_mismatch', excerpt })
  }
  for (const f of out) found.push({ ...f, location: 'html' })
  out = []
  for (const raw of textUrls) {
    if (n++ >= MAX_URLS) break
    const url = parse(raw)
    if (url) checkUrl(url, raw, look, out)
  }
  for (const f of out) found.push({ ...f, location: 'text' })
  const keys = new Set<string>()
  return found.filter((f) => {
    const key = `${f.rule} ${f.location}`
    return keys.has(key) ? false : (keys.add(key), true)
  })
}

/** URLs written out in a text (at most MAX_URLS). */
export function urlsIn(text: string): string[] {
  const out: string[] = []
  TEXT_URL.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = TEXT_URL.exec(text)) && out.length < MAX_URLS) out.push(m[0].replace(/[.,;:!?]+$/, ''))
  return out
}
