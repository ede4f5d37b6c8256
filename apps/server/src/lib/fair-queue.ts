// Runs tasks at most `concurrency` at a time, keys (tenants) taking turns: a key's backlog waits
// behind its own earlier tasks, never in front of another key's next one.
//
// With `steady` below `concurrency`, only `steady` tasks run at once while they move; the other
// slots stand by for when they stall: each task running longer than `slowMs` lets one more start.
// (The parse threads: on a 2-core machine one parse at a time leaves the other core to the main
// thread and Postgres, and keeps the work on one warm thread; a message slow to parse does not hold
// every other tenant's mail behind it.)
export class FairQueue {
  private readonly queues = new Map<string, (() => void)[]>()
  private running = 0
  /** Running tasks that have taken longer than slowMs. */
  private slow = 0
  private readonly steady: number
  private readonly slowMs: number

  constructor(
    private readonly concurrency: number,
    opts: { steady?: number; slowMs?: number } = {},
  ) {
    this.steady = Math.max(1, Math.min(concurrency, opts.steady ?? concurrency))
    this.slowMs = opts.slowMs ?? 50
  }

  /** Tasks waiting for their turn (not yet started). */
  get waiting(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.length
    return n
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++
        let slow = false
        const timer =
          this.steady < this.concurrency
            ? setTimeout(() => {
                slow = true
                this.slow++
                this.next()
              }, this.slowMs)
            : null
        timer?.unref()
        // A task that throws before its first await rejects like one that fails later.
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(() => {
            if (timer) clearTimeout(timer)
            if (slow) this.slow--
            this.running--
            this.next()
          })
      }
      const queue = this.queues.get(key)
      if (queue) queue.push(start)
      else this.queues.set(key, [start])
      this.next()
    })
  }

  private next(): void {
    while (this.running < Math.min(this.concurrency, this.steady + this.slow)) {
      const first = this.queues.entries().next()
      if (first.done) return
      const [key, queue] = first.value
      const start = queue.shift()!
      // To the back of the line (a Map iterates in insertion order).
      this.queues.delete(key)
      if (queue.length > 0) this.queues.set(key, queue)
      start()
    }
  }
}
