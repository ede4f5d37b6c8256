// Who the message says it is from, against what authentication showed, and what kind of mail it
// is (automatic reply, bounce, list or bulk mail). Reads headers and addresses only.
import { BRANDS, BRAND_TARGETS, brandOfHost, domainOf, lookalikeOf, nameLabel, registrable, targetsOf } from './domains.js'
import type { SignalRuleId } from './rules.js'
import { clip, fold, visible } from './text.js'
import type { AuthSummary, ScoreInput } from './types.js'

export interface SenderFinding {
  rule: SignalRuleId
  excerpt: string
}

type Headers = ScoreInput['headers']

function header(headers: Headers, name: string): string | null {
  for (const h of headers) if (h.name.toLowerCase() === name) return h.value
  return null
}

function has(headers: Headers, name: string): boolean {
  return header(headers, name) !== null
}

const AUTO_SUBJECT =
  /^\s*(?:auto(?:matic)?[\s-]?(?:reply|response|answer|antwort)|autoreply|out of (?:the )?office|ooo\b|abwesenheit(?:snotiz)?|r[ée]ponse automatique|absence du bureau|respuesta autom[áa]tica|fuera de la oficina|undeliver(?:able|ed)|delivery status notification|returned mail|mail delivery (?:failed|failure|subsystem)|non[\s-]?remise|unzustellbar)/i

/** An automatic message: RFC 3834 Auto-Submitted, the common X- headers, out-of-office subjects, bounces. */
export function isAutoReply(input: ScoreInput): boolean {
  const h = input.headers
  const auto = header(h, 'auto-submitted')
  if (auto && !/^\s*no\b/i.test(auto)) return true
  if (has(h, 'x-autoreply') || has(h, 'x-autorespond') || has(h, 'x-autoresponse') || has(h, 'x-autoreply-from')) return true
  if (/^\s*auto[_-]?reply/i.test(header(h, 'precedence') ?? '')) return true
  if (/multipart\/report/i.test(header(h, 'content-type') ?? '')) return true
  if (/^\s*<\s*>\s*$/.test(header(h, 'return-path') ?? 'x')) return true
  const local = (input.from?.address ?? '').split('@')[0]?.toLowerCase() ?? ''
  if (local === 'mailer-daemon' || local === 'postmaster') return true
  return AUTO_SUBJECT.test(input.subject ?? '')
}

/** List or bulk mail: List-Id / List-Unsubscribe (RFC 2919, 2369) or Precedence: bulk/list/junk. */
export function isBulk(input: ScoreInput): boolean {
  const h = input.headers
  if (has(h, 'list-id') || has(h, 'list-unsubscribe') || has(h, 'list-post')) return true
  return /^\s*(?:bulk|list|junk)\b/i.test(header(h, 'precedence') ?? '')
}

const relaxedAligned = (a: string, b: string) => registrable(a) === registrable(b)

export function authSummary(input: ScoreInput): AuthSummary {
  const auth = input.auth
  if (!auth) return { spf: null, dkim: null, dmarc: null, aligned: null }
  const fromDomain = domainOf(input.from?.address)
  let aligned: boolean | null = null
  if (auth.dmarc === 'pass') aligned = true
  else if (fromDomain) {
    const dkimAligned = (auth.dkimDomains ?? []).some((d) => relaxedAligned(d, fromDomain))
    const spfAligned = auth.spf === 'pass' && !!auth.mailFromDomain && relaxedAligned(auth.mailFromDomain, fromDomain)
    aligned = dkimAligned || spfAligned
  }
  return { spf: auth.spf ?? null, dkim: auth.dkim ?? null, dmarc: auth.dmarc ?? null, aligned }
}

