// Tenants: the tree, creation with a first key, updates and deletion. All calls run inside a
// tenant-scoped transaction (db/scope.ts); RLS confines them to the caller's subtree.
import { eq, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { Policies, Tenant, TenantLimits } from '@mailroom/contract'
import { rawRows, type Database, type Tx } from '../db/client.js'
import { textTemplate } from '../db/pipeline.js'
import { rebindTenant, sayChecked, withTenant } from '../db/scope.js'
import { retryConflicts } from '../db/health.js'
import { audit, type Actor } from '../audit/service.js'
import type { Logger } from '../lib/log.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { microsOf, pageOf, type CursorPosition } from '../lib/cursor.js'
import { newestFirst, type Page } from '../db/keyset.js'
import { tenants, type TenantRow } from './tables.js'
import { inboxes } from '../inboxes/tables.js'
import { createApiKey } from '../apikeys/service.js'
import type { TenantCrypto } from '../crypto/service.js'
import { ServiceError } from '../errors.js'
import { routesChanged } from '../smtp/recipient-routing.js'
import { keysChanged } from '../apikeys/key-changes.js'
import { policiesChanged } from '../smtp/policy-changes.js'

export function tenantToWire(t: Omit<TenantRow, 'ancestors'>): Tenant {
  return {
    id: toPublicId('tenant', t.id),
    parentId: t.parentId ? toPublicId('tenant', t.parentId) : null,
    name: t.name,
    status: t.status,
    limits: t.limits,
    policies: t.policies ?? {},
    parentPolicies: t.parentPolicies ?? {},
    metadata: (t.metadata ?? {}) as Tenant['metadata'],
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  }
}

export async function getTenant(tx: Tx, id: string): Promise<TenantRow | null> {
  const [row] = await tx.select().from(tenants).where(eq(tenants.id, id))
  return row ?? null
}

/** True when `id` is a strict descendant of `ancestorId` (as far as the caller can see). */
export function isDescendant(row: TenantRow, ancestorId: string): boolean {
  return row.ancestors.includes(ancestorId)
}

/** The limits in force for a tenant: the tightest value along its ancestry. */
export async function effectiveLimits(tx: Tx, tenantId: string): Promise<TenantLimits> {
  return limitsOf(await rawRows<{ limits: TenantLimits }>(tx, limitChain(tenantId)))
}

/** The limits of a tenant and its ancestors, through a narrow lookup: under RLS a tenant cannot see its ancestors, whose caps bind it. */
const limitChainText = textTemplate<'tenantId'>((v) => sql`select limits from mailroom_limit_chain(${v('tenantId')})`)
export const limitChain = (tenantId: string): SQLWrapper => limitChainText({ tenantId })

/** The tightest of each limit over the rows of limitChain. */
export function limitsOf(rows: { limits?: unknown }[]): TenantLimits {
  const out: Record<string, number> = {}
  for (const r of rows) {
    for (const [k, v] of Object.entries((r.limits as TenantLimits | null) ?? {})) {
      if (typeof v === 'number') out[k] = Math.min(out[k] ?? Infinity, v)
    }
  }
  return out as TenantLimits
}

/** Every limit asked for a child must fit inside its parent's effective limits. */
export function limitsExceeding(asked: TenantLimits | undefined, parent: TenantLimits): string[] {
  const bad: string[] = []
  for (const [k, cap] of Object.entries(parent)) {
    if (typeof cap !== 'number') continue
    const v = asked?.[k as keyof TenantLimits]
    if (v === null || (typeof v === 'number' && v > cap)) bad.push(`${k} (parent allows ${cap})`)
  }
  return bad
}

/**
 * The limits a tenant holds in its own right: its chain's tightest, and where the chain sets none,
 * the deployment's defaults for the limits that have one (the API request rate).
 */
export async function capOf(tx: Tx, tenantId: string, defaults: TenantLimits): Promise<TenantLimits> {
  return { ...defaults, ...(await effectiveLimits(tx, tenantId)) }
}

/**
 * Refuses limits asked for a child (a tenant, or an inbox) that exceed what its parent holds:
 * `validation_error` naming each. `path` is where the limits sit in the request body.
 */
export async function assertWithinParent(tx: Tx, parentId: string, asked: TenantLimits | undefined, defaults: TenantLimits, opts: { path: string; only?: readonly (keyof TenantLimits)[] }): Promise<void> {
  let cap = await capOf(tx, parentId, defaults)
  if (opts.only) cap = Object.fromEntries(opts.only.flatMap((k) => (typeof cap[k] === 'number' ? [[k, cap[k]]] : []))) as TenantLimits
  const over = limitsExceeding(asked, cap)
  if (over.length) {
    const whose = opts.only ? "the tenant's" : "the parent's"
    throw new ServiceError('validation_error', `limits exceed ${whose}: ${over.join(', ')}`, over.map((o) => ({ path: opts.path, message: o })))
  }
}

interface CreateTenantInput {
  parentId: string | null
  name: string
  limits?: TenantLimits | undefined
  policies?: Policies | undefined
  metadata?: Record<string, unknown> | undefined
}

/**
 * Creates a tenant and its first tenant key in the caller's transaction. For a child the
 * transaction is bound to the parent; it is re-bound to the child to write the child's key, and
 * back to the parent afterwards.
 */
export async function createTenantWithKey(tx: Tx, crypto: TenantCrypto, input: CreateTenantInput): Promise<{ tenant: TenantRow; apiKey: string }> {
  const id = newUuid()
  if (input.parentId === null) await rebindTenant(tx, { tenantId: id })
  const [tenant] = await tx
    .insert(tenants)
    .values({ id, parentId: input.parentId, name: input.name, limits: input.limits ?? {}, parentPolicies: input.policies ?? {}, metadata: input.metadata ?? {} })
    .returning()
  await rebindTenant(tx, { tenantId: id })
  await crypto.createKey(tx, id)
  const { key } = await createApiKey(tx, { tenantId: id, scope: 'tenant', name: 'default' })
  if (input.parentId) await rebindTenant(tx, { tenantId: input.parentId })
  return { tenant: tenant!, apiKey: key }
}

/** A top-level tenant, for the operator (CLI, operator key, first embedded start). */
export async function createRootTenant(database: Database, crypto: TenantCrypto, name: string): Promise<{ tenant: TenantRow; apiKey: string }> {
  const placeholder = newUuid()
  return withTenant(database, { tenantId: placeholder }, (tx) => createTenantWithKey(tx, crypto, { parentId: null, name }))
}

/**
 * Top-level tenants, newest first, for the operator (GET /v1/tenants with the operator key), read by
 * mailroom_admin_root_tenants (migration 0037) in a transaction with the operator's rights
 * (db/scope.ts asOperator): no tenant's transaction may list them.
 */
export async function listRootTenants(tx: Tx, limit: number, after: CursorPosition | null): Promise<Page<Omit<TenantRow, 'ancestors'>>> {
  const rows = await rawRows<RootTenantRow>(
    tx,
    sql`select t.id, t.parent_id, t.name, t.status, t.limits, t.policies, t.parent_policies, t.metadata, t.created_at, t.updated_at,
               ${microsOf(sql`t.created_at`)} as at
        from mailroom_admin_root_tenants(${limit + 1}, ${after?.at ?? null}::bigint, ${after?.id ?? null}::uuid) t`,
  )
  const page = pageOf(
    rows.map((r) => ({ id: r.id, at: r.at, row: { id: r.id, parentId: r.parent_id, name: r.name, status: r.status, limits: r.limits, policies: r.policies, parentPolicies: r.parent_policies, metadata: r.metadata, createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) } })),
    limit,
  )
  return { rows: page.items.map((i) => i.row), nextCursor: page.nextCursor }
}

