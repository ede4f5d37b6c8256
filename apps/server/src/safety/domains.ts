// Domains: the registrable part of a host, brands worth imitating, and lookalike tests (edit
// distance, lookalike letters, a brand name wrapped in other words, a brand as a subdomain).
import { domainToUnicode } from 'node:url'
import { fold } from './text.js'

/** Well-known brands and the registrable domains they send from; `label` is what lookalikes imitate. */
export const BRANDS: { name: string; label: string; domains: string[]; displayWords: RegExp }[] = [
  { name: 'PayPal', label: 'paypal', domains: ['paypal.com', 'paypal.me', 'paypal-community.com'], displayWords: /\bpay ?pal\b/ },
  { name: 'Microsoft', label: 'microsoft', domains: ['microsoft.com', 'outlook.com', 'live.com', 'office.com', 'office365.com', 'microsoftonline.com', 'hotmail.com', 'sharepoint.com', 'azure.com', 'xbox.com', 'skype.com', 'microsoft365.com'], displayWords: /\b(?:microsoft|office ?365|outlook|onedrive|sharepoint|azure)\b/ },
  { name: 'Apple', label: 'apple', domains: ['apple.com', 'icloud.com', 'me.com'], displayWords: /\b(?:apple(?: ?id| support| store)?|icloud|itunes)\b/ },
  { name: 'Google', label: 'google', domains: ['google.com', 'gmail.com', 'googlemail.com', 'youtube.com', 'googleusercontent.com', 'google.dev', 'withgoogle.com', 'googlegroups.com'], displayWords: /\b(?:google|gmail|youtube)\b/ },
  { name: 'Amazon', label: 'amazon', domains: ['amazon.com', 'amazonaws.com', 'amazonses.com', 'aws.com', 'amazon.co.uk', 'amazon.de', 'amazon.fr', 'amazon.es', 'amazon.it', 'amazon.ca', 'amazon.co.jp', 'amazon.in', 'amazon.com.au', 'primevideo.com', 'audible.com'], displayWords: /\b(?:amazon|aws|prime video)\b/ },
  { name: 'Netflix', label: 'netflix', domains: ['netflix.com'], displayWords: /\bnetflix\b/ },
  { name: 'Meta', label: 'facebook', domains: ['facebook.com', 'facebookmail.com', 'meta.com', 'instagram.com', 'whatsapp.com', 'fb.com'], displayWords: /\b(?:facebook|instagram|whatsapp|meta for business)\b/ },
  { name: 'Instagram', label: 'instagram', domains: ['instagram.com', 'facebookmail.com', 'mail.instagram.com'], displayWords: /\binstagram\b/ },
  { name: 'LinkedIn', label: 'linkedin', domains: ['linkedin.com', 'e.linkedin.com'], displayWords: /\blinked ?in\b/ },
  { name: 'DocuSign', label: 'docusign', domains: ['docusign.com', 'docusign.net'], displayWords: /\bdocu ?sign\b/ },
  { name: 'Dropbox', label: 'dropbox', domains: ['dropbox.com', 'dropboxmail.com'], displayWords: /\bdropbox\b/ },
  { name: 'GitHub', label: 'github', domains: ['github.com', 'githubusercontent.com', 'github.io'], displayWords: /\bgithub\b/ },
  { name: 'GitLab', label: 'gitlab', domains: ['gitlab.com'], displayWords: /\bgitlab\b/ },
  { name: 'Slack', label: 'slack', domains: ['slack.com', 'slackhq.com'], displayWords: /\bslack\b/ },
  { name: 'Zoom', label: 'zoom', domains: ['zoom.us', 'zoom.com'], displayWords: /\bzoom (?:video|meetings?|support|billing)\b/ },
  { name: 'Stripe', label: 'stripe', domains: ['stripe.com'], displayWords: /\bstripe\b/ },
  { name: 'OpenAI', label: 'openai', domains: ['openai.com', 'chatgpt.com'], displayWords: /\b(?:openai|chatgpt)\b/ },
  { name: 'Anthropic', label: 'anthropic', domains: ['anthropic.com', 'claude.ai', 'claude.com'], displayWords: /\banthropic\b/ },
  { name: 'Adobe', label: 'adobe', domains: ['adobe.com', 'adobesign.com'], displayWords: /\badobe\b/ },
  { name: 'DHL', label: 'dhl', domains: ['dhl.com', 'dhl.de', 'dhl.fr', 'dhl.es', 'dhl.co.uk'], displayWords: /\bdhl\b/ },
  { name: 'FedEx', label: 'fedex', domains: ['fedex.com'], displayWords: /\bfed ?ex\b/ },
  { name: 'UPS', label: 'ups', domains: ['ups.com'], displayWords: /\bups (?:my choice|delivery|quantum view|notification)s?\b/ },
  { name: 'USPS', label: 'usps', domains: ['usps.com', 'usps.gov'], displayWords: /\busps\b/ },
  { name: 'Coinbase', label: 'coinbase', domains: ['coinbase.com'], displayWords: /\bcoinbase\b/ },
  { name: 'Binance', label: 'binance', domains: ['binance.com'], displayWords: /\bbinance\b/ },
  { name: 'Chase', label: 'chase', domains: ['chase.com', 'jpmorgan.com', 'jpmchase.com'], displayWords: /\bchase (?:bank|online|alerts?|security)\b/ },
  { name: 'Wells Fargo', label: 'wellsfargo', domains: ['wellsfargo.com'], displayWords: /\bwells ?fargo\b/ },
  { name: 'Bank of America', label: 'bankofamerica', domains: ['bankofamerica.com', 'bofa.com', 'ealerts.bankofamerica.com'], displayWords: /\bbank of america\b/ },
  { name: 'American Express', label: 'americanexpress', domains: ['americanexpress.com', 'aexp.com'], displayWords: /\b(?:american express|amex)\b/ },
  { name: 'Okta', label: 'okta', domains: ['okta.com', 'okta-emea.com'], displayWords: /\bokta\b/ },
  { name: 'Salesforce', label: 'salesforce', domains: ['salesforce.com', 'force.com'], displayWords: /\bsalesforce\b/ },
  { name: 'Atlassian', label: 'atlassian', domains: ['atlassian.com', 'atlassian.net', 'jira.com', 'bitbucket.org'], displayWords: /\b(?:atlassian|jira|confluence|bitbucket)\b/ },
  { name: 'IRS', label: 'irs', domains: ['irs.gov'], displayWords: /\b(?:irs|internal revenue service)\b/ },
  { name: 'HMRC', label: 'hmrc', domains: ['hmrc.gov.uk', 'gov.uk'], displayWords: /\bhmrc\b/ },
  { name: 'eBay', label: 'ebay', domains: ['ebay.com', 'ebay.de', 'ebay.fr', 'ebay.co.uk', 'ebay.es'], displayWords: /\bebay\b/ },
  { name: 'Mailroom', label: 'mailroom', domains: [], displayWords: /\bmailroom (?:security|support|team|admin)\b/ },
]

