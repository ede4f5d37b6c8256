// Requests held open (long-poll waits, event streams) cost memory and a socket each for as long as
// they last. Each tenant, and each inbox within it, may hold only so many at once on this server,
// so that one tenant's (or one runaway agent's) flood of waits cannot use up what every tenant shares.
import { ServiceError } from '../errors.js'

export interface HeldLimits {
  perTenant: number
  perInbox: number
}

export class HeldRequests {
  private readonly tenants = new Map<string, number>()
  private readonly inboxes = new Map<string, number>()

  constructor(
    private readonly max: HeldLimits,
    /** Told of each refusal (metrics). */
    private readonly onRefused?: (who: 'tenant' | 'inbox') => void,
  ) {}

  /**
   * Takes a place for one held request of the tenant (and of its inbox, for an inbox's wait or an
   * inbox key's stream), or throws 429 `rate_limited`. The function returned gives it back; calling
   * it again does nothing.
   */
  /** Held right now on this server, by kind (metrics). */
  readonly total = { wait: 0, stream: 0 }

  acquire(tenantId: string, inboxId: string | null, kind: 'wait' | 'stream' = 'wait'): () => void {
    const t = this.tenants.get(tenantId) ?? 0
    if (t >= this.max.perTenant) {
      this.onRefused?.('tenant')
      throw tooMany('tenant', this.max.perTenant)
    }
    const i = inboxId === null ? 0 : (this.inboxes.get(inboxId) ?? 0)
    if (inboxId !== null && i >= this.max.perInbox) {
      this.onRefused?.('inbox')
      throw tooMany('inbox', this.max.perInbox)
    }
    this.tenants.set(tenantId, t + 1)
    if (inboxId !== null) this.inboxes.set(inboxId, i + 1)
    this.total[kind]++
    let released = false
    return () => {
      if (released) return
      released = true
      this.total[kind]--
      decrement(this.tenants, tenantId)
      if (inboxId !== null) decrement(this.inboxes, inboxId)
    }
  }

  /** Held requests of a tenant (diagnosis, tests). */
  heldBy(tenantId: string): number {
    return this.tenants.get(tenantId) ?? 0
  }
}

function decrement(map: Map<string, number>, key: string) {
  const n = (map.get(key) ?? 1) - 1
  if (n <= 0) map.delete(key)
  else map.set(key, n)
}

const tooMany = (who: 'tenant' | 'inbox', max: number) =>
  new ServiceError('rate_limited', `this ${who} already holds ${max} open waits and event streams on this server, the most it may; retry when one ends`, undefined, {
    'Retry-After': '1',
  })