interface RootTenantRow {
  id: string
  parent_id: string | null
  name: string
  status: TenantRow['status']
  limits: TenantRow['limits']
  policies: TenantRow['policies']
  parent_policies: TenantRow['parentPolicies']
  metadata: TenantRow['metadata']
  created_at: Date | string
  updated_at: Date | string
  at: string
}

export async function listChildren(tx: Tx, parentId: string, limit: number, after: CursorPosition | null) {
  return newestFirst(tx, tenants, { limit, after, where: eq(tenants.parentId, parentId) })
}

export async function updateTenant(
  tx: Tx,
  id: string,
  patch: {
    name?: string | undefined
    status?: 'active' | 'suspended' | undefined
    limits?: TenantLimits | undefined
    policies?: Policies | undefined
    parentPolicies?: Policies | undefined
    metadata?: Record<string, unknown> | undefined
  },
): Promise<TenantRow | null> {
  const [row] = await tx
    .update(tenants)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(tenants.id, id))
    .returning()
  // Its addresses (and its descendants') are refused with 451 while it is suspended: each process
  // forgets the routes it kept of its subtree, and no other tenant's.
  if (row && patch.status !== undefined) await routesChanged(tx, { subtree: id })
  // And so are its keys' requests (and its descendants').
  if (row && patch.status !== undefined) await keysChanged(tx, { subtree: id })
  // Its limits cap its descendants' too: the recipient policies and limits kept of its subtree.
  if (row && patch.limits !== undefined) await policiesChanged(tx, { subtree: id })
  return row ?? null
}

