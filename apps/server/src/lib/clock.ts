// Time, behind one module. Business time (what day a message counts in, when a key expires, what a
// webhook says happened when) comes from a Clock, which tests replace with one they control.
// Durations and deadlines of this process (timeouts, cache ages, backoff, a request's wait for a
// connection) use the monotonic clock: they must not jump when the wall clock does, and timers run
// on real time anyway.
export interface Clock {
  now(): Date
}
export const systemClock: Clock = { now: () => new Date() }

/** Milliseconds on a clock that only moves forward (for durations and deadlines, never for dates). */
export const monotonicMs = (): number => performance.now()