/** Click-tracking and link-protection domains: a link through them naming another domain is normal. */
export const TRACKERS = new Set([
  'list-manage.com', 'mailchimp.com', 'mcusercontent.com', 'sendgrid.net', 'mandrillapp.com', 'hubspotlinks.com',
  'hubspotemail.net', 'hs-sites.com', 'mailgun.org', 'mailgun.net', 'sparkpostmail.com', 'exacttarget.com',
  'mjt.lu', 'sendibt3.com', 'sendinblue.com', 'brevo.com', 'substack.com', 'beehiiv.com', 'convertkit-mail.com',
  'ck.page', 'klclick.com', 'klclick1.com', 'klaviyomail.com', 'rs6.net', 'cmail19.com', 'cmail20.com',
  'createsend.com', 'awstrack.me', 'safelinks.protection.outlook.com', 'outlook.com', 'urldefense.com',
  'urldefense.proofpoint.com', 'mimecast.com', 'mimecastprotect.com', 'postmarkapp.com', 'pstmrk.it', 'mailjet.com',
  'emltrk.com', 'ctrk.klclick.com', 'email.mg', 'lnks.gd', 'bit.ly', 't.co', 'lnkd.in', 'google.com', 'medium.com',
  'campaign-archive.com', 'intercom-mail.com', 'intercom-clicks.com', 'customeriomail.com', 'mailerlite.com',
  'mlsend.com', 'activehosted.com', 'acemlna.com', 'e2ma.net', 'constantcontact.com', 'salesforce.com', 'pardot.com',
  'marketo.com', 'mktoweb.com', 'eloqua.com', 'iterable.com', 'braze.com', 'sailthru.com', 'returnpath.net',
])

