// The announcement of a change to what the HTTP door keeps of a presented key (key-memory.ts): the
// key itself (revoked, or deleted with its inbox) or whether its tenant, or an ancestor, is suspended
// or deleted. A module of its own so that the writers (api keys, inboxes, tenancy) need not import
// the memory. A tenant's standing is announced as a change of its subtree: what is kept names the
// path of its tenant, so each process forgets only the keys of that subtree, not every tenant's.
import type { Tx } from '../db/client.js'
import { announce, inSubtree, tenantChangeOf, type AllChange, type SubtreeChange } from '../db/change-feed.js'

/** The channel on which a change of keys is announced (payload: a KeyChange). */
export const KEYS_CHANNEL = 'mailroom_keys'

/** What a change of keys may touch. */
export type KeyChange =
  /** A key of the tenant revoked, or an inbox of it deleted (its keys with it): the tenant's keys. */
  | { tenantId: string }
  /** A tenant suspended, resumed or deleted: its keys and its descendants', and acting in any of them. */
  | SubtreeChange
  /** Anything may have changed (listening began again, or a payload that cannot be read): every key. */
  | AllChange

/** Call in the transaction that revokes a key, deletes an inbox, or suspends, resumes or deletes a tenant. */
export function keysChanged(tx: Tx, change: KeyChange): Promise<void> {
  return announce(tx, KEYS_CHANNEL, change)
}

/** What a caller's key reaches, for which changes of keys touch it. */
export interface KeyReach {
  /** The tenant the key belongs to (null: the operator key). */
  keyTenantId: string | null
  /**
   * The path of the tenant the caller acts in (its ancestors, then itself; it holds the key's own
   * tenant's). Empty: the operator acting in no tenant, which no tenant's standing touches. Null: not
   * known (a console session), so that a change of any subtree may touch it.
   */
  path: readonly string[] | null
}

/** Whether a change may touch what a caller's key reaches. */
export function touchesKeysOf(change: KeyChange, reach: KeyReach): boolean {
  if ('all' in change) return true
  if ('subtree' in change) return reach.path === null || inSubtree(change, reach.path)
  return change.tenantId === reach.keyTenantId
}

/** The change a notification's payload names (one it cannot read: everything). */
export const keyChangeOf: (payload: string) => KeyChange = tenantChangeOf
