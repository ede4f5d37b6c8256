// V8 flags of a long-running server process, set from code so that every way of starting one gets
// them: `pnpm start` and `pnpm mailroom start` (the bundle), `pnpm dev` (tsx), the package's
// `mailroom` bin, and the benchmarks' server process. Set as the server starts, and changed as
// its heap grows: V8 reads them at every full collection.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'

/**
 * How far the old generation may grow past what survived the last full collection before the
 * next one: at most this many bytes, and never less than 35% (nor more than 300%, V8's own most).
 *
 * A large heap holds to 35%. V8's own choice lets a heap with ~100 MB live grow to ~270 MB and keep
 * it: 10,000 idle waits then cost 445 MB of RSS under tsx, 297 MB with 35%. 25% ran a mark-compact
 * about every second at 50 msgs/s, and those pauses were the 1,000-waiter latency tail.
 *
 * A small heap gets the same room in bytes, so more in percent. Held to 35%, the server at ingest
 * (about 55-65 MB live) and its parse threads (about 18 MB, under the same flag) ran 43 mark-compacts
 * each in a run of the ingest bench, 21 and 31 with this room, and after each one the code of
 * functions made anew per message is compiled again: about 10% of the machine's CPU a message.
 * bench/README.md ("Receiving") has the figures.
 */
export const HEAP_HEADROOM_BYTES = 40 * 1024 * 1024
export const MIN_GROWING_PERCENT = 35
export const MAX_GROWING_PERCENT = 300

/**
 * V8 flags that work only on node's command line (or in NODE_OPTIONS): V8 sizes the young generation
 * once, when the process's heap is made, and `setFlagsFromString` later changes nothing there. So
 * every way of starting a server passes them: `pnpm start` and `pnpm mailroom` (package.json), the
 * bin's shebang, `pnpm dev`, the tests' server children and the benchmarks' (a test checks the
 * scripts and the shebang; a server started without them says so once at start, cli.ts).
 *
 * A semi-space of 8 MB instead of Node's 16 (the young generation holds two): 10,000 idle waits
 * kept 291-303 MB resident against 302-315 MB (about 12 MB less; the 300 MB bound is met in nine
 * runs of eleven) with the same CPU a re-poll; the ingest bench and the 1,000-waiter wake-up measured
 * the same either way (bench/README.md, "Receiving", 2026-12-06 09:20-10:30). 6 MB saved no more
 * and cost CPU; 4 MB saved 25 MB more and cost 20-30% more CPU a re-poll.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8']

/**
 * The flags of SERVER_NODE_FLAGS this process was started without. A flag given with another value
 * (an operator's choice) counts as given.
 */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const nameOf = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-')
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter(Boolean).map(nameOf))
  return SERVER_NODE_FLAGS.filter((flag) => !given.has(nameOf(flag)))
}

/** What the server does with V8's flags, for the benchmarks' reports. */
export const SERVER_V8_POLICY = `${SERVER_NODE_FLAGS.join(' ')} at start; --heap-growing-percent set after each full collection: ${HEAP_HEADROOM_BYTES / 1024 / 1024} MB past the live heap, ${MIN_GROWING_PERCENT}-${MAX_GROWING_PERCENT}%`

/** The growth allowance, in percent, for a heap with this much live after a full collection. */
export function growingPercentFor(liveBytes: number): number {
  const percent = Math.round((100 * HEAP_HEADROOM_BYTES) / Math.max(liveBytes, 1))
  return Math.min(MAX_GROWING_PERCENT, Math.max(MIN_GROWING_PERCENT, percent))
}

/** Whether a `gc` performance entry is a full collection (a mark-compact). */
export const isFullCollection = (e: PerformanceEntry) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR

/**
 * Sets the growth allowance for the heap as it is now and again after every full collection of the
 * process's main heap. The flag is the process's: the parse threads' heaps follow the main one's
 * choice. Returns a function that stops watching (tests).
 */
export function applyServerV8Flags(set: (flag: string) => void = setFlagsFromString, liveBytes: () => number = () => getHeapStatistics().used_heap_size): () => void {
  let current = growingPercentFor(liveBytes())
  set(`--heap-growing-percent=${current}`)
  const observer = new PerformanceObserver((list) => {
    if (!list.getEntries().some(isFullCollection)) return
    const percent = growingPercentFor(liveBytes())
    if (percent === current) return
    current = percent
    set(`--heap-growing-percent=${percent}`)
  })
  observer.observe({ entryTypes: ['gc'] })
  return () => observer.disconnect()
}
