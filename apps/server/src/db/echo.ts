// Notifications heard again a moment later, on a Citus coordinator.
//
// On plain Postgres a listener hears a notification only once the transaction that sent it is
// visible to every new snapshot, so whoever looks after hearing it sees what it announces. On a
// Citus coordinator that is not so: the coordinator's own commit makes the notification deliverable
// before the coordinator has sent COMMIT PREPARED to the workers that hold the rows (a transaction
// spanning nodes, a reference table), and a listener woken in that window reads the rows as they
// were. Nothing tells it to look again: a wait stays parked until its hold ends, a memory keeps what
// it read until its keepMs. So there every notification is delivered again after each of
// NOTIFICATION_ECHO_MS. What a listener does with one is safe to do twice (a wait looks at its inbox,
// a memory forgets what a change touches, the webhook worker claims what is due), and whoever
// already moved past a notification ignores its echo.
import type { Database } from './client.js'
import { monotonicMs } from '../lib/clock.js'

/** When a notification is delivered again after it was first heard, in ms (on a Citus coordinator). */
export const NOTIFICATION_ECHO_MS: readonly number[] = [50, 1_000, 5_000]

type Listen = Database['listen']

/**
 * `listen` with every payload delivered again after each of `delaysMs` (to the same handler). An echo
 * whose handler throws is reported to `onError`; stopping the listen drops the echoes still to come.
 */
export function echoNotifications(listen: Listen, delaysMs: readonly number[], onError?: (err: unknown) => void): Listen {
  return async (channel, onPayload, onReconnect, onDisconnect) => {
    const echo = new Echo(delaysMs, onPayload, onError)
    const stop = await listen(
      channel,
      (payload) => {
        try {
          onPayload(payload)
        } finally {
          echo.add(payload)
        }
      },
      onReconnect,
      onDisconnect,
    )
    return async () => {
      echo.stop()
      await stop()
    }
  }
}

interface Due {
  at: number
  payload: string
}

/**
 * Payloads to deliver again, one queue per delay (each in the order heard), on one timer. Not a
 * setTimeout per echo: Node starts a timer from the event loop's cached time, so one set late in a
 * busy turn can fire before its delay has passed; here an echo is due by the monotonic clock.
 */
class Echo {
  private readonly queues: { delay: number; items: Due[] }[]
  private timer: NodeJS.Timeout | null = null
  private armedFor = Infinity
  private stopped = false

  constructor(
    delaysMs: readonly number[],
    private readonly deliver: (payload: string) => void,
    private readonly onError?: (err: unknown) => void,
  ) {
    this.queues = delaysMs.map((delay) => ({ delay, items: [] }))
  }

  add(payload: string): void {
    if (this.stopped) return
    const now = monotonicMs()
    for (const q of this.queues) q.items.push({ at: now + q.delay, payload })
    this.arm()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    for (const q of this.queues) q.items.length = 0
  }

  /** The timer set for the earliest echo due (unless it already is). */
  private arm(): void {
    let next = Infinity
    for (const q of this.queues) if (q.items.length > 0) next = Math.min(next, q.items[0]!.at)
    if (next >= this.armedFor) return
    if (this.timer) clearTimeout(this.timer)
    this.armedFor = next
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - monotonicMs()))
    this.timer.unref?.()
  }

  private fire(): void {
    this.timer = null
    this.armedFor = Infinity
    const now = monotonicMs()
    for (const q of this.queues) {
      while (!this.stopped && q.items.length > 0 && q.items[0]!.at <= now) {
        const { payload } = q.items.shift()!
        try {
          this.deliver(payload)
        } catch (err) {
          this.onError?.(err)
        }
      }
    }
    if (!this.stopped) this.arm()
  }
}
