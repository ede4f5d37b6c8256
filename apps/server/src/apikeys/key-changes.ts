// The announcement of a change to what the HTTP door keeps of a presented key (key-memory.ts): the
// key itself (revoked, or deleted with its inbox) or whether its tenant, or an ancestor, is suspended
// or deleted. A module of its own so that the writers (api keys, inboxes, tenancy) need not import
// the memory.
import type { Tx } from '../db/client.js'
import { announce, tenantChangeOf, type AllChange } from '../db/change-feed.js'

/** The channel on which a change of keys is announced (payload: a KeyChange). */
export const KEYS_CHANNEL = 'mailroom_keys'

/** What a change of keys may touch. */
export type KeyChange =
  /** A key of the tenant revoked, or an inbox of it deleted (its keys with it): the tenant's keys. */
  | { tenantId: string }
  /** A tenant suspended, resumed or deleted (its descendants' keys too): every key. */
  | AllChange

/** Call in the transaction that revokes a key, deletes an inbox, or suspends, resumes or deletes a tenant. */
export function keysChanged(tx: Tx, change: KeyChange): Promise<void> {
  return announce(tx, KEYS_CHANNEL, change)
}

/** Whether a change may touch the keys of `keyTenantId` (null: the operator key, which only a change of everything touches). */
export const touchesKeysOf = (change: KeyChange, keyTenantId: string | null): boolean => 'all' in change || change.tenantId === keyTenantId

/** The change a notification's payload names (one it cannot read: everything). */
export const keyChangeOf: (payload: string) => KeyChange = tenantChangeOf
