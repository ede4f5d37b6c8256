// V8 flags of a long-running server process, set from code so that every way of starting one gets
// them: `pnpm start` and `pnpm mailroom start` (the bundle), `pnpm dev` (tsx), the package's
// `mailroom` bin, and the benchmarks' server process. Set as the server starts: V8 reads it at
// every full collection.
import { setFlagsFromString } from 'node:v8'

/**
 * The old generation may grow 35% past what survived the last full collection before the next
 * one. V8's default lets a heap with ~100 MB live grow to ~270 MB and keep it: 10,000 idle waits
 * then cost 445 MB of RSS under tsx, 297 MB with this flag. 25% ran a mark-compact about every
 * second at 50 msgs/s, and those pauses were the 1,000-waiter latency tail. bench/README.md
 * ("Receiving") has the figures.
 */
export const SERVER_V8_FLAGS = ['--heap-growing-percent=35'] as const

export function applyServerV8Flags(): void {
  for (const flag of SERVER_V8_FLAGS) setFlagsFromString(flag)
}
