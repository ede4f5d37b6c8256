// An inbox's own limits (sending, receiving, retention, its keys' request rate), always within its
// tenant's, and the limits in force: the tightest of the inbox's and its tenant chain's.
import { and, eq, sql } from 'drizzle-orm'
import type { InboxLimits, InboxLimitsResponse, TenantLimits } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import { notFound } from '../errors.js'
import { toPublicId } from '../lib/ids.js'
import { assertWithinParent, capOf } from '../tenancy/service.js'
import { policiesChanged } from '../smtp/policy-changes.js'
import { getInbox } from './service.js'
import { inboxes } from './tables.js'
import { ownRows } from '../db/scope.js'

export const INBOX_LIMIT_KEYS = ['sendPerMinute', 'sendPerDay', 'newRecipientsPerDay', 'receivePerMinute', 'retentionDays', 'apiRequestsPerSecond', 'apiBurst'] as const

/** The inbox's own limits and the ones in force; `defaults`: the deployment's (limits/api-rate.ts limitDefaults). */
export async function inboxLimits(tx: Tx, inboxId: string, defaults: TenantLimits): Promise<InboxLimitsResponse> {
  const inbox = await getInbox(tx, inboxId)
  if (!inbox) throw notFound('inbox')
  const tenant = await capOf(tx, inbox.tenantId, defaults)
  const own = inbox.limits ?? {}
  const effective: Record<string, number | null> = {}
  for (const k of INBOX_LIMIT_KEYS) {
    const a = own[k]
    const b = tenant[k]
    effective[k] = typeof a === 'number' ? (typeof b === 'number' ? Math.min(a, b) : a) : typeof b === 'number' ? b : null
  }
  return { inboxId: toPublicId('inbox', inbox.id), limits: own, effective }
}

/** Replaces the inbox's own limits (an absent or null one: none of its own); never above its tenant's. */
export async function setInboxLimits(tx: Tx, inboxId: string, input: InboxLimits, defaults: TenantLimits): Promise<InboxLimitsResponse> {
  const inbox = await getInbox(tx, inboxId)
  if (!inbox) throw notFound('inbox')
  await assertWithinParent(tx, inbox.tenantId, input as TenantLimits, defaults, { path: 'body', only: INBOX_LIMIT_KEYS })
  const limits: Record<string, number> = {}
  for (const k of INBOX_LIMIT_KEYS) if (typeof input[k] === 'number') limits[k] = input[k]
  await tx.update(inboxes).set({ limits, updatedAt: sql`now()` }).where(and(ownRows(tx, inboxes.tenantId), eq(inboxes.id, inboxId)))
  await policiesChanged(tx, { tenantId: inbox.tenantId })
  return inboxLimits(tx, inboxId, defaults)
}
