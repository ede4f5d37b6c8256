// The risk verdict of each received copy, and the quarantine it may fall under. The parse thread
// already read the content (safety phase one); here, once SPF/DKIM/DMARC are known and for the
// receiving tenant (its own domains, its policies and the inbox's), the verdict is finished, sealed
// into the row (its signals quote the message) and the policy decides whether the agent sees it.
import { sql, type SQLWrapper } from 'drizzle-orm'
import type { EffectivePolicies, Policies } from '@mailroom/contract'
import type { Cipher } from '../../crypto/service.js'
import { domains } from '../../domains/tables.js'
import { inboxes } from '../../inboxes/tables.js'
import { policyChain, quarantineReason, strictest } from '../../policies/service.js'
import { finishVerdict, scoreContent, scoreInputOf, type Verdict } from '../../safety/score.js'
import type { Signal } from '../../safety/types.js'
import { matches } from '../../rules/service.js'
import { ctx } from '../service.js'
import type { Visible } from './types.js'
import { textTemplate } from '../../db/pipeline.js'

/** What a tenant's verdicts need, read in the batch's first round trip. */
export interface SafetyReads {
  /** The tenant's policy chain (policyChain). */
  chain: SQLWrapper
  /** The recipients' inboxes' own policies. */
  inboxPolicies: SQLWrapper | null
  /** The tenant's verified domains (sender and link checks compare with them). */
  tenantDomains: SQLWrapper
}

// Each names the tenant (on Citus: its shard alone, db/scope.ts ownRows).
const inboxPoliciesText = textTemplate<'tenantId' | 'ids'>((v) => sql`select id, policies from ${inboxes} where tenant_id = ${v('tenantId')}::uuid and id = any(${v('ids')}::uuid[])`)
const verifiedDomainsText = textTemplate<'tenantId'>((v) => sql`select name from ${domains} where tenant_id = ${v('tenantId')}::uuid and verified_at is not null`)

export function safetyReads(tenantId: string, inboxIds: string[]): SafetyReads {
  return {
    chain: policyChain(tenantId),
    inboxPolicies: inboxIds.length ? inboxPoliciesText({ tenantId, ids: [...new Set(inboxIds)] }) : null,
    tenantDomains: verifiedDomainsText({ tenantId }),
  }
}

export interface SafetyContext {
  tenantDomains: string[]
  policiesOf(inboxId: string): EffectivePolicies
}

/** The context from what safetyReads returned; `platformDomain`: the deployment's own (MAILROOM_DOMAIN). */
export function safetyContext(platformDomain: string | undefined, rows: { chain: Record<string, unknown>[]; inboxPolicies: Record<string, unknown>[]; tenantDomains: Record<string, unknown>[] }): SafetyContext {
  const chain = rows.chain.flatMap((r) => [r.policies as Policies | null, r.parent_policies as Policies | null])
  const own = new Map(rows.inboxPolicies.map((r) => [r.id as string, r.policies as Policies | null]))
  const cache = new Map<string, EffectivePolicies>()
  return {
    tenantDomains: [...(platformDomain ? [platformDomain] : []), ...rows.tenantDomains.map((r) => r.name as string)],
    policiesOf(inboxId) {
      let p = cache.get(inboxId)
      if (!p) cache.set(inboxId, (p = strictest([...chain, own.get(inboxId)])))
      return p
    },
  }
}

/** The sender rules a copy is held to after DATA (Recipient's `allowList` and `blockList`). */
export interface AfterData {
  allowList?: string[] | null | undefined
  blockList?: string[] | null | undefined
}

/**
 * Judges one received, parsed copy (sets its risk, score, sealed verdict and quarantine). Sent mail
 * and mail that could not be parsed get no verdict. Returns why it was quarantined, or null.
 * `rules.allowList`: the patterns of the allow list the envelope sender passed at RCPT (Recipient):
 * the message's From must pass it too, verified, or the copy is quarantined whatever the policy (mail
 * that cannot be parsed, whose From nobody knows, with it). `rules.blockList`: a From matching one
 * hides the copy.
 */
