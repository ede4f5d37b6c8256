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

/**
 * Judges one received, parsed copy (sets its risk, score, sealed verdict and quarantine). Sent mail
 * and mail that could not be parsed get no verdict. Returns why it was quarantined, or null.
 */
export function judge(cipher: Cipher, v: Visible, recipient: string, safety: SafetyContext, now: Date): string | null {
  const p = v.analysis.parsed
  if (!p || v.row.direction !== 'inbound') return null
  // A parser that did not score (a test's stand-in) is scored here.
  const content = p.safety ?? scoreContent(p)
  const verdict: Verdict = finishVerdict(content, scoreInputOf(p, v.analysis.auth, { tenantDomains: safety.tenantDomains, recipient }))
  const reason = quarantineReason(verdict, safety.policiesOf(v.row.inboxId))
  verdict.quarantined = reason !== null
  v.row.risk = verdict.risk
  v.row.injectionScore = verdict.injectionScore
  v.row.securityEnc = cipher.seal(ctx.security(v.row.id), JSON.stringify(verdict))
  v.row.quarantined = verdict.quarantined
  v.row.quarantinedAt = verdict.quarantined ? now : null
  if (reason) v.quarantineReason = reason
  v.verifiedSender = !verdict.quarantined && !v.row.hidden && senderVerified(v.analysis.auth !== null, verdict)
  return reason
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
