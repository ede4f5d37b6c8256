// What the SMTP door checks for each routed recipient besides its route: the tenant's limits (the
// tightest along its ancestry), the inbox's own, and the inbound sender rules that apply to the
// inbox. Read together, as one statement in one round trip of one transaction under the tenant's
// row-level security, and kept a moment in memory: a change made through this process is seen at
// once (the rules' generation moves), one made elsewhere within POLICY_TTL_MS. With many inboxes each
// receiving now and then, the memory rarely helps, so the read itself is what has to be cheap.
import { sql } from 'drizzle-orm'
import type { InboxLimits, TenantLimits } from '@mailroom/contract'
import type { Database } from '../db/client.js'
import { readAsTenant } from '../db/scope.js'
import { fused } from '../db/pipeline.js'
import { monotonicMs } from '../lib/clock.js'
import { limitChain, limitsOf } from '../tenancy/service.js'
import { inboundRulesOf, rulesGeneration, type InboundRule } from '../rules/service.js'

export interface RecipientPolicy {
  /** The tenant's limits in force (its ancestry's tightest). */
  limits: TenantLimits
  /** The inbox's own limits. */
  inbox: InboxLimits
  /** The inbound sender rules of the tenant and of the inbox. */
  rules: InboundRule[]
}

const POLICY_TTL_MS = 2_000
const MAX_CACHED = 50_000

interface Cached {
  at: number
  generation: number
  value: Promise<RecipientPolicy>
}

export class RecipientPolicies {
  private readonly cache = new Map<string, Cached>()

  constructor(private readonly database: Database) {}

  /** The policy of a routed recipient (one read for concurrent asks of the same inbox). */
  get(tenantId: string, inboxId: string): Promise<RecipientPolicy> {
    const key = `${tenantId}:${inboxId}`
    const generation = rulesGeneration()
    const hit = this.cache.get(key)
    if (hit && hit.generation === generation && monotonicMs() - hit.at < POLICY_TTL_MS) return hit.value
    const entry: Cached = { at: monotonicMs(), generation, value: this.read(tenantId, inboxId) }
    // A failed read is not remembered.
    entry.value.catch(() => {
      if (this.cache.get(key) === entry) this.cache.delete(key)
    })
    if (this.cache.size >= MAX_CACHED) this.cache.clear()
    this.cache.set(key, entry)
    return entry.value
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
