// What the SMTP door checks for each routed recipient besides its route: the tenant's limits (the
// tightest along its ancestry), the inbox's own, and the inbound sender rules that apply to the
// inbox. Read together, as one statement in one round trip of one transaction under the tenant's
// row-level security, and kept in memory (at most keepMs) the way routes are
// (recipient-routing.ts): whoever changes what it holds (a tenant's limits, an inbox's limits, a
// sender rule created or deleted) calls policiesChanged(tx, what) (policy-changes.ts) in that
// transaction, which forgets it in this process at once and in every process when the notification
// sent on commit reaches it.
// Nothing kept is served while the process is not listening or the database is known to be down:
// then concurrent asks for one inbox still share one read, and nothing more.
import { sql } from 'drizzle-orm'
import type { InboxLimits, TenantLimits } from '@mailroom/contract'
import type { Database } from '../db/client.js'
import { ChangeFeed } from '../db/change-feed.js'
import { readAsTenant } from '../db/scope.js'
import { fused } from '../db/pipeline.js'
import { monotonicMs } from '../lib/clock.js'
import type { Logger } from '../lib/log.js'
import { limitChain, limitsOf } from '../tenancy/service.js'
import { inboundRulesOf, type InboundRule } from '../rules/service.js'
import { changeOf, POLICIES_CHANNEL, type PolicyChange } from './policy-changes.js'

export interface RecipientPolicy {
  /** The tenant's limits in force (its ancestry's tightest). */
  limits: TenantLimits
  /** The inbox's own limits. */
  inbox: InboxLimits
  /** The inbound sender rules of the tenant and of the inbox. */
  rules: InboundRule[]
}

const MAX_KEPT = 50_000

interface Kept {
  /** When its read began (monotonicMs). */
  at: number
  value: Promise<RecipientPolicy>
  /** The read has finished (until then it is shared whatever the trust). */
  done: boolean
}

export interface PolicyOptions {
  /** How long a policy read is kept (0: never; every RCPT reads it). */
  keepMs: number
  log?: Logger
}

export class RecipientPolicies {
  /** By tenant, then inbox. */
  private readonly kept = new Map<string, Map<string, Kept>>()
  private size = 0
  private readonly feed: ChangeFeed<PolicyChange>

  constructor(
    private readonly database: Database,
    private readonly o: PolicyOptions,
  ) {
    this.feed = new ChangeFeed(database, {
      channel: POLICIES_CHANNEL,
      parse: changeOf,
      forget: (change) => ('all' in change ? this.clear() : this.forgetTenant(change.tenantId)),
      clear: () => this.clear(),
      what: "every RCPT's limits and sender rules are",
      keepMs: o.keepMs,
      log: o.log,
    })
  }

  start(): void {
    this.feed.start()
  }

  stop(): Promise<void> {
    return this.feed.stop()
  }

  /** The policy of a routed recipient (one read for concurrent asks of the same inbox). */
  get(tenantId: string, inboxId: string): Promise<RecipientPolicy> {
    const now = monotonicMs()
    const inboxes = this.kept.get(tenantId)
    const hit = inboxes?.get(inboxId)
    // A read in flight began after any change heard here (a change forgets it), so it is shared.
    if (hit && (!hit.done || this.feed.serves(hit.at))) return hit.value
    if (hit) this.drop(tenantId, inboxId)
    const asked = this.feed.generation
    const entry: Kept = { at: now, value: this.read(tenantId, inboxId), done: false }
    this.keep(tenantId, inboxId, entry)
    entry.value.then(
      () => {
        entry.done = true
        // Kept only when trusted and no change was heard while it was read (it may predate the change).
        if (!this.feed.mayKeep(asked)) this.dropEntry(tenantId, inboxId, entry)
      },
      // A failed read is not remembered.
      () => this.dropEntry(tenantId, inboxId, entry),
    )
    return entry.value
  }

  private keep(tenantId: string, inboxId: string, entry: Kept): void {
    if (this.size >= MAX_KEPT) this.clear()
    const inboxes = this.kept.get(tenantId) ?? new Map<string, Kept>()
    inboxes.set(inboxId, entry)
    this.kept.set(tenantId, inboxes)
    this.size++
  }

  private dropEntry(tenantId: string, inboxId: string, entry: Kept): void {
    if (this.kept.get(tenantId)?.get(inboxId) === entry) this.drop(tenantId, inboxId)
  }

  private drop(tenantId: string, inboxId: string): void {
    const inboxes = this.kept.get(tenantId)
    if (!inboxes?.delete(inboxId)) return
    this.size--
    if (inboxes.size === 0) this.kept.delete(tenantId)
  }

  private forgetTenant(tenantId: string): void {
    const inboxes = this.kept.get(tenantId)
    if (!inboxes) return
    this.size -= inboxes.size
    this.kept.delete(tenantId)
  }

  private clear(): void {
    this.kept.clear()
    this.size = 0
  }

  private async read(tenantId: string, inboxId: string): Promise<RecipientPolicy> {
    const reads = fused(
      [
        limitChain(tenantId),
        sql`select limits from inboxes where id = ${inboxId}`,
        inboundRulesOf(inboxId),
      ],
      this.database.citus === true,
    )
    const [chain, inbox, rules] = reads.split(await readAsTenant(this.database, { tenantId }, reads.statements))
    return {
      limits: limitsOf(chain!),
      inbox: (inbox![0]?.limits as InboxLimits | undefined) ?? {},
      rules: rules as unknown as InboundRule[],
    }
  }
}