const ADDRESS_IN_NAME = /[a-z0-9._%+-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i

/** Sender spoofing: DMARC, the tenant's own domain unauthenticated, lookalike domains, display-name tricks, Reply-To. */
export function checkSender(input: ScoreInput, auth: AuthSummary, bulk: boolean): SenderFinding[] {
  const out: SenderFinding[] = []
  const from = input.from
  const fromDomain = domainOf(from?.address)
  const tenant = input.context.tenantDomains.map((d) => d.toLowerCase())
  const fromText = from ? clip(visible(from.name ? `${from.name} <${from.address}>` : from.address)) : ''

  if (auth.dmarc === 'fail') out.push({ rule: 'sender.dmarc_fail', excerpt: clip(`dmarc=fail for ${fromDomain ?? '?'}; ${fromText}`) })
  if (!fromDomain || !from) return out

  const recipient = input.context.recipient?.toLowerCase() ?? null
  if (recipient && from.address.toLowerCase() === recipient && input.auth && auth.aligned !== true) {
    out.push({ rule: 'sender.from_is_recipient', excerpt: clip(`${fromText} is the recipient; spf=${auth.spf}, dkim=${auth.dkim}`) })
  }

  const ownDomain = tenant.some((d) => relaxedAligned(d, fromDomain))
  if (ownDomain && input.auth && auth.aligned === false && auth.dmarc !== 'fail') {
    const bad = ['fail', 'softfail'].includes(auth.spf ?? '') || auth.dkim === 'fail' || (auth.spf !== 'pass' && auth.dkim !== 'pass')
    if (bad) out.push({ rule: 'sender.own_domain_unauthenticated', excerpt: clip(`${fromText}: spf=${auth.spf}, dkim=${auth.dkim}`) })
  }

  // The From domain against the tenant's domains and the brands.
  const brand = brandOfHost(fromDomain)
  let imitates: string | null = null
  if (!ownDomain) {
    const lookTenant = lookalikeOf(fromDomain, targetsOf(tenant.map(registrable)))
    if (lookTenant) {
      out.push({ rule: lookTenant.kind === 'homoglyph' ? 'sender.homoglyph_domain' : 'sender.lookalike_tenant', excerpt: clip(`${fromText} (imitates ${lookTenant.target})`) })
      imitates = lookTenant.target
    } else if (!brand) {
      const lookBrand = lookalikeOf(fromDomain, BRAND_TARGETS)
      if (lookBrand) {
        out.push({ rule: lookBrand.kind === 'homoglyph' ? 'sender.homoglyph_domain' : 'sender.lookalike_brand', excerpt: clip(`${fromText} (imitates ${lookBrand.target})`) })
        imitates = lookBrand.target
      }
    }
  }

  // The display name.
  const name = from.name ?? ''
  if (name) {
    const folded = fold(name)
    if (folded.mixedScriptWords.length > 0) out.push({ rule: 'sender.display_homoglyph', excerpt: fromText })
    const inName = ADDRESS_IN_NAME.exec(folded.text)
    if (inName && inName[0] !== from.address.toLowerCase() && registrable(inName[1]!) !== registrable(fromDomain)) {
      out.push({ rule: bulk ? 'sender.display_name_address_list' : 'sender.display_name_address', excerpt: fromText })
      if (!bulk && tenant.some((d) => relaxedAligned(d, inName[1]!))) imitates ??= inName[1]!
    }
    if (!ownDomain && !imitates) {
      const named = BRANDS.find((b) => b.displayWords.test(folded.text))
      if (named && !named.domains.some((d) => relaxedAligned(d, fromDomain)) && brandOfHost(fromDomain) !== named) {
        out.push({ rule: 'sender.brand_display_name', excerpt: clip(`${fromText} (not a ${named.name} domain)`) })
        imitates = named.name
      } else {
        const tenantName = tenant.map(nameLabel).find((l) => l.length >= 4 && new RegExp(`\\b${l}\\b`).test(folded.text))
        if (tenantName) {
          out.push({ rule: 'sender.tenant_display_name', excerpt: clip(`${fromText} (outside ${tenant.join(', ')})`) })
          imitates = tenantName
        }
      }
    }
  }

  // Reply-To elsewhere, when the sender imitates someone or claims a brand it did not authenticate as.
  if (brand && auth.aligned === false) imitates ??= brand.name
  if (imitates) {
    const other = input.replyTo.find((r) => {
      const d = domainOf(r.address)
      return d && !relaxedAligned(d, fromDomain) && !(brand && brandOfHost(d) === brand)
    })
    if (other) out.push({ rule: 'sender.reply_to_mismatch', excerpt: clip(`From ${from.address}, Reply-To ${visible(other.address)}`) })
  }
  return out
}
