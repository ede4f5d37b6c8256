// The fair queue: a flooding key cannot push another key's task behind its backlog.
import { describe, expect, it } from 'vitest'
import { FairQueue } from '../../src/lib/fair-queue.js'

const tick = () => new Promise<void>((r) => setImmediate(r))

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
    let running = 0
    let peak = 0
    const work = (fail: boolean) => async () => {
      running++
      peak = Math.max(peak, running)
      await tick()
      running--
      if (fail) throw new Error('boom')
      return 'ok'
    }
    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => q.run(`k${i % 3}`, work(i % 4 === 0))))
    expect(peak).toBe(2)
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3)
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6)
  })
})
