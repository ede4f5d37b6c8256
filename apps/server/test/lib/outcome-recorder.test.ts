// OutcomeRecorder: which failures it tries again, how often, and that stopping ends a pause at once.
import { describe, expect, it } from 'vitest'
import { OutcomeRecorder, retryableDbError } from '../../src/jobs/outcome-recorder.js'
import { DatabaseUnavailable } from '../../src/db/health.js'
import { ShedError } from '../../src/db/gate.js'
import { createLogger } from '../../src/lib/log.js'

const lost = () => new DatabaseUnavailable(new Error('connection ended'))

function recorder(pausesMs: number[]) {
  const lines: string[] = []
  return { r: new OutcomeRecorder({ name: 'test', log: createLogger('warn', (l) => lines.push(l)), pausesMs }), lines }
}

describe('OutcomeRecorder', () => {
  it('tells failures that may pass from the rest', () => {
    expect(retryableDbError(lost())).toBe(true)
    expect(retryableDbError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true)
    expect(retryableDbError(new ShedError('queue_full'))).toBe(true)
    expect(retryableDbError(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBe(true)
    expect(retryableDbError(Object.assign(new Error('could not serialize access'), { code: '40001' }))).toBe(true)
    expect(retryableDbError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false)
    expect(retryableDbError(new TypeError('x is undefined'))).toBe(false)
  })

  it('tries again after each pause, says so, and tells the record whether it is a retry', async () => {
    const { r, lines } = recorder([1, 1, 1])
    const seen: boolean[] = []
    const out = await r.run({ id: 'a' }, async (again) => {
      seen.push(again)
      if (seen.length < 3) throw lost()
      return 'recorded'
    })
    expect(out).toBe('recorded')
    expect(seen).toEqual([false, true, true])
    expect(lines).toHaveLength(2)
    expect(lines[0]).toContain('test: recording the outcome failed, trying again')
    expect(lines[0]).toContain('"id":"a"')
  })

  it('throws a failure that will not pass at once, and the last one when the pauses run out', async () => {
    const { r } = recorder([1, 1])
    let calls = 0
    const bug = new Error('bug')
    await expect(r.run({}, async () => (calls++, Promise.reject(bug)))).rejects.toBe(bug)
    expect(calls).toBe(1)
    calls = 0
    const last = lost()
    await expect(r.run({}, async () => (calls++, Promise.reject(calls === 3 ? last : lost())))).rejects.toBe(last)
    expect(calls).toBe(3)
  })

  it('stopping ends a pause at once and gives up (the lease takes over)', async () => {
    const { r } = recorder([60_000])
    let calls = 0
    const err = lost()
    const running = r.run({}, async () => {
      calls++
      throw err
    })
    // The first try has failed and the pause begun (a condition, not a sleep).
    while (calls === 0) await new Promise((res) => setImmediate(res))
    r.stop()
    await expect(running).rejects.toBe(err)
    expect(calls).toBe(1)
    // Once stopped, a new recording is not tried again either.
    await expect(r.run({}, async () => Promise.reject(err))).rejects.toBe(err)
  })
})
