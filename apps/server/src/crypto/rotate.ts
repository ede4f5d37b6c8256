// Master-key rotation: rewraps every tenant's data key with the current master key. Message rows
// are never touched (they are encrypted with the data keys, which do not change), so it runs online.
import { sql } from 'drizzle-orm'
import { rawRows, type Database } from '../db/client.js'
import { withTenant } from '../db/scope.js'
import type { TenantCrypto } from './service.js'
import { DecryptError } from './envelope.js'

export interface RotationResult {
  tenants: number
  rewrapped: number
  /** Tenants whose key none of the configured master keys could unwrap: left as they were. */
  failed: { tenantId: string; reason: string }[]
}

/** `owner` lists the tenants (operator-only function); `runtime` rewraps each inside its own scope. */
export async function rotateMasterKey(owner: Database, runtime: Database, crypto: TenantCrypto): Promise<RotationResult> {
  const tenants = await rawRows<{ id: string }>(owner.db, sql`select id from mailroom_admin_tenants()`)
  let rewrapped = 0
  const failed: RotationResult['failed'] = []
  for (const t of tenants) {
    try {
      if (await withTenant(runtime, { tenantId: t.id }, (tx) => crypto.rewrap(tx, t.id))) rewrapped++
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err
      failed.push({ tenantId: t.id, reason: err.message })
    }
  }
  return { tenants: tenants.length, rewrapped, failed }
}
