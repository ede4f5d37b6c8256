// The announcement of a change to what the SMTP door keeps of a recipient's policy
// (recipient-policy.ts): its tenant's limits, its inbox's limits, the inbound sender rules. A module
// of its own so that the writers (tenancy, inboxes, rules) need not import the memory, which
// imports their reads.
import type { Tx } from '../db/client.js'
import { announce, tenantChangeOf, type AllChange, type SubtreeChange } from '../db/change-feed.js'

/** The channel on which a change of recipient policies is announced (payload: a PolicyChange). */
export const POLICIES_CHANNEL = 'mailroom_policies'

/** What a change of recipient policies may touch. */
export type PolicyChange =
  /** A sender rule of the tenant, or an inbox's limits: the tenant's inboxes. */
  | { tenantId: string }
  /** A tenant's limits (its descendants' are capped by them): the inboxes of its subtree. */
  | SubtreeChange
  /** Anything may have changed (listening began again, or a payload that cannot be read): every inbox. */
  | AllChange

/** Call in the transaction that changes a tenant's limits, an inbox's limits or a sender rule. */
export function policiesChanged(tx: Tx, change: PolicyChange): Promise<void> {
  return announce(tx, POLICIES_CHANNEL, change)
}

/** The change a notification's payload names (one it cannot read: everything). */
export const changeOf: (payload: string) => PolicyChange = tenantChangeOf