const TWO_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ne', 'or', 'go', 'gob', 'gouv', 'nic', 'mil', 'ltd', 'plc', 'sch'])
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/

/** The registrable part of a host ("mail.example.co.uk" -> "example.co.uk"), without a public-suffix list. */
export function registrable(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '')
  if (IPV4.test(h) || h.includes(':')) return h
  const labels = h.split('.')
  if (labels.length <= 2) return h
  const tld = labels[labels.length - 1]!
  const second = labels[labels.length - 2]!
  if (tld.length === 2 && TWO_LEVEL.has(second)) return labels.slice(-3).join('.')
  return labels.slice(-2).join('.')
}

/** The label a person reads as the name ("example" in "mail.example.co.uk"). */
export function nameLabel(host: string): string {
  return registrable(host).split('.')[0] ?? ''
}

export function domainOf(address: string | null | undefined): string | null {
  if (!address) return null
  const at = address.lastIndexOf('@')
  return at < 0 ? null : address.slice(at + 1).toLowerCase().replace(/[>\s]+$/, '') || null
}

export function isIpHost(host: string): boolean {
  return IPV4.test(host) || host.startsWith('[') || /^0x[0-9a-f]+$|^\d{8,10}$/i.test(host)
}

/** Levenshtein distance, giving up (returning max + 1) once past `max`. Inputs are short labels. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  if (a.length > 64 || b.length > 64) return max + 1
  if (max === 1) return withinOneEdit(a, b)
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      cur.push(v)
      if (v < rowMin) rowMin = v
    }
    if (rowMin > max) return max + 1
    prev = cur
  }
  return prev[b.length]!
}

/** 0, 1 or 2 (meaning "more than one"): one linear pass, no allocation. */
function withinOneEdit(a: string, b: string): number {
  if (a === b) return 0
  const [s, l] = a.length <= b.length ? [a, b] : [b, a]
  let i = 0
  while (i < s.length && s.charCodeAt(i) === l.charCodeAt(i)) i++
  // The first difference: a substitution (same length) or an insertion into the longer one.
  const rest = s.length === l.length ? s.slice(i + 1) === l.slice(i + 1) : s.slice(i) === l.slice(i + 1)
  return rest ? 1 : 2
}

/** What a label looks like on screen: lookalike letters, digits and letter pairs read the same way. */
export function skeleton(label: string): string {
  return fold(label)
    .text.replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/cl/g, 'd')
    .replace(/0/g, 'o')
    .replace(/[1il|!]/g, 'l')
    .replace(/5/g, 's')
    .replace(/3/g, 'e')
    .replace(/@/g, 'a')
    .replace(/\$/g, 's')
}

export type Lookalike = { kind: 'homoglyph' | 'similar'; target: string } | null

/** A domain prepared for lookalike checks (its name label and that label's skeleton, computed once). */
export interface Target {
  domain: string
  label: string
  skeleton: string
}

/** Targets indexed so that one host is checked against all of them in a few lookups. */
export interface TargetIndex {
  domains: Set<string>
  bySkeleton: Map<string, Target>
  byLength: Map<number, Target[]>
  byLabel: Map<string, Target>
}

export function targetsOf(domains: string[]): TargetIndex {
  const index: TargetIndex = { domains: new Set(), bySkeleton: new Map(), byLength: new Map(), byLabel: new Map() }
  for (const d of domains) {
    const label = d.split('.')[0] ?? ''
    const t: Target = { domain: d, label, skeleton: skeleton(label) }
    index.domains.add(d)
    if (label.length < 3) continue
    if (!index.bySkeleton.has(t.skeleton)) index.bySkeleton.set(t.skeleton, t)
    if (!index.byLabel.has(label)) index.byLabel.set(label, t)
    const list = index.byLength.get(label.length) ?? []
    list.push(t)
    index.byLength.set(label.length, list)
  }
  return index
}

