// The claim loop shared by the delivery and webhook workers: claim up to the free concurrency from
// a SECURITY DEFINER claim function, run each claimed row, claim again as rows finish. Kicks are
// coalesced, so a burst of notifications costs one claim. What a run came to is recorded through
// record(), which tries again while the database is briefly away (outcome-recorder.ts).
import { monotonicMs } from '../lib/clock.js'
import type { Logger } from '../lib/log.js'
import { OutcomeRecorder } from './outcome-recorder.js'

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

/** After a failed claim, the next waits this long, doubling per failure up to the cap. */
const BACKOFF_MIN_MS = 250
const BACKOFF_MAX_MS = 4_000

export class ClaimLoop {
  private active = 0
  private pumping = false
  private again = false
  private scheduled = false
  private stopped = true
  private idleWaiters: (() => void)[] = []
  // While claims fail (the database is away), kicks wait out a growing pause instead of each
  // trying (and logging) again; the first claim that works ends the pause.
  private failures = 0
  private pausedUntil = 0
  private resume: NodeJS.Timeout | null = null
  private readonly recorder: OutcomeRecorder

  constructor(private readonly o: ClaimLoopOptions) {
    this.recorder = new OutcomeRecorder({ name: o.name, log: o.log })
  }

  start(): void {
    this.stopped = false
  }

  /**
   * Records what a claimed row's attempt came to (OutcomeRecorder.run): left to the lease, a failed
   * recording would make the next claim repeat the attempt.
   */
  record<T>(about: Record<string, unknown>, fn: (again: boolean) => Promise<T>): Promise<T> {
    return this.recorder.run(about, fn)
  }

  /** No new claims; resolves once what is in flight has finished (a recording pausing gives up). */
  stop(): Promise<void> {
    this.stopped = true
    this.recorder.stop()
    if (this.resume) clearTimeout(this.resume)
    this.resume = null
    return this.idle()
  }

  /** Something may be due: claim soon (coalesced). */
  kick(): void {
    if (this.stopped || this.scheduled) return
    const wait = this.pausedUntil - monotonicMs()
    if (wait > 0) {
      this.resume ??= setTimeout(() => {
        this.resume = null
        this.kick()
      }, wait)
      this.resume.unref?.()
      return
    }
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
        if (this.failures > 0) this.o.log.info(`${this.o.name} claims work again`, { after: this.failures })
        this.failures = 0
        this.pausedUntil = 0
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
      this.failures++
      this.pausedUntil = monotonicMs() + Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.failures - 1))
      // One line per outage, not one per attempt.
      if (!this.stopped && this.failures === 1) this.o.log.warn(`${this.o.name} claim failed; backing off until it works`, { err: String(err) })
    } finally {
      this.pumping = false
      this.settle()
    }
  }

  private settle() {
    if (this.active === 0 && !this.pumping) for (const w of this.idleWaiters.splice(0)) w()
  }
}
