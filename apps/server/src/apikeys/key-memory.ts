// What a presented API key stands for (its tenant, scope, inbox, expiry, revocation, whether its
// tenant or an ancestor is suspended), and whether a tenant may act in another (`Mailroom-Tenant`:
// the target is the caller's descendant, and neither it nor an ancestor between is suspended), kept
// in memory so that a request of a key seen lately makes no database lookup to authenticate or to
// resolve the tenant it acts in: an agent's re-poll, or any request, then costs the database only its
// own work. Kept the way the SMTP door keeps routes (smtp/recipient-routing.ts): whoever changes what
// it holds (a key revoked, an inbox deleted with its keys, a tenant suspended, resumed or deleted)
// calls keysChanged(tx, what) (key-changes.ts) in that transaction, which forgets it in this process
// at once and in every process when the notification sent on commit reaches it; and at most keepMs
// (MAILROOM_KEY_CACHE_SECONDS), which only bounds how long a lost notification could matter.
// Nothing kept is served while the process is not listening or the database is known to be down.
// Expiry is checked at every use. Keys that match nothing, and tenants not found, are never kept
// (anyone can present any number of them); they are looked up every time, as without this memory.
import type { Database } from '../db/client.js'
import { ChangeFeed } from '../db/change-feed.js'
import { monotonicMs } from '../lib/clock.js'
import type { Logger } from '../lib/log.js'
import { keyChangeOf, KEYS_CHANNEL, type KeyChange } from './key-changes.js'
import { authResultOf, lookupKey, type AuthResult, type KeyRow } from './service.js'
import { KEY_PATTERN } from './secret.js'

const MAX_KEPT = 50_000

interface Kept<T> {
  /** When its read began (monotonicMs). */
  at: number
  value: Promise<T>
  /** The read has finished (until then it is shared whatever the trust, and any change forgets it). */
  done: boolean
  /** The key's tenant, once read (keys only). */
  tenantId: string | null
}

/** Whether a tenant may act in another: yes, not while it is suspended, or not found (null). */
export type ActAs = 'ok' | 'suspended' | null

export interface KeyMemoryOptions {
  /** How long what a key stands for is kept (0: never; every request looks it up). */
  keepMs: number
  log?: Logger
}

export class KeyMemory {
  /** By the key's hash. */
  private readonly keys = new Map<string, Kept<KeyRow | null>>()
  /** By the acting tenant ('-': the operator) and the target, as `caller:target`. */
  private readonly actAsKept = new Map<string, Kept<ActAs>>()
  private readonly feed: ChangeFeed<KeyChange>

  constructor(
    private readonly database: Database,
    o: KeyMemoryOptions,
  ) {
    this.feed = new ChangeFeed(database, {
      channel: KEYS_CHANNEL,
      parse: keyChangeOf,
      forget: (change) => ('all' in change ? this.clear() : this.forgetTenant(change.tenantId)),
      clear: () => this.clear(),
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

  /** Whether what is read is kept and served now (listening, and the database not known to be down). */
  get trusted(): boolean {
    return this.feed.trusted
  }

  /** What `key` (whose hashKey is `hash`) stands for at `now`: one lookup for concurrent asks of one key. */
  async authenticate(key: string, hash: string, now: Date): Promise<AuthResult> {
    if (!KEY_PATTERN.test(key)) return { ok: false, reason: 'malformed' }
    const row = await this.remember(this.keys, hash, () => lookupKey(this.database, key, hash), (r) => r !== null, (r) => r?.tenantId ?? null)
    return authResultOf(row, now)
  }

  /**
   * Whether `callerTenantId` (null: the operator) may act in `target`, as `read` finds it: kept
   * while no tenant is suspended, resumed or deleted (a tenant not found is never kept).
   */
  actAs(callerTenantId: string | null, target: string, read: () => Promise<ActAs>): Promise<ActAs> {
    return this.remember(this.actAsKept, `${callerTenantId ?? '-'}:${target}`, read, (v) => v !== null, () => null)
  }

  private remember<T>(map: Map<string, Kept<T>>, key: string, read: () => Promise<T>, keep: (v: T) => boolean, tenantOf: (v: T) => string | null): Promise<T> {
    const hit = map.get(key)
    if (hit && (!hit.done || this.feed.serves(hit.at))) return hit.value
    if (hit) map.delete(key)
    const asked = this.feed.generation
    const entry: Kept<T> = { at: monotonicMs(), value: read(), done: false, tenantId: null }
    if (map.size >= MAX_KEPT) map.clear()
    map.set(key, entry)
    const drop = () => void (map.get(key) === entry && map.delete(key))
    entry.value.then(
      (v) => {
        entry.done = true
        entry.tenantId = tenantOf(v)
        // Kept only when worth keeping, the memory is trusted and no change was heard while it was
        // read (it may predate the change).
        if (!keep(v) || !this.feed.mayKeep(asked)) drop()
      },
      // A failed read is not remembered.
      drop,
    )
    return entry.value
  }

  /** Forgets the tenant's keys, and every key lookup in flight (whose tenant is not known yet). */
  private forgetTenant(tenantId: string): void {
    for (const [hash, k] of this.keys) if (!k.done || k.tenantId === tenantId) this.keys.delete(hash)
  }

  private clear(): void {
    this.keys.clear()
    this.actAsKept.clear()
  }
}
