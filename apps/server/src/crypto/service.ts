// Per-tenant data keys in use: created with the tenant, loaded (and cached) inside the tenant's
// transaction, destroyed first when the tenant is deleted.
import { eq, sql } from 'drizzle-orm'
import type { Tx } from '../db/client.js'
import { DataKeyCache } from './cache.js'
import { decrypt, encrypt, generateDataKey, rewrapDataKey, unwrapDataKey, wrapDataKey, needsRewrap } from './envelope.js'
import type { MasterKeyring } from './masterKey.js'
import { tenantKeys } from './tables.js'
import { blindIndexKey, blindTerms } from './blind-index.js'

/** Seals and opens content of one tenant. `context` binds a blob to its place (table.column:rowId). */
export interface Cipher {
  seal(context: string, plaintext: Buffer | string): Buffer
  open(context: string, blob: Buffer): Buffer
  openString(context: string, blob: Buffer): string
  sealNullable(context: string, plaintext: string | null | undefined): Buffer | null
  openNullable(context: string, blob: Buffer | null | undefined): string | null
  /** Blind-index hashes of words for one inbox (see blind-index.ts), under a key derived from the data key. */
  blindTerms(inboxId: string, words: Iterable<string>): number[]
}

/** The tenant's data key is gone: the tenant was deleted (its key goes first), perhaps a moment ago. */
export class TenantKeyMissingError extends Error {
  constructor(readonly tenantId: string) {
    super(`tenant ${tenantId} has no data key`)
  }
}

export class TenantCrypto {
  private readonly cache: DataKeyCache

  constructor(
    readonly keyring: MasterKeyring,
    cacheSize = 10_000,
  ) {
    this.cache = new DataKeyCache(cacheSize)
  }

  /** Creates the tenant's data key; call in the transaction that creates the tenant, bound to it. */
  async createKey(tx: Tx, tenantId: string): Promise<void> {
    const dek = generateDataKey()
    await tx.insert(tenantKeys).values({ tenantId, wrappedKey: wrapDataKey(dek, this.keyring, tenantId), masterKeyId: this.keyring.current.id })
    this.cache.set(tenantId, dek)
  }

  /** The tenant's cipher; the key row is read under the tenant's RLS scope. */
  async cipher(tx: Tx, tenantId: string): Promise<Cipher> {
    const dek = await this.cache.getOrLoad(tenantId, async () => {
      const [row] = await tx.select().from(tenantKeys).where(eq(tenantKeys.tenantId, tenantId))
      if (!row) throw new TenantKeyMissingError(tenantId)
      return unwrapDataKey(row.wrappedKey, this.keyring, tenantId)
    })
    return cipherFor(dek, tenantId)
  }

  /** Crypto-shredding: the key goes first, so any copy of the rows is unreadable from then on. */
  async destroyKeys(tx: Tx, tenantIds: string[]): Promise<void> {
    for (const id of tenantIds) {
      await tx.delete(tenantKeys).where(eq(tenantKeys.tenantId, id))
      this.cache.invalidate(id)
    }
  }

  /** Rewraps one tenant's key with the current master key, if another one wrapped it. */
  async rewrap(tx: Tx, tenantId: string): Promise<boolean> {
    const [row] = await tx.select().from(tenantKeys).where(eq(tenantKeys.tenantId, tenantId)).for('update')
    if (!row || !needsRewrap(row.wrappedKey, this.keyring)) return false
    await tx
      .update(tenantKeys)
      .set({ wrappedKey: rewrapDataKey(row.wrappedKey, this.keyring, tenantId), masterKeyId: this.keyring.current.id, rotatedAt: sql`now()` })
      .where(eq(tenantKeys.tenantId, tenantId))
    return true
  }
}

/** The blind-index key of each data key in use (derived once, not per batch). */
const searchKeys = new WeakMap<Buffer, Buffer>()

export function cipherFor(dek: Buffer, tenantId: string): Cipher {
  const aad = (context: string) => `${tenantId}:${context}`
  let searchKey: Buffer | null = searchKeys.get(dek) ?? null
  const c: Cipher = {
    seal: (context, plaintext) => encrypt(dek, typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext, aad(context)),
    open: (context, blob) => decrypt(dek, blob, aad(context)),
    openString: (context, blob) => decrypt(dek, blob, aad(context)).toString('utf8'),
    sealNullable: (context, plaintext) => (plaintext === null || plaintext === undefined ? null : c.seal(context, plaintext)),
    openNullable: (context, blob) => (blob ? c.openString(context, blob) : null),
    blindTerms: (inboxId, words) => {
      if (!searchKey) searchKeys.set(dek, (searchKey = blindIndexKey(dek, tenantId)))
      return blindTerms(searchKey, inboxId, words)
    },
  }
  return c
}
