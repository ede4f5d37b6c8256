// Runs tasks at most `concurrency` at a time, keys (tenants) taking turns: a key's backlog waits
// behind its own earlier tasks, never in front of another key's next one.
export class FairQueue {
  private readonly queues = new Map<string, (() => void)[]>()
  private running = 0

  constructor(private readonly concurrency: number) {}

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
        // A task that throws before its first await rejects like one that fails later.
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(() => {
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
    while (this.running < this.concurrency) {
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
