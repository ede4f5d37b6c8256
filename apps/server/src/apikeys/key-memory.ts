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
import { ChangeFeed, inSubtree, type Memory, type MemoryCounts } from '../db/change-feed.js'
import type { Logger } from '../lib/log.js'
import { keyChangeOf, KEYS_CHANNEL, type KeyChange } from './key-changes.js'
import { authResultOf, lookupKey, type AuthResult, type KeyRow } from './service.js'
import { KEY_PATTERN } from './secret.js'

/**
 * Whether a tenant may act in another: yes, not while it (or a tenant between) is suspended, or not
 * found (null); with the target's path (its ancestors, then itself), which says what changes touch it.
 */
export type ActAs = { standing: 'ok' | 'suspended'; path: readonly string[] } | null

export interface KeyMemoryOptions {
  /** How long what a key stands for is kept (0: never; every request looks it up). */
  keepMs: number
  log?: Logger
}

export class KeyMemory {
  private readonly feed: ChangeFeed<KeyChange>
  /** By the key's hash (a key that matches nothing is not kept). */
  private readonly keys: Memory<KeyRow | null>
  /** By the acting tenant ('-': the operator) and the target, as `caller:target` (a target not found is not kept). */
  private readonly actAsKept: Memory<ActAs>
  /** Told of every change heard (watch). */
  private readonly watchers = new Set<(change: KeyChange) => void>()
  /** Whether changes of keys are listened for at all (watch): not while keys are not kept (keepMs 0). */
  readonly hearsChanges: boolean

  constructor(
    private readonly database: Database,
    o: KeyMemoryOptions,
  ) {
    this.hearsChanges = o.keepMs > 0
    this.feed = new ChangeFeed(database, {
      channel: KEYS_CHANNEL,
      parse: keyChangeOf,
      // A key revoked or an inbox deleted: the tenant's keys, and every key lookup in flight (whose
      // tenant is not known yet). It changes no tenant's standing: what may act in what stays. A
      // tenant suspended, resumed or deleted: the keys of its subtree, and acting in any tenant of
      // it (a tenant acting in a descendant: the target's path holds the caller's own). A change of
      // everything the feed forgets itself.
      forget: (change) => {
        if ('tenantId' in change) return this.keys.forget((_, row) => row!.tenantId === change.tenantId)
        this.keys.forget((_, row) => inSubtree(change, row!.tenantPath))
        this.actAsKept.forget((_, may) => inSubtree(change, may!.path))
      },
      what: 'API keys are',
      keepMs: o.keepMs,
      log: o.log,
      heard: (change) => {
        for (const w of this.watchers) w(change)
      },
    })
    const found = <T>(v: T | null): boolean => v !== null
    this.keys = this.feed.memory({ worth: found })
    this.actAsKept = this.feed.memory({ worth: found })
  }

  /** Keys and act-as answers served from memory, and read. */
  get counts(): { keys: MemoryCounts; actAs: MemoryCounts } {
    return { keys: this.keys.counts, actAs: this.actAsKept.counts }
  }

  start(): void {
    this.feed.start()
  }

  stop(): Promise<void> {
    return this.feed.stop()
  }

  /**
   * Calls `fn` with every change of keys heard (in this process before its commit, from every
   * process after it; a change of everything also when listening begins again), once what was kept
   * of it is forgotten: a request that outlives its start asks again then whether its key still
   * lets it in. `fn` must not block. Returns the function that stops the calls. Nothing is heard
   * while keys are not kept (MAILROOM_KEY_CACHE_SECONDS=0).
   */
  watch(fn: (change: KeyChange) => void): () => void {
    this.watchers.add(fn)
    return () => void this.watchers.delete(fn)
  }

  /** Whether what is read is kept and served now (listening, and the database not known to be down). */
  get trusted(): boolean {
    return this.feed.trusted
  }

  /** What `key` (whose hashKey is `hash`) stands for at `now`: one lookup for concurrent asks of one key. */
  async authenticate(key: string, hash: string, now: Date): Promise<AuthResult> {
    if (!KEY_PATTERN.test(key)) return { ok: false, reason: 'malformed' }
    const row = await this.keys.get(hash, () => lookupKey(this.database, key, hash))
    return authResultOf(row, now)
  }

  /**
   * Whether `callerTenantId` (null: the operator) may act in `target`, as `read` finds it: kept
   * until a tenant on the target's path is suspended, resumed or deleted (a tenant not found is
   * never kept).
   */
  actAs(callerTenantId: string | null, target: string, read: () => Promise<ActAs>): Promise<ActAs> {
    return this.actAsKept.get(`${callerTenantId ?? '-'}:${target}`, read)
  }
}
