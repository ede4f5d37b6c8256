// The server's heap growth: a fixed room in bytes past the live heap, between 35% and 300%, set
// again after every full collection of the main heap.
import { PerformanceObserver } from 'node:perf_hooks'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { applyServerV8Flags, growingPercentFor, HEAP_HEADROOM_BYTES, isFullCollection, MAX_GROWING_PERCENT, MIN_GROWING_PERCENT } from '../../src/lib/v8-flags.js'

const MB = 1024 * 1024

/**
 * A full collection, as V8's own `gc()` (exposed for this test only) runs one; resolves once it has
 * been reported to the observers (those attached earlier have had it by then).
 */
function fullCollection(): Promise<void> {
  setFlagsFromString('--expose-gc')
  const reported = new Promise<void>((resolve) => {
    const observer = new PerformanceObserver((list) => {
      if (!list.getEntries().some(isFullCollection)) return
      observer.disconnect()
      resolve()
    })
    observer.observe({ entryTypes: ['gc'] })
  })
  ;(runInNewContext('gc') as () => void)()
  return reported
}

describe('growingPercentFor', () => {
  it('gives a small heap the same room in bytes as a large one, in percent', () => {
    expect(HEAP_HEADROOM_BYTES).toBe(40 * MB)
    expect(growingPercentFor(20 * MB)).toBe(200)
    expect(growingPercentFor(55 * MB)).toBe(73)
    expect(growingPercentFor(80 * MB)).toBe(50)
  })

  it('holds a large heap to 35%, the idle-waits memory bound', () => {
    expect(growingPercentFor(115 * MB)).toBe(MIN_GROWING_PERCENT)
    expect(growingPercentFor(2000 * MB)).toBe(MIN_GROWING_PERCENT)
    expect(MIN_GROWING_PERCENT).toBe(35)
  })

  it("never allows more than V8's own most, however small the heap", () => {
    expect(growingPercentFor(1 * MB)).toBe(MAX_GROWING_PERCENT)
    expect(growingPercentFor(0)).toBe(MAX_GROWING_PERCENT)
  })
})

describe('applyServerV8Flags', () => {
  it('sets the room for the heap as it is, then again after a full collection when the live size moved', async () => {
    const set: string[] = []
    let live = 20 * MB
    const stop = applyServerV8Flags(
      (flag) => set.push(flag),
      () => live,
    )
    try {
      expect(set).toEqual(['--heap-growing-percent=200'])
      live = 100 * MB
      await fullCollection()
      expect(set).toEqual(['--heap-growing-percent=200', '--heap-growing-percent=40'])
      // Another full collection at the same size: the flag stays as it is.
      await fullCollection()
      expect(set).toHaveLength(2)
      live = 200 * MB
      await fullCollection()
      expect(set).toEqual(['--heap-growing-percent=200', '--heap-growing-percent=40', '--heap-growing-percent=35'])
    } finally {
      stop()
    }
  })

  it('stops watching when told', async () => {
    const set: string[] = []
    let live = 20 * MB
    applyServerV8Flags(
      (flag) => set.push(flag),
      () => live,
    )()
    live = 500 * MB
    await fullCollection()
    expect(set).toEqual(['--heap-growing-percent=200'])
  })
})
