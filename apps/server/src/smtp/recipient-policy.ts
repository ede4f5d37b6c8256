// What the SMTP door checks for each routed recipient besides its route: the tenant's limits (the
// tightest along its ancestry), the inbox's own, and the inbound sender rules that apply to the
// inbox. Read together, as one statement in one round trip of one transaction under the tenant's
// row-level security, and kept in memory (at most keepMs) the way routes are
// (recipient-routing.ts): whoever changes what it holds (a tenant's limits, an inbox's limits, a
// sender rule created or deleted) calls policiesChanged(tx, what) (policy-changes.ts) in that
// transaction, which forgets it in this process at once and in every process when the notification
// sent on commit reaches it. A tenant's own limits in force (the rates of its tenant keys at the HTTP
// door) are kept the same way, on the same announcements.
// Nothing kept is served while the process is not listening or the database is known to be down:
// then concurrent asks for one inbox still share one read, and nothing more (db/change-feed.ts Memory).
import { sql } from 'drizzle-orm'
import type { InboxLimits, TenantLimits } from '@mailroom/contract'
import type { Database } from '../db/client.js'
import { ChangeFeed, inSubtree, type Memory, type MemoryCounts } from '../db/change-feed.js'
import { readAsTenant } from '../db/scope.js'
import { fused } from '../db/pipeline.js'
import type { Logger } from '../lib/log.js'
import { limitChain, limitsOf } from '../tenancy/service.js'
import { inboundRulesOf, type InboundRule } from '../rules/service.js'
import { changeOf, POLICIES_CHANNEL, type PolicyChange } from './policy-changes.js'

export interface RecipientPolicy {
  /** The tenant it was read for (under whose row-level security). */
  tenantId: string
  /** The tenant's ancestors, then the tenant: a change of any of their limits touches the policy. */
  tenantPath: readonly string[]
  /** The tenant's limits in force (its ancestry's tightest). */
  limits: TenantLimits
  /** The inbox's own limits. */
  inbox: InboxLimits
  /** The inbound sender rules of the tenant and of the inbox. */
  rules: InboundRule[]
}

export interface PolicyOptions {
  /** How long a policy read is kept (0: never; every RCPT reads it). */
  keepMs: number
  log?: Logger
}

export class RecipientPolicies {
  private readonly feed: ChangeFeed<PolicyChange>
  /** By inbox id (an inbox id names one tenant's inbox; what is kept says which, and is served to that tenant only). */
  private readonly kept: Memory<RecipientPolicy>
  /** A tenant's limits in force, by tenant (the rates of a tenant's key), with the tenant's path. */
  private readonly tenants: Memory<{ limits: TenantLimits; path: readonly string[] }>

  constructor(
    private readonly database: Database,
    o: PolicyOptions,
  ) {
    this.feed = new ChangeFeed(database, {
      channel: POLICIES_CHANNEL,
      parse: changeOf,
      // A sender rule or an inbox's limits: the tenant's policies (its own limits are not touched). A
      // tenant's limits: the policies and limits of its subtree, which they cap. A change of
      // everything the feed forgets itself.
      forget: (change) => {
        if ('tenantId' in change) return this.kept.forget((_, policy) => policy.tenantId === change.tenantId)
        this.kept.forget((_, policy) => inSubtree(change, policy.tenantPath))
        this.tenants.forget((_, t) => inSubtree(change, t.path))
      },
      what: "every RCPT's limits and sender rules are",
      keepMs: o.keepMs,
      log: o.log,
    })
    this.kept = this.feed.memory()
    this.tenants = this.feed.memory()
  }

  /** Moves with every change heard (and every start or loss of listening): what was read before may be stale. */
  get version(): number {
    return this.feed.generation
  }

  /** Policies and tenants' limits served from memory, and read. */
  get counts(): { policies: MemoryCounts; tenantLimits: MemoryCounts } {
    return { policies: this.kept.counts, tenantLimits: this.tenants.counts }
  }

  start(): void {
    this.feed.start()
  }

  stop(): Promise<void> {
    return this.feed.stop()
  }

  /** The policy of a routed recipient (one read for concurrent asks of the same inbox). */
  async get(tenantId: string, inboxId: string): Promise<RecipientPolicy> {
    const policy = await this.kept.get(inboxId, () => this.read(tenantId, inboxId))
    if (policy.tenantId === tenantId) return policy
    // Asked for another tenant than the one it was read for (no caller does: the tenant and the
    // inbox come from one route or key row): never served across tenants, read for this one.
    return this.read(tenantId, inboxId)
  }

  /** The limits in force of a tenant (its ancestry's tightest), for its tenant keys' rates. */
  async tenantLimits(tenantId: string): Promise<TenantLimits> {
    const kept = await this.tenants.get(tenantId, async () => {
      const [chain, path] = await readAsTenant(this.database, { tenantId }, [limitChain(tenantId), tenantPath(tenantId)])
      return { limits: limitsOf(chain!), path: pathOf(path!) }
    })
    return kept.limits
  }

  private async read(tenantId: string, inboxId: string): Promise<RecipientPolicy> {
    const reads = fused(
      [
        limitChain(tenantId),
        // Each names the tenant (on Citus: its shard alone, db/scope.ts ownRows).
        sql`select limits from inboxes where tenant_id = ${tenantId} and id = ${inboxId}`,
        inboundRulesOf(tenantId, inboxId),
        tenantPath(tenantId),
      ],
      this.database.citus === true,
    )
    const [chain, inbox, rules, path] = reads.split(await readAsTenant(this.database, { tenantId }, reads.statements))
    return {
      tenantId,
      tenantPath: pathOf(path!),
      limits: limitsOf(chain!),
      inbox: (inbox![0]?.limits as InboxLimits | undefined) ?? {},
      rules: rules as unknown as InboundRule[],
    }
  }
}

/** The tenant's path (its ancestors, then itself), read under its own row-level security. */
const tenantPath = (tenantId: string) => sql`select ancestors || id as path from tenants where id = ${tenantId}`

/** The path tenantPath read ([] for a tenant not found: it touches nothing, and nothing routes to it). */
const pathOf = (rows: Record<string, unknown>[]): readonly string[] => (rows[0]?.path as string[] | undefined) ?? []
