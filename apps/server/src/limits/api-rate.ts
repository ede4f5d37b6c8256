// Request-rate limits of the HTTP API: a token bucket per tenant (all its keys together) and one per
// inbox for inbox keys, sized by `apiRequestsPerSecond` / `apiBurst` in the limits (the tightest
// along the tenant's ancestry, as every limit; the deployment default where none is set). Buckets
// live in this process's memory: a refusal costs no database work, and a key this process has
// already seen is refused before its lookup (a flood of one key cannot reach the database at all).
// With several nodes each enforces the limits on its own share of the traffic.
import type { InboxLimits, TenantLimits } from '@mailroom/contract'

export interface Rate {
  /** Tokens added per second. */
  perSecond: number
  /** Bucket size: requests that may come at once. */
  burst: number
}

export interface Decision {
  ok: boolean
  /** Which bucket decided: the tighter one ("tenant" or "inbox"). */
  policy: 'tenant' | 'inbox'
  rate: Rate
  /** Whole requests left now. */
  remaining: number
  /** Seconds until the bucket is full again. */
  resetSeconds: number
  /** Seconds until the next request would be admitted (0 when ok). */
  retryAfter: number
}

interface Bucket {
  tokens: number
  at: number
  rate: Rate
}

/** The deployment's defaults of the limits that have one (the API request rate). */
export const limitDefaults = (config: { apiRequestsPerSecond: number; apiBurst: number }): TenantLimits => ({
  apiRequestsPerSecond: config.apiRequestsPerSecond,
  apiBurst: config.apiBurst,
})

/** The request rate of a tenant, or of an inbox within it: its own, capped by the tenant's (and the defaults). */
export function apiRateOf(tenant: TenantLimits, defaults: Rate, inbox?: InboxLimits): { tenant: Rate; inbox: Rate | null } {
  const t: Rate = { perSecond: tenant.apiRequestsPerSecond ?? defaults.perSecond, burst: tenant.apiBurst ?? defaults.burst }
  if (!inbox || (inbox.apiRequestsPerSecond == null && inbox.apiBurst == null)) return { tenant: t, inbox: null }
  return { tenant: t, inbox: { perSecond: Math.min(inbox.apiRequestsPerSecond ?? t.perSecond, t.perSecond), burst: Math.min(inbox.apiBurst ?? t.burst, t.burst) } }
}

const MAX_BUCKETS = 200_000

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly now: () => number = Date.now) {}

  private refill(key: string, rate: Rate): Bucket {
    const t = this.now()
    let b = this.buckets.get(key)
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(t)
      b = { tokens: rate.burst, at: t, rate }
      this.buckets.set(key, b)
      return b
    }
    // A changed limit applies at once; the tokens already there stay (within the new burst).
    b.rate = rate
    b.tokens = Math.min(rate.burst, b.tokens + ((t - b.at) / 1000) * rate.perSecond)
    b.at = t
    return b
  }

  /** Full buckets hold no information: forget them (a new one starts full). */
  private prune(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * b.rate.perSecond >= b.rate.burst) this.buckets.delete(k)
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear()
  }

  /** Whether a request would be admitted now, without taking anything. */
  peek(key: string, rate: Rate): boolean {
    return this.refill(key, rate).tokens >= 1
  }

  take(key: string, rate: Rate): { ok: boolean; tokens: number } {
    const b = this.refill(key, rate)
    if (b.tokens < 1) return { ok: false, tokens: b.tokens }
    b.tokens -= 1
    return { ok: true, tokens: b.tokens }
  }

  /** Returns a token taken for a request that did not happen after all. */
  giveBack(key: string): void {
    const b = this.buckets.get(key)
    if (b) b.tokens = Math.min(b.rate.burst, b.tokens + 1)
  }
}

function decision(policy: 'tenant' | 'inbox', rate: Rate, ok: boolean, tokens: number): Decision {
  return {
    ok,
    policy,
    rate,
    remaining: Math.max(0, Math.floor(tokens)),
    resetSeconds: Math.max(0, Math.ceil((rate.burst - tokens) / rate.perSecond)),
    retryAfter: ok ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate.perSecond)),
  }
}

/**
 * Takes one request from the tenant's bucket and, for an inbox key, the inbox's. Both must admit it;
 * a refusal by the inbox bucket gives the tenant's token back (the request did not happen).
 */
export function admit(buckets: TokenBuckets, tenantId: string, inboxId: string | null, rates: { tenant: Rate; inbox: Rate | null }): Decision {
  const t = buckets.take(`t:${tenantId}`, rates.tenant)
  if (!t.ok) return decision('tenant', rates.tenant, false, t.tokens)
  if (inboxId && rates.inbox) {
    const i = buckets.take(`i:${inboxId}`, rates.inbox)
    if (!i.ok) {
      buckets.giveBack(`t:${tenantId}`)
      return decision('inbox', rates.inbox, false, i.tokens)
    }
    // Report the tighter of the two.
    if (i.tokens / rates.inbox.burst < t.tokens / rates.tenant.burst) return decision('inbox', rates.inbox, true, i.tokens)
  }
  return decision('tenant', rates.tenant, true, t.tokens)
}

