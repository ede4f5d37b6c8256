// The claim loop shared by the delivery and webhook workers: claim up to the free concurrency from
// a SECURITY DEFINER claim function, run each claimed row, claim again as rows finish. Kicks are
// coalesced, so a burst of notifications costs one claim.
import type { Logger } from '../lib/log.js'

export interface Claimed {
  tenant_id: string
  id: string
}

export interface ClaimLoopOptions {
  /** For log lines: "outbox", "webhook". */
  name: string
  concurrency: number
  log: Logger
  /** Claims at most `free` rows (fairly across tenants, in the database). */
  claim: (free: number) => Promise<Claimed[]>
  /** Runs one claimed row to its end. */
  run: (tenantId: string, id: string) => Promise<void>
}

export class ClaimLoop {
  private active = 0
  private pumping = false
  private again = false
  private scheduled = false
  private stopped = true
  private idleWaiters: (() => void)[] = []

  constructor(private readonly o: ClaimLoopOptions) {}

  start(): void {
    this.stopped = false
  }

  /** No new claims; resolves once what is in flight has finished. */
  stop(): Promise<void> {
    this.stopped = true
    return this.idle()
  }

  /** Something may be due: claim soon (coalesced). */
  kick(): void {
    if (this.stopped || this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      void this.pump()
    })
  }

  /** Resolves when nothing is in flight in this process. */
  idle(): Promise<void> {
    if (this.active === 0 && !this.pumping) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  get inFlight(): number {
    return this.active
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true
      return
    }
    this.pumping = true
    try {
      do {
        this.again = false
        const free = this.o.concurrency - this.active
        if (free <= 0 || this.stopped) break
        const claimed = await this.o.claim(free)
        for (const c of claimed) {
          this.active++
          this.o
            .run(c.tenant_id, c.id)
            .catch((err) => this.o.log.error(`${this.o.name} failed`, { id: c.id, err: String((err as Error)?.stack ?? err) }))
            .finally(() => {
              this.active--
              this.settle()
              this.kick()
            })
        }
        if (claimed.length === free) this.again = true
      } while (this.again)
    } catch (err) {
      if (!this.stopped) this.o.log.warn(`${this.o.name} claim failed`, { err: String(err) })
    } finally {
      this.pumping = false
      this.settle()
    }
  }

  private settle() {
    if (this.active === 0 && !this.pumping) for (const w of this.idleWaiters.splice(0)) w()
  }
}
