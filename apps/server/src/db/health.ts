// Whether the database can be reached. A connection that cannot be opened (refused, timed out,
// "the database system is starting up") marks it down: from then on work fails at once with
// DatabaseUnavailable instead of each request waiting out a connect timeout, and a probe tries
// again every `probeMs` until a connection opens. A connection killed mid-query (pg_terminate_backend,
// a restart) fails that query only: the next one opens a fresh connection.

import { monotonicMs } from '../lib/clock.js'

/** The database cannot be reached right now (HTTP 503 `database_unavailable`, SMTP 451 4.3.0). */
export class DatabaseUnavailable extends Error {
  constructor(cause?: unknown) {
    super('the database is unavailable', { cause })
  }
}

// postgres.js connection errors, Node socket errors, and Postgres's own "cannot serve you now".
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'CONNECT_TIMEOUT', '57P03', '08001', '08004'])
const LOST_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown
  '57P02', // crash_shutdown
  '08000',
  '08003',
  '08006',
  '08P01',
])

function codesOf(err: unknown): string[] {
  const out: string[] = []
  let e: unknown = err
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') out.push(code)
    e = (e as { cause?: unknown }).cause
  }
  return out
}

/** The connection could not be opened: the database is (for now) out of reach. */
export const isConnectFailure = (err: unknown) => codesOf(err).some((c) => CONNECT_CODES.has(c))

/** Any failure of the connection rather than of the statement: worth a 503 and a retry. */
export const isConnectionError = (err: unknown) =>
  err instanceof DatabaseUnavailable || codesOf(err).some((c) => CONNECT_CODES.has(c) || LOST_CODES.has(c))

/**
 * Postgres rolled the transaction back to let another go on: a deadlock it broke (40P01) or a
 * serialization failure (40001). Nothing of it happened, and run again it may well pass.
 */
export const isConflict = (err: unknown) => codesOf(err).some((c) => c === '40P01' || c === '40001')

/**
 * A write refused because a row it refers to is gone (23503). Every reference Mailroom writes is
 * to a row that existed when the work began, so this means its tenant or inbox was deleted meanwhile.
 */
export const isMissingReference = (err: unknown) => codesOf(err).includes('23503')

/**
 * Runs `fn` (a whole transaction) again when Postgres rolled it back for a conflict, at most
 * `attempts` times in all, after a short pause that grows; the last conflict is thrown.
 */
export async function retryConflicts<T>(fn: () => Promise<T>, onRetry?: (err: unknown, attempt: number) => void, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (attempt >= attempts || !isConflict(err)) throw err
      onRetry?.(err, attempt)
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30))
    }
  }
}

export interface HealthOptions {
  /** Opens a connection and runs a trivial statement; rejects when it cannot. */
  probe: () => Promise<void>
  probeMs?: number
  onChange?: (up: boolean, err?: unknown) => void
}

export class DbHealth {
  private down: { since: number; cause: unknown } | null = null
  private timer: NodeJS.Timeout | null = null
  private stopped = false

  constructor(private readonly o: HealthOptions) {}

  get up(): boolean {
    return this.down === null
  }

  /** Since when it has been down (monotonic ms, lib/clock.ts), or null. */
  get downSince(): number | null {
    return this.down?.since ?? null
  }

  /** Throws DatabaseUnavailable while the database is known to be out of reach. */
  check(): void {
    if (this.down) throw new DatabaseUnavailable(this.down.cause)
  }

  /** Tells the health of a failure; a connect failure marks the database down and starts probing. */
  failed(err: unknown): void {
    if (this.stopped || this.down || !isConnectFailure(err)) return
    this.down = { since: monotonicMs(), cause: err }
    this.o.onChange?.(false, err)
    this.schedule()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(): void {
    if (this.stopped || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.o.probe().then(
        () => {
          if (!this.down) return
          this.down = null
          this.o.onChange?.(true)
        },
        () => this.schedule(),
      )
    }, this.o.probeMs ?? 500)
    this.timer.unref?.()
  }
}
