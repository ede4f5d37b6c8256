// The server's heap growth: a fixed room in bytes past the live heap, between 35% and 300%, set
// again after every full collection of the main heap; and the flags node takes only at start.
import { PerformanceObserver } from 'node:perf_hooks'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  applyServerV8Flags,
  growingPercentFor,
  HEAP_HEADROOM_BYTES,
  isFullCollection,
  MAX_GROWING_PERCENT,
  MIN_GROWING_PERCENT,
  missingNodeFlags,
  SERVER_NODE_FLAGS,
} from '../../src/lib/v8-flags.js'

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

describe('the flags node takes only at start', () => {
  const REPO = fileURLToPath(new URL('../../../../', import.meta.url))
  const scriptsOf = (file: string) => (JSON.parse(readFileSync(join(REPO, file), 'utf8')) as { scripts: Record<string, string> }).scripts

  it('are named once, and missingNodeFlags tells which a process lacks', () => {
    expect(SERVER_NODE_FLAGS).toEqual(['--max-semi-space-size=8'])
    expect(missingNodeFlags([], '')).toEqual(['--max-semi-space-size=8'])
    expect(missingNodeFlags(['--max-semi-space-size=8'], '')).toEqual([])
    expect(missingNodeFlags([], '--max-old-space-size=512 --max-semi-space-size=8')).toEqual([])
    // An operator's own value counts as given (V8 spells its flags with - or _).
    expect(missingNodeFlags(['--max_semi_space_size=16'], '')).toEqual([])
    expect(missingNodeFlags(['--max-old-space-size=512', '--import', 'tsx'], '--expose-gc')).toEqual(['--max-semi-space-size=8'])
  })

  it('are given by every way of starting a server: pnpm start, pnpm mailroom, pnpm dev and the bin', () => {
    const lines = [
      ...['start', 'mailroom', 'dev'].map((name) => scriptsOf('package.json')[name]!),
      ...['start', 'mailroom', 'dev'].map((name) => scriptsOf('apps/server/package.json')[name]!),
      readFileSync(join(REPO, 'apps/server/bin/mailroom.mjs'), 'utf8').split('\n')[0]!,
    ]
    for (const line of lines) {
      expect(line).toMatch(/mailroom\.mjs|cli\.ts|^#!/)
      const words = line.split(/\s+/)
      for (const flag of SERVER_NODE_FLAGS) expect(words, line).toContain(flag)
    }
  })

  it('take effect given on the command line, where the same flag set from code would not', () => {
    // A child that allocates until its young generation is as large as it will grow, then says how
    // large that is (V8's new space: two semi-spaces).
    const probe = `
      const v8 = require('node:v8')
      if (process.argv[1] === 'late') v8.setFlagsFromString('--max-semi-space-size=8')
      let keep = []
      for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 200000) keep = [] }
      const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
      process.stdout.write(String(space.space_size / 1048576))`
    const newSpaceMb = (flags: readonly string[], when = 'start') => Number(execFileSync(process.execPath, [...flags, '-e', probe, when], { encoding: 'utf8' }))
    expect(newSpaceMb(SERVER_NODE_FLAGS)).toBeLessThanOrEqual(16)
    const unflagged = newSpaceMb([])
    // Node's own default here (16 MB semi-spaces on this machine's memory); set later, the flag is ignored.
    expect(newSpaceMb([], 'late')).toBe(unflagged)
  }, 60_000)
})