/**
 * Deletes a descendant of `callerTenantId` and, by cascade, everything it and its descendants own.
 * Their data keys are destroyed first (crypto-shredding): from then on no copy of their rows can be
 * decrypted. A top-level tenant has no ancestor to delete it: only the operator does, with
 * `callerTenantId` null (the tenant row is then deleted bound to itself, with app.delete_root set:
 * the policy tenants_delete_root, migration 0029).
 */
async function deleteTenant(tx: Tx, crypto: TenantCrypto, callerTenantId: string | null, id: string): Promise<number> {
  const subtree = await tx
    .select({ id: tenants.id })
    .from(tenants)
    .where(or(eq(tenants.id, id), sql`${id}::uuid = any(${tenants.ancestors})`))
  if (subtree.length === 0) return 0
  for (const t of subtree) {
    await rebindTenant(tx, { tenantId: t.id })
    await crypto.destroyKeys(tx, [t.id])
    // The inboxes first, and with them (by cascade) their mail: the mail's own tables reach the
    // tenant only through their inbox or message (migration 0028), and a raw copy, which goes with
    // the tenant row, may not go while a message still refers to it. Deleted here, the order in which
    // Postgres runs the tenant row's cascades does not matter.
    await tx.delete(inboxes).where(eq(inboxes.tenantId, t.id))
  }
  await rebindTenant(tx, { tenantId: callerTenantId ?? id })
  if (callerTenantId === null) await sayChecked(tx, 'delete_root')
  const rows = await tx.delete(tenants).where(eq(tenants.id, id)).returning({ id: tenants.id })
  if (rows.length > 0) await routesChanged(tx, { subtree: id })
  if (rows.length > 0) await keysChanged(tx, { subtree: id })
  return rows.length > 0 ? subtree.length : 0
}

/**
 * Deletes tenant `id` for a caller: a tenant (`tenantId`, which deletes its descendants), or the
 * operator (`tenantId` null: any tenant, a top-level one included, as its parent if it has one).
 * Recorded in the audit log of the caller, or of the parent the operator acted as; the deleted
 * tenant's own log goes with it. Run again if Postgres rolls it back to break a deadlock with the
 * tenant's own traffic (the cascade takes every row the tenant owns, in whatever order Postgres
 * reaches them, and a writer may hold one of them and then need the tenant row, as the usage
 * counters' flush does). The tenant deleted and how many tenants went (it and its descendants), or
 * null when the caller has no such tenant.
 */
export async function deleteTenantFor(
  database: Database,
  crypto: TenantCrypto,
  caller: { tenantId: string | null; actor: Actor },
  id: string,
  log?: Logger,
): Promise<{ tenant: TenantRow; deleted: number } | null> {
  return retryConflicts(
    () =>
      withTenant(database, { tenantId: caller.tenantId ?? id }, async (tx) => {
        const tenant = await getTenant(tx, id)
        if (!tenant) return null
        if (tenant.id === caller.tenantId) throw new ServiceError('forbidden', 'a tenant cannot delete itself; its parent can')
        const parent = caller.tenantId ?? tenant.parentId
        const deleted = await deleteTenant(tx, crypto, parent, id)
        if (parent) await audit(tx, parent, caller.actor, 'tenant.deleted', { type: 'tenant', id: toPublicId('tenant', id) }, { name: tenant.name })
        return { tenant, deleted }
      }),
    (err, attempt) => log?.warn('tenant deletion rolled back by a conflict; trying again', { tenant: toPublicId('tenant', id), attempt, err: String(err) }),
  )
}