/**
 * Whether `host` imitates one of the targets (registrable domains) without being one of them:
 * the same skeleton (paypa1.com, rnicrosoft.com, Cyrillic а), a small edit distance on a long
 * enough name, the name wrapped in other words (paypal-security.com), or the whole target used as
 * a subdomain of another domain (paypal.com.account-check.example).
 */
export function lookalikeOf(host: string, targets: TargetIndex): Lookalike {
  // The same hosts come back in message after message (trackers, CDNs): remember the last answers.
  let cache = lookalikeCache.get(targets)
  if (!cache) lookalikeCache.set(targets, (cache = new Map()))
  const known = cache.get(host)
  if (known !== undefined) return known
  const result = lookalikeUncached(host, targets)
  if (cache.size >= 2_000) cache.delete(cache.keys().next().value!)
  cache.set(host, result)
  return result
}

const lookalikeCache = new WeakMap<TargetIndex, Map<string, Lookalike>>()

function lookalikeUncached(host: string, targets: TargetIndex): Lookalike {
  const h = host.toLowerCase().replace(/\.$/, '')
  const unicode = h.includes('xn--') ? safeUnicode(h) : h
  const reg = registrable(unicode)
  if (targets.domains.has(reg) || targets.domains.has(unicode)) return null
  // A target written as a subdomain: "paypal.com" inside "paypal.com.account-check.example".
  const labels = unicode.split('.')
  const prefix = labels.length - reg.split('.').length
  for (let i = 0; i < prefix; i++) {
    for (let j = i + 2; j <= prefix; j++) {
      const candidate = labels.slice(i, j).join('.')
      if (targets.domains.has(candidate)) return { kind: 'similar', target: candidate }
    }
  }
  const label = reg.split('.')[0] ?? ''
  const same = targets.byLabel.get(label)
  if (same) return null // the same name on another TLD (acme.net vs acme.com): could be theirs
  const bySkeleton = targets.bySkeleton.get(skeleton(label))
  if (bySkeleton) return { kind: 'homoglyph', target: bySkeleton.domain }
  for (let len = label.length - 2; len <= label.length + 2; len++) {
    for (const t of targets.byLength.get(len) ?? []) {
      const d = Math.abs(len - label.length)
      if (t.label.length >= 6 && d <= 1 && editDistance(label, t.label, 1) <= 1) return { kind: 'similar', target: t.domain }
      if (t.label.length >= 9 && editDistance(label, t.label, 2) <= 2) return { kind: 'similar', target: t.domain }
    }
  }
  const parts = label.split(/[-_]/)
  if (parts.length > 1) {
    for (const p of parts) {
      const t = targets.byLabel.get(p) ?? targets.bySkeleton.get(skeleton(p))
      if (t && t.label.length >= 4) return { kind: 'similar', target: t.domain }
    }
  }
  return null
}

function safeUnicode(host: string): string {
  try {
    return domainToUnicode(host) || host
  } catch {
    return host
  }
}

export { safeUnicode as hostToUnicode }

const BRAND_BY_DOMAIN = new Map<string, (typeof BRANDS)[number]>()
for (const b of BRANDS) for (const d of b.domains) if (!BRAND_BY_DOMAIN.has(registrable(d))) BRAND_BY_DOMAIN.set(registrable(d), b)

/** The brand whose registrable domains include this host's, if any. */
export function brandOfHost(host: string): (typeof BRANDS)[number] | undefined {
  return BRAND_BY_DOMAIN.get(registrable(host))
}

/** Every brand domain, prepared for lookalike checks. */
export const BRAND_TARGETS: TargetIndex = targetsOf([...new Set(BRANDS.flatMap((b) => b.domains.map(registrable)))])

const indexes = new Map<string, TargetIndex>()

/** Brands plus the tenant's own domains, indexed; kept for the last few tenants (results never depend on it). */
export function brandAndTenantTargets(tenantDomains: string[]): TargetIndex {
  const key = tenantDomains.join(' ')
  let index = indexes.get(key)
  if (!index) {
    if (indexes.size >= 64) indexes.delete(indexes.keys().next().value!)
    index = targetsOf([...new Set([...BRANDS.flatMap((b) => b.domains.map(registrable)), ...tenantDomains.map((d) => registrable(d.toLowerCase()))])])
    indexes.set(key, index)
  }
  return index
}
