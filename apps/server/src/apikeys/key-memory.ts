// What a presented API key stands for (its tenant, scope, inbox, expiry, revocation, whether its
// tenant or an ancestor is suspended), kept in memory so that a request of a key seen lately opens
// no transaction to authenticate: an agent's re-poll, or any request, then costs the database only
// its own work. Kept the way the SMTP door keeps routes (smtp/recipient-routing.ts): whoever changes
// what it holds (a key revoked, an inbox deleted with its keys, a tenant suspended, resumed or
// deleted) calls keysChanged(tx, what) (key-changes.ts) in that transaction, which forgets it in this
// process at once and in every process when the notification sent on commit reaches it; and at most
// keepMs (MAILROOM_KEY_CACHE_SECONDS), which only bounds how long a lost notification could matter.
// Nothing kept is served while the process is not listening or the database is known to be down.
// Expiry is checked at every use. Keys that match nothing are never kept (anyone can present any
// number of them); they are looked up every time, as without this memory.
import type { Database } from '../db/client.js'
import { ChangeFeed } from '../db/change-feed.js'
import { monotonicMs } from '../lib/clock.js'
import type { Logger } from '../lib/log.js'
import { keyChangeOf, KEYS_CHANNEL, type KeyChange } from './key-changes.js'
import { authResultOf, lookupKey, type KeyRow, type AuthResult } from './service.js'
import { KEY_PATTERN } from './secret.js'

const MAX_KEPT = 50_000

interface Kept {
  /** When its read began (monotonicMs). */
  at: number
  value: Promise<KeyRow | null>
  /** The read has finished (until then it is shared whatever the trust, and any change forgets it). */
  done: boolean
  /** The key's tenant, once read. */
  tenantId: string | null
}

export interface KeyMemoryOptions {
  /** How long what a key stands for is kept (0: never; every request looks it up). */
  keepMs: number
  log?: Logger
}

export class KeyMemory {
  /** By the key's hash. */
  private readonly kept = new Map<string, Kept>()
  private readonly feed: ChangeFeed<KeyChange>

  constructor(
    private readonly database: Database,
    o: KeyMemoryOptions,
  ) {
    this.feed = new ChangeFeed(database, {
      channel: KEYS_CHANNEL,
      parse: keyChangeOf,
      forget: (change) => ('all' in change ? this.kept.clear() : this.forgetTenant(change.tenantId)),
      clear: () => this.kept.clear(),
      what: 'API keys are',
      keepMs: o.keepMs,
      log: o.log,
    })
  }

  start(): void {
    this.feed.start()
  }

  stop(): Promise<void> {
    return this.feed.stop()
  }

  /** What `key` (whose hashKey is `hash`) stands for at `now`: one lookup for concurrent asks of one key. */
  async authenticate(key: string, hash: string, now: Date): Promise<AuthResult> {
    if (!KEY_PATTERN.test(key)) return { ok: false, reason: 'malformed' }
    return authResultOf(await this.row(key, hash), now)
  }

  private row(key: string, hash: string): Promise<KeyRow | null> {
    const hit = this.kept.get(hash)
    if (hit && (!hit.done || this.feed.serves(hit.at))) return hit.value
    if (hit) this.kept.delete(hash)
    const asked = this.feed.generation
    const entry: Kept = { at: monotonicMs(), value: lookupKey(this.database, key, hash), done: false, tenantId: null }
    if (this.kept.size >= MAX_KEPT) this.kept.clear()
    this.kept.set(hash, entry)
    entry.value.then(
      (row) => {
        entry.done = true
        entry.tenantId = row?.tenantId ?? null
        // Kept only when it names a key, the memory is trusted and no change was heard while it was
        // read (it may predate the change).
        if (!row || !this.feed.mayKeep(asked)) this.dropEntry(hash, entry)
      },
      // A failed lookup is not remembered.
      () => this.dropEntry(hash, entry),
    )
    return entry.value
  }

  private dropEntry(hash: string, entry: Kept): void {
    if (this.kept.get(hash) === entry) this.kept.delete(hash)
  }

  /** Forgets the tenant's keys, and every lookup in flight (whose tenant is not known yet). */
  private forgetTenant(tenantId: string): void {
    for (const [hash, k] of this.kept) if (!k.done || k.tenantId === tenantId) this.kept.delete(hash)
  }
}
