// Writing and reading the audit log. Entries are written in the transaction of the action itself,
// so an action and its record commit together.
import { eq } from 'drizzle-orm'
import type { AuditEntry } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import type { Principal } from '../apikeys/principal.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { type CursorPosition } from '../lib/cursor.js'
import { newestFirst } from '../db/keyset.js'
import { auditLog } from './tables.js'

export interface Actor {
  kind: 'tenant' | 'inbox' | 'operator' | 'system'
  tenantId: string | null
  keyId: string | null
}

export function actorOf(p: Principal): Actor {
  if (p.kind === 'operator') return OPERATOR
  return { kind: p.kind, tenantId: p.keyTenantId, keyId: p.keyId }
}

export const SYSTEM: Actor = { kind: 'system', tenantId: null, keyId: null }
export const OPERATOR: Actor = { kind: 'operator', tenantId: null, keyId: null }

export async function audit(
  tx: Tx,
  tenantId: string,
  actor: Actor,
  action: string,
  target: { type: string; id: string | null },
  details: Record<string, unknown> = {},
): Promise<void> {
  await tx.insert(auditLog).values({
    tenantId,
    id: newUuid(),
    actorKind: actor.kind,
    actorTenantId: actor.tenantId,
    actorKeyId: actor.keyId,
    action,
    targetType: target.type,
    targetId: target.id,
    details,
  })
}

/** Newest first; RLS limits it to the caller's tenant and its descendants. */
export async function listAudit(tx: Tx, limit: number, after: CursorPosition | null, tenantId?: string) {
  return newestFirst(tx, auditLog, { limit, after, descendants: true, where: tenantId ? eq(auditLog.tenantId, tenantId) : undefined })
}

export function auditToWire(r: typeof auditLog.$inferSelect): AuditEntry {
  return {
    id: toPublicId('audit', r.id),
    tenantId: toPublicId('tenant', r.tenantId),
    actor: {
      kind: r.actorKind,
      tenantId: r.actorTenantId ? toPublicId('tenant', r.actorTenantId) : null,
      keyId: r.actorKeyId ? toPublicId('apiKey', r.actorKeyId) : null,
    },
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    details: r.details,
    createdAt: r.createdAt.toISOString(),
  }
}
