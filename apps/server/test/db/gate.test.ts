// The connection gate: tenants take turns for the pool's connections, none holds more than its
// share, a caller with a deadline is shed instead of waiting past it, and a nested transaction
// does not wait for a slot its caller already holds.
import { describe, expect, it } from 'vitest'
import { DbGate, ShedError, withDeadline } from '../../src/db/gate.js'
import { monotonicMs } from '../../src/lib/clock.js'

const tick = () => new Promise((r) => setImmediate(r))

describe('DbGate', () => {
  it('gives no key more than its share, and hands freed slots to waiting keys in turn', async () => {
    const gate = new DbGate({ slots: 4, perKey: 2 })
    const held = await Promise.all([gate.acquire('a', null), gate.acquire('a', null)])
    // a holds its share: its third waits even though two slots are free.
    const order: string[] = []
    const a3 = gate.acquire('a', null).then((r) => (order.push('a'), r))
    const b1 = await gate.acquire('b', null)
    order.push('b')
    const c1 = await gate.acquire('c', null)
    order.push('c')
    expect(gate.stats).toMatchObject({ inUse: 4, waiting: 1 })
    // Full: b and c queue behind a's waiter; a freed slot goes round the keys in arrival order.
    const b2 = gate.acquire('b', null).then((r) => (order.push('b'), r))
    const c2 = gate.acquire('c', null).then((r) => (order.push('c'), r))
    held[0]!()
    await tick()
    expect(order).toEqual(['b', 'c', 'a'])
    b1()
    await tick()
    c1()
    await tick()
    expect(order).toEqual(['b', 'c', 'a', 'b', 'c'])
    for (const r of await Promise.all([a3, b2, c2])) r()
    held[1]!()
    expect(gate.stats).toMatchObject({ inUse: 0, waiting: 0 })
  })

  it('a flooding key does not delay another key by more than one slot', async () => {
    const gate = new DbGate({ slots: 2, perKey: 2 })
    const releases = [await gate.acquire('flood', null), await gate.acquire('flood', null)]
    const flood = Array.from({ length: 50 }, () => gate.acquire('flood', null))
    let otherGot = false
    const other = gate.acquire('quiet', null).then((r) => ((otherGot = true), r))
    releases.shift()!()
    await tick()
    // The first freed slot goes to the quiet key, not to the 50 flood waiters queued before it.
    expect(otherGot).toBe(true)
    ;(await other)()
    releases.shift()!()
    for (const p of flood) (await p)()
  })

  describe('lightFirst', () => {
    /** A gate whose slot-time clock the test moves; `a` has held a slot for two seconds just now (heavy). */
    async function withHeavyA() {
      const clock = { t: 0 }
      const gate = new DbGate({ slots: Number.POSITIVE_INFINITY, perKey: 2, lightFirst: { maxDelayMs: 50 }, now: () => clock.t })
      const r = await gate.acquire('a', null)
      clock.t += 2000
      r()
      return { gate, clock }
    }
    const taken = (p: Promise<() => void>) => {
      const s = { got: false, release: null as null | (() => void) }
      void p.then((r) => ((s.got = true), (s.release = r)))
      return s
    }

    it('a heavy key alone keeps its whole allowance', async () => {
      const { gate } = await withHeavyA()
      const held = [await gate.acquire('a', null), await gate.acquire('a', null)]
      expect(gate.stats.inUse).toBe(2)
      for (const r of held) r()
    })

    it('a heavy key starts nothing new while a lighter key holds a slot, and goes on when it is done', async () => {
      const { gate } = await withHeavyA()
      const a1 = await gate.acquire('a', null)
      // b has used nothing lately: served at once, beside a's running one.
      const b = await gate.acquire('b', null)
      const a2 = taken(gate.acquire('a', null))
      await tick()
      expect(a2.got).toBe(false)
      b()
      await tick()
      expect(a2.got).toBe(true)
      a1()
      a2.release!()
    })

    it('a held-back key goes ahead anyway after maxDelayMs: slowed, never starved', async () => {
      const { gate, clock } = await withHeavyA()
      const b = await gate.acquire('b', null)
      const a = taken(gate.acquire('a', null))
      await tick()
      expect(a.got).toBe(false)
      clock.t += 50
      // The gate looks again when the delay is up (a real timer of maxDelayMs).
      for (let i = 0; i < 100 && !a.got; i++) await new Promise((r) => setTimeout(r, 10))
      expect(a.got).toBe(true)
      b()
      a.release!()
    })

    it('keys of about the same weight do not hold each other back', async () => {
      const clock = { t: 0 }
      const gate = new DbGate({ slots: Number.POSITIVE_INFINITY, perKey: 1, lightFirst: { maxDelayMs: 10_000 }, now: () => clock.t })
      // Both held a slot for the same two seconds.
      const held = [await gate.acquire('a', null), await gate.acquire('b', null)]
      clock.t += 2000
      for (const r of held) r()
      const a = await gate.acquire('a', null)
      const b = await gate.acquire('b', null)
      expect(gate.stats.inUse).toBe(2)
      a()
      b()
    })
  })

  it('sheds a caller whose deadline passes while it waits, and one with no time left at once', async () => {
    const gate = new DbGate({ slots: 1, perKey: 1 })
    const release = await gate.acquire('a', null)
    // Deadlines are on the monotonic clock (lib/clock.ts), as the HTTP layer sets them.
    await expect(gate.acquire('b', monotonicMs() + 30)).rejects.toBeInstanceOf(ShedError)
    const late = gate.acquire('b', monotonicMs() - 1)
    expect(gate.stats.waiting).toBe(0)
    await expect(late).rejects.toMatchObject({ reason: 'deadline' })
    expect(gate.shed.deadline).toBe(2)
    expect(gate.stats.waiting).toBe(0)
    release()
    // The slot freed by then is not lost to the shed waiter.
    const again = await gate.acquire('b', monotonicMs() + 1000)
    again()
    expect(gate.stats.inUse).toBe(0)
  })

  it('sheds at once when a key already queues its most', async () => {
    const gate = new DbGate({ slots: 1, perKey: 1, maxQueuePerKey: 2 })
    const release = await gate.acquire('a', null)
    const queued = [gate.acquire('a', null), gate.acquire('a', null)]
    await expect(gate.acquire('a', null)).rejects.toMatchObject({ reason: 'queue_full' })
    release()
    for (const q of queued) (await q)()
  })

  it('run(): the deadline comes from the context; a nested run does not wait for its own slot', async () => {
    const gate = new DbGate({ slots: 1, perKey: 1 })
    const result = await gate.run('a', () => gate.run('a', async () => 42))
    expect(result).toBe(42)
    const release = await gate.acquire('x', null)
    await expect(withDeadline(monotonicMs() + 20, () => gate.run('y', async () => 1))).rejects.toBeInstanceOf(ShedError)
    release()
  })

  it('ignoreDeadlines: a caller waits as long as it takes', async () => {
    const gate = new DbGate({ slots: 1, perKey: 1, ignoreDeadlines: true })
    const release = await gate.acquire('x', null)
    const waiting = withDeadline(monotonicMs() - 1, () => gate.run('y', async () => 'ran'))
    setTimeout(release, 30)
    await expect(waiting).resolves.toBe('ran')
  })
})
