// Recording what a finished attempt came to (a delivery, a webhook POST), trying again while the
// database is briefly out of reach. The attempt already happened: leaving its row to the claim's
// lease would make the next claim repeat it (a second copy of the mail, a second POST). The
// recording itself must only change a row still claimed (`status = 'sending'`), so a try whose
// COMMIT went through unseen is not applied twice.
import { isConflict, isConnectionError } from '../db/health.js'
import { ShedError } from '../db/gate.js'
import type { Logger } from '../lib/log.js'

/** Pauses before each new try (about 20 s in all); after them the row is left to its lease. */
const PAUSES_MS = [100, 400, 1_500, 4_000, 6_000, 8_000]

/** A failure that a moment later may not repeat: the database out of reach or busy, a deadlock, a serialization failure. */
export const retryableDbError = (err: unknown): boolean =>
  isConnectionError(err) || err instanceof ShedError || isConflict(err)

export class OutcomeRecorder {
  private stopping = false
  /** Wakes the recordings pausing before another try. */
  private readonly pauses = new Set<() => void>()

  constructor(
    private readonly o: { name: string; log: Logger; pausesMs?: readonly number[] },
  ) {}

  /**
   * Runs `record`, again after each pause while it fails for a reason that may pass (`again`: an
   * earlier try may have committed unseen); `about` goes to the log.
   */
  async run<T>(about: Record<string, unknown>, record: (again: boolean) => Promise<T>): Promise<T> {
    const pauses = this.o.pausesMs ?? PAUSES_MS
    for (let i = 0; ; i++) {
      try {
        return await record(i > 0)
      } catch (err) {
        const pause = pauses[i]
        if (pause === undefined || this.stopping || !retryableDbError(err)) throw err
        this.o.log.warn(`${this.o.name}: recording the outcome failed, trying again`, { ...about, err: String((err as Error)?.message ?? err) })
        await this.pause(pause)
        if (this.stopping) throw err
      }
    }
  }

  /** Stopping: recordings give up at once (their rows go back to their leases, as after a crash). */
  stop(): void {
    this.stopping = true
    for (const wake of [...this.pauses]) wake()
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.pauses.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.pauses.add(wake)
    })
  }
}
