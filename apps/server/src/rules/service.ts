// Allow/block lists: how a platform keeps an agent from mailing the world, and keeps unwanted
// senders out. A domain pattern matches the domain and its subdomains.
import { monotonicMs } from '../lib/clock.js'
import { and, eq, isNull, or, sql, type SQL } from 'drizzle-orm'
import type { SenderRule } from '@mailroom/contract'
import type { Database, Tx } from '../db/client.js'
import { ownRows, withTenant } from '../db/scope.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { newestFirst, type Page } from '../db/keyset.js'
import type { CursorPosition } from '../lib/cursor.js'
import { senderRules, type SenderRuleRow } from './tables.js'
import { policiesChanged } from '../smtp/policy-changes.js'

export function normalisePattern(p: string): string {
  return p.trim().toLowerCase().replace(/^@/, '')
}

export function matches(pattern: string, address: string): boolean {
  const a = address.trim().toLowerCase()
  if (pattern.includes('@')) return a === pattern
  const domain = a.slice(a.lastIndexOf('@') + 1)
  return domain === pattern || domain.endsWith(`.${pattern}`)
}

async function rulesFor(tx: Tx, inboxId: string, direction: 'inbound' | 'outbound'): Promise<SenderRuleRow[]> {
  return tx
    .select()
    .from(senderRules)
    .where(and(ownRows(tx, senderRules.tenantId), eq(senderRules.direction, direction), or(isNull(senderRules.inboxId), eq(senderRules.inboxId, inboxId))))
}

/** The inbound rules that apply to an inbox (the tenant's and its own), as verdictOf needs them. */
export const inboundRulesOf = (tenantId: string, inboxId: string): SQL =>
  sql`select action, pattern, inbox_id as "inboxId", block_mode as "blockMode" from sender_rules
      where tenant_id = ${tenantId} and direction = 'inbound' and (inbox_id is null or inbox_id = ${inboxId})`

/** What the verdict on a sender needs of a rule. */
export type InboundRule = Pick<SenderRuleRow, 'action' | 'pattern' | 'inboxId' | 'blockMode'>

/**
 * What to do with mail from `sender` to an inbox, given its inbound rules: a matching block wins;
 * where allow rules exist (the inbox's, else the tenant's), a sender outside them is refused.
 */
export function verdictOf(rules: InboundRule[], sender: string | null): 'accept' | 'reject' | 'hide' {
  if (rules.length === 0) return 'accept'
  const from = sender ?? ''
  const block = rules.find((r) => r.action === 'block' && from !== '' && matches(r.pattern, from))
  if (block) return block.blockMode
  const scoped = allowListOf(rules)
  if (scoped && !scoped.some((pattern) => from !== '' && matches(pattern, from))) return 'reject'
  return 'accept'
}

/** The block patterns that bind an inbox (its own and its tenant's), or null when none. */
export function blockListOf(rules: InboundRule[]): string[] | null {
  const blocks = rules.filter((r) => r.action === 'block')
  return blocks.length > 0 ? blocks.map((r) => r.pattern) : null
}

/**
 * The allow list that binds an inbox (its own allow rules, else its tenant's): the patterns, or null
 * when none. The envelope sender is checked against it at RCPT (verdictOf); the message's From,
 * which the agent reads and which the envelope does not vouch for, after DATA, verified
 * (messages/ingest/verdicts.ts allowListFinding).
 */
export function allowListOf(rules: InboundRule[]): string[] | null {
  const allows = rules.filter((r) => r.action === 'allow')
  const scoped = allows.some((r) => r.inboxId) ? allows.filter((r) => r.inboxId) : allows
  return scoped.length > 0 ? scoped.map((r) => r.pattern) : null
}

/** The recipients an inbox may not send to (blocked, or outside an allow list). */
export async function outboundRefused(tx: Tx, inboxId: string, recipients: string[]): Promise<string[]> {
  const rules = await rulesFor(tx, inboxId, 'outbound')
  if (rules.length === 0) return []
  const allows = rules.filter((r) => r.action === 'allow')
  const blocks = rules.filter((r) => r.action === 'block')
  return recipients.filter((to) => blocks.some((r) => matches(r.pattern, to)) || (allows.length > 0 && !allows.some((r) => matches(r.pattern, to))))
}

export function ruleToWire(r: SenderRuleRow): SenderRule {
  return {
    id: toPublicId('rule', r.id),
    inboxId: r.inboxId ? toPublicId('inbox', r.inboxId) : null,
    setByTenantId: toPublicId('tenant', r.setByTenantId),
    direction: r.direction,
    action: r.action,
    pattern: r.pattern,
    blockMode: r.blockMode,
    createdAt: r.createdAt.toISOString(),
  }
}

export interface NewRule {
  inboxId: string | null
  direction: 'inbound' | 'outbound'
  action: 'allow' | 'block'
  pattern: string
  blockMode: 'reject' | 'hide'
  /** The tenant whose key made it (an ancestor acting inside this tenant, or the tenant itself). */
  setByTenantId: string
}

export async function createRule(tx: Tx, tenantId: string, r: NewRule): Promise<SenderRuleRow> {
  const [created] = await tx
    .insert(senderRules)
    .values({ tenantId, id: newUuid(), ...r, pattern: normalisePattern(r.pattern) })
    .returning()
  // The SMTP door keeps each inbox's inbound rules (smtp/recipient-policy.ts).
  await policiesChanged(tx, { tenantId })
  return created!
}

export function listRules(tx: Tx, limit: number, after: CursorPosition | null): Promise<Page<SenderRuleRow>> {
  return newestFirst(tx, senderRules, { limit, after })
}

export async function getRule(tx: Tx, id: string): Promise<SenderRuleRow | null> {
  const [rule] = await tx.select().from(senderRules).where(and(ownRows(tx, senderRules.tenantId), eq(senderRules.id, id)))
  return rule ?? null
}

export async function deleteRule(tx: Tx, id: string): Promise<void> {
  const [gone] = await tx.delete(senderRules).where(and(ownRows(tx, senderRules.tenantId), eq(senderRules.id, id))).returning({ tenantId: senderRules.tenantId })
  if (gone) await policiesChanged(tx, { tenantId: gone.tenantId })
}

/**
 * What a recipient the door let in carries into the ingest of its sender rules (Recipient): hidden
 * (a block with blockMode `hide` matched the envelope sender), or, let through, the allow list and the
 * block patterns the message's From is held to after DATA (messages/ingest/verdicts.ts judge).
 */
export function senderRulesAfterData(rules: InboundRule[], verdict: 'accept' | 'hide'): { hidden: boolean; allowList?: string[]; blockList?: string[] } {
  if (verdict === 'hide') return { hidden: true }
  const allowList = allowListOf(rules)
  const blockList = blockListOf(rules)
  return { hidden: false, ...(allowList ? { allowList } : {}), ...(blockList ? { blockList } : {}) }
}