export function judge(cipher: Cipher, v: Visible, recipient: string, safety: SafetyContext, now: Date, rules: AfterData = {}): string | null {
  const p = v.analysis.parsed
  if (v.row.direction !== 'inbound') return null
  const { allowList, blockList } = rules
  // A From that a block rule names keeps the copy hidden, whatever the envelope said (and whatever
  // the rule's blockMode: past DATA, one recipient's copy can no longer be refused alone).
  if (blockList && v.row.fromAddress && blockList.some((pattern) => matches(pattern, v.row.fromAddress!))) v.row.hidden = true
  if (!p) {
    if (!allowList || v.row.hidden) return null
    return quarantine(v, 'allow list: the message could not be parsed, so its From is unknown', now)
  }
  // A parser that did not score (a test's stand-in) is scored here.
  const content = p.safety ?? scoreContent(p)
  const verdict: Verdict = finishVerdict(content, scoreInputOf(p, v.analysis.auth, { tenantDomains: safety.tenantDomains, recipient }))
  const checked = v.analysis.auth !== null
  // (A blocked sender's hidden copy is not put before a person as well.)
  const outside = allowList && !v.row.hidden ? allowListFinding(allowList, v.row.fromAddress, checked, verdict) : null
  if (outside) {
    // Strongest first: a message claiming a trusted sender it cannot prove is the phishing case.
    verdict.signals.unshift(outside.signal)
    verdict.risk = 'high'
  }
  const reason = outside?.reason ?? quarantineReason(verdict, safety.policiesOf(v.row.inboxId))
  verdict.quarantined = reason !== null
  v.row.risk = verdict.risk
  v.row.injectionScore = verdict.injectionScore
  v.row.securityEnc = cipher.seal(ctx.security(v.row.id), JSON.stringify(verdict))
  v.row.quarantined = verdict.quarantined
  v.row.quarantinedAt = verdict.quarantined ? now : null
  if (reason) v.quarantineReason = reason
  v.verifiedSender = !verdict.quarantined && !v.row.hidden && senderVerified(checked, verdict)
  return reason
}

function quarantine(v: Visible, reason: string, now: Date): string {
  v.row.quarantined = true
  v.row.quarantinedAt = now
  v.quarantineReason = reason
  v.verifiedSender = false
  return reason
}

/**
 * Whether a copy for an inbox under an allow list is held back: its From outside the list (the
 * envelope sender, which the agent never reads, passed it), or on it but not verified. The finding's
 * signal (rule `sender.allow_list`) and the quarantine's reason, or null.
 */
export function allowListFinding(allowList: string[], from: string | null, checked: boolean, verdict: Pick<Verdict, 'auth'>): { signal: Signal; reason: string } | null {
  const finding = (excerpt: string, reason: string) => ({
    signal: { category: 'sender_spoofing' as const, location: 'headers' as const, excerpt: excerpt.slice(0, 120), rule: 'sender.allow_list', weight: 1 },
    reason: `allow list: ${reason}`,
  })
  if (!from || !allowList.some((pattern) => matches(pattern, from))) {
    const who = from ?? '(none)'
    return finding(`From ${who} is outside the allow list (only the envelope sender passed it)`, `From ${who} is not on it`)
  }
  if (senderVerified(checked, verdict)) return null
  const { spf, dkim, dmarc } = verdict.auth
  return finding(`From ${from} is on the allow list but not verified: spf=${spf}, dkim=${dkim}, dmarc=${dmarc}`, `From ${from} is on it but not verified (spf=${spf}, dkim=${dkim}, dmarc=${dmarc})`)
}

/**
 * Whether a received message's From is its sender's: aligned with a passing SPF or DKIM, or DMARC
 * pass. Without verification (`MAILROOM_INBOUND_AUTH=off`, or mail with no remote address: the
 * platform's own delivery between its inboxes) every sender is taken at its word, as everywhere
 * else then. A forged From must not make the address someone the inbox is in conversation with:
 * the approval policy `first_contact` would let the agent write to anyone a stranger names.
 */
export function senderVerified(checked: boolean, verdict: Pick<Verdict, 'auth'>): boolean {
  return !checked || verdict.auth.aligned === true
}