/** Whether a known caller's buckets are empty right now (checked before any database work). */
export function wouldRefuse(buckets: TokenBuckets, tenantId: string, inboxId: string | null, rates: { tenant: Rate; inbox: Rate | null }): boolean {
  return !buckets.peek(`t:${tenantId}`, rates.tenant) || (inboxId !== null && rates.inbox !== null && !buckets.peek(`i:${inboxId}`, rates.inbox))
}

/** The IETF RateLimit-Policy and RateLimit header values (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(d: Decision): Record<string, string> {
  // A token bucket as a quota: `burst` requests per the seconds it takes to earn them back.
  const window = Math.max(1, Math.round(d.rate.burst / d.rate.perSecond))
  const headers: Record<string, string> = {
    'RateLimit-Policy': `"${d.policy}";q=${d.rate.burst};w=${window}`,
    RateLimit: `"${d.policy}";r=${d.remaining};t=${d.resetSeconds}`,
  }
  if (!d.ok) headers['Retry-After'] = String(d.retryAfter)
  return headers
}

export interface RateSource {
  /** The tenant's limits in force (its ancestry's tightest) and, for an inbox key, the inbox's own. */
  load(tenantId: string, inboxId: string | null): Promise<{ tenant: TenantLimits; inbox?: InboxLimits }>
  /**
   * Moves whenever what `load` answers may have changed (a change of limits announced): rates loaded
   * before it moved are loaded again at the next request, not kept their few seconds.
   */
  version?(): number
}

const RATES_TTL_MS = 5_000
const MAX_KNOWN = 100_000

type Rates = { tenant: Rate; inbox: Rate | null }

interface CachedRates {
  at: number
  /** The source's version when the load began. */
  version: number
  value: Promise<Rates>
  /** Set once `value` resolved, for the synchronous precheck (until then the last one's). */
  resolved: Rates | undefined
}

/**
 * The HTTP door's limiter: the rates of each caller (looked up at most every few seconds, and again
 * at the next request once the source's version moved), the buckets, and the keys already seen, so
 * that a known key with an empty bucket is refused first.
 */
export class ApiRateLimiter {
  private readonly buckets: TokenBuckets
  private readonly rates = new Map<string, CachedRates>()
  private readonly known = new Map<string, { tenantId: string; inboxId: string | null }>()
  /** Refusals since start (metrics). */
  refused = 0

  constructor(
    private readonly source: RateSource,
    private readonly defaults: Rate,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new TokenBuckets(now)
  }

  private ratesOf(tenantId: string, inboxId: string | null): Promise<Rates> {
    const key = `${tenantId}:${inboxId ?? ''}`
    const hit = this.rates.get(key)
    const version = this.source.version?.() ?? 0
    if (hit && this.now() - hit.at < RATES_TTL_MS && hit.version === version) return hit.value
    const entry: CachedRates = {
      at: this.now(),
      version,
      value: this.source.load(tenantId, inboxId).then((l) => (entry.resolved = apiRateOf(l.tenant, this.defaults, l.inbox))),
      // A failed lookup is not remembered; a stale value stays usable for the precheck meanwhile.
      resolved: hit?.resolved,
    }
    entry.value.catch(() => {
      if (this.rates.get(key) === entry) this.rates.delete(key)
    })
    if (this.rates.size > MAX_KNOWN) this.rates.clear()
    this.rates.set(key, entry)
    return entry.value
  }

  /**
   * Before the key is looked up: a refusal when this key was seen before and its buckets are empty
   * now (no database work for it); null to go on. `keyHash` identifies the key without keeping it.
   */
  precheck(keyHash: string): Decision | null {
    const who = this.known.get(keyHash)
    if (!who) return null
    const rates = this.rates.get(`${who.tenantId}:${who.inboxId ?? ''}`)?.resolved
    if (!rates || !wouldRefuse(this.buckets, who.tenantId, who.inboxId, rates)) return null
    this.refused++
    return admit(this.buckets, who.tenantId, who.inboxId, rates)
  }

  /** After authentication: one request taken from the caller's buckets. */
  async take(keyHash: string, tenantId: string, inboxId: string | null): Promise<Decision> {
    if (this.known.size > MAX_KNOWN) this.known.clear()
    this.known.set(keyHash, { tenantId, inboxId })
    const d = admit(this.buckets, tenantId, inboxId, await this.ratesOf(tenantId, inboxId))
    if (!d.ok) this.refused++
    return d
  }
}
