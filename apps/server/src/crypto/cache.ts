// An LRU of unwrapped tenant data keys, so the message hot path does not unwrap on every message.
export class DataKeyCache {
  // A Map iterates in insertion order: re-inserting on read keeps the least recently used first.
  private readonly entries = new Map<string, Buffer>()
  private readonly loading = new Map<string, Promise<Buffer>>()

  constructor(readonly maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
  }

  get size(): number {
    return this.entries.size
  }

  get(tenantId: string): Buffer | undefined {
    const dek = this.entries.get(tenantId)
    if (dek) {
      this.entries.delete(tenantId)
      this.entries.set(tenantId, dek)
    }
    return dek
  }

  set(tenantId: string, dek: Buffer): void {
    this.entries.delete(tenantId)
    this.entries.set(tenantId, dek)
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string
      // Evicted keys are not zeroed: a caller may still hold the Buffer mid-encryption, and a
      // zeroed key would silently encrypt with all-zero bytes.
      this.entries.delete(oldest)
    }
  }

  /**
   * The cached DEK, or `load()`'s result (cached). Concurrent misses for one tenant share one load,
   * so a burst of messages for a cold tenant unwraps once.
   */
  async getOrLoad(tenantId: string, load: () => Promise<Buffer> | Buffer): Promise<Buffer> {
    const hit = this.get(tenantId)
    if (hit) return hit
    const pending = this.loading.get(tenantId)
    if (pending) return pending
    const promise = (async () => load())()
    this.loading.set(tenantId, promise)
    try {
      const dek = await promise
      // Cache only if not invalidated while loading: the tenant may have been deleted meanwhile.
      if (this.loading.get(tenantId) === promise) this.set(tenantId, dek)
      return dek
    } finally {
      if (this.loading.get(tenantId) === promise) this.loading.delete(tenantId)
    }
  }

  /** Call when a tenant's key is destroyed (tenant deleted), on every process that may hold it. */
  invalidate(tenantId: string): void {
    this.entries.delete(tenantId)
    this.loading.delete(tenantId)
  }

  clear(): void {
    this.entries.clear()
    this.loading.clear()
  }
}
