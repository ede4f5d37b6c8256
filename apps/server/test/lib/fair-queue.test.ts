// The fair queue: a flooding key cannot push another key's task behind its backlog.
import { describe, expect, it } from 'vitest'
import { FairQueue } from '../../src/lib/fair-queue.js'

const tick = () => new Promise<void>((r) => setImmediate(r))

/** Wraps tasks so that `peak` tells the most that ran at once. */
function counting() {
  let running = 0
  const c = {
    peak: 0,
    wrap:
      <T>(then: () => T) =>
      async () => {
        running++
        c.peak = Math.max(c.peak, running)
        await tick()
        running--
        return then()
      },
  }
  return c
}

describe('FairQueue', () => {
  it('takes turns between keys: a key that queued ten tasks first does not go ahead of another key', async () => {
    const q = new FairQueue(1)
    const order: string[] = []
    const task = (name: string) => async () => {
      order.push(name)
      await tick()
      return name
    }
    const done = [...Array.from({ length: 10 }, (_, i) => q.run('flood', task(`f${i}`))), q.run('quiet', task('q0')), q.run('quiet', task('q1'))]
    expect(await Promise.all(done)).toEqual([...Array.from({ length: 10 }, (_, i) => `f${i}`), 'q0', 'q1'])
    // f0 started at once and f1 was queued before q0; from then on the keys alternate: q0 runs
    // third, not eleventh.
    expect(order.slice(0, 5)).toEqual(['f0', 'f1', 'q0', 'f2', 'q1'])
  })

  it('runs at most `concurrency` at once, and a failing task frees its slot', async () => {
    const q = new FairQueue(2)
    const c = counting()
    const work = (fail: boolean) =>
      c.wrap(() => {
        if (fail) throw new Error('boom')
        return 'ok'
      })
    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => q.run(`k${i % 3}`, work(i % 4 === 0))))
    expect(c.peak).toBe(2)
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3)
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6)
  })

  it('with `steady` below `concurrency`, runs `steady` at once while tasks move, and opens a standby slot per task that runs past slowMs', async () => {
    // slowMs far beyond any stall of a busy test machine: quick tasks never open the standby.
    const steady = new FairQueue(2, { steady: 1, slowMs: 10_000 })
    const c = counting()
    await Promise.all(Array.from({ length: 8 }, (_, i) => steady.run(`k${i % 2}`, c.wrap(() => undefined))))
    expect(c.peak).toBe(1)

    // One task hangs: after slowMs the next ones start beside it, one at a time.
    const q = new FairQueue(2, { steady: 1, slowMs: 30 })
    let release = () => {}
    const hung = q.run('stuck', () => new Promise<void>((r) => (release = r)))
    const beside = counting()
    const other = (name: string) => beside.wrap(() => name)
    expect(await Promise.all([q.run('a', other('a')), q.run('b', other('b'))])).toEqual(['a', 'b'])
    // The hung task still holds its slot: the other two ran in the one standby slot, not side by side.
    expect(beside.peak).toBe(1)
    expect(q.waiting).toBe(0)
    release()
    await hung
  })

  it('never runs more than `concurrency`, however many tasks hang', async () => {
    const q = new FairQueue(2, { steady: 1, slowMs: 10 })
    const releases: (() => void)[] = []
    const hang = () => new Promise<void>((r) => releases.push(r))
    const all = Array.from({ length: 3 }, (_, i) => q.run(`k${i}`, hang))
    for (let i = 0; i < 100 && releases.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 50))
    expect(releases).toHaveLength(2)
    expect(q.waiting).toBe(1)
    releases[0]!()
    for (let i = 0; i < 100 && releases.length < 3; i++) await new Promise((r) => setTimeout(r, 10))
    expect(releases).toHaveLength(3)
    for (const r of releases) r()
    await Promise.all(all)
  })
})
