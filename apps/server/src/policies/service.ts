// Policies: what a person decided about the agents' mail, set on a tenant and on an inbox and
// inherited down the tenant tree like limits. A tenant sets its own (`policies`); an ancestor (or
// the operator) setting a tenant's writes apart (`parent_policies`), where the tenant cannot undo
// them. Every tenant's both, up the chain, and the inbox's own combine: the strictest of each applies.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { ApprovalMode, EffectivePolicies, Policies, Risk } from '@mailroom/contract'
import { rawRows, type Tx } from '../db/client.js'
import { textTemplate } from '../db/pipeline.js'

/** The policies of a tenant and its ancestors, through a narrow lookup (a tenant cannot see its ancestors under RLS). */
const policyChainText = textTemplate<'tenantId'>((v) => sql`select policies, parent_policies from mailroom_policy_chain(${v('tenantId')})`)
export const policyChain = (tenantId: string): SQLWrapper => policyChainText({ tenantId })

const RISK_RANK: Record<Risk, number> = { low: 0, medium: 1, high: 2 }

/** The strictest of each policy over `list` (a tenant chain's rows, then an inbox's own). */
export function strictest(list: (Policies | null | undefined)[]): EffectivePolicies {
  let minRisk: 'medium' | 'high' | null = null
  let minScore: number | null = null
  let dmarcFail = false
  // Approval: every mode set anywhere binds (a send is held when any holds it); the shortest expiry.
  const modes = new Set<Exclude<ApprovalMode, 'none'>>()
  let expiryHours = DEFAULT_APPROVAL_EXPIRY_HOURS
  for (const p of list) {
    if (p?.outboundApproval && p.outboundApproval !== 'none') modes.add(p.outboundApproval)
    if (typeof p?.approvalExpiryHours === 'number') expiryHours = Math.min(expiryHours, p.approvalExpiryHours)
  }
  const outboundApproval = modes.has('all') ? (['all'] as const).slice() : APPROVAL_ORDER.filter((m) => modes.has(m))
  for (const p of list) {
    const q = p?.quarantine
    if (!q) continue
    if (q.minRisk && (minRisk === null || RISK_RANK[q.minRisk] < RISK_RANK[minRisk])) minRisk = q.minRisk
    if (typeof q.minScore === 'number' && (minScore === null || q.minScore < minScore)) minScore = q.minScore
    if (q.dmarcFail) dmarcFail = true
  }
  return { quarantine: { minRisk, minScore, dmarcFail }, outboundApproval, approvalExpiryHours: expiryHours }
}

/** Held mail nobody decided on ends `expired` after this long, unless a policy says sooner. */
export const DEFAULT_APPROVAL_EXPIRY_HOURS = 72
const APPROVAL_ORDER: Exclude<ApprovalMode, 'none'>[] = ['first_contact', 'external', 'all']

/** The policies in force for a tenant, or for one of its inboxes. */
export async function effectivePolicies(tx: Tx, tenantId: string, inbox?: { policies: Policies | null }): Promise<EffectivePolicies> {
  const chain = await rawRows<{ policies: Policies | null; parent_policies: Policies | null }>(tx, policyChain(tenantId))
  return strictest([...chain.flatMap((r) => [r.policies, r.parent_policies]), inbox?.policies])
}

/** Whether a verdict falls under the quarantine policy, and why (for the log and the event). */
export function quarantineReason(v: { risk: Risk; injectionScore: number; auth: { dmarc: string | null } }, p: EffectivePolicies): string | null {
  const q = p.quarantine
  if (q.minRisk && RISK_RANK[v.risk] >= RISK_RANK[q.minRisk]) return `risk ${v.risk} (policy: ${q.minRisk} and above)`
  if (q.minScore !== null && v.injectionScore >= q.minScore) return `injection score ${v.injectionScore} (policy: ${q.minScore} and above)`
  if (q.dmarcFail && v.auth.dmarc === 'fail') return 'DMARC failed (policy: quarantine on DMARC failure)'
  return null
}

/** A risk filter (`maxRisk`) as the set of risks it admits. */
export const risksUpTo = (max: Risk): Risk[] => (['low', 'medium', 'high'] as Risk[]).filter((r) => RISK_RANK[r] <= RISK_RANK[max])
