// The SMTP door's question about a domain: is it a verified custom domain on this platform?
import { sql } from 'drizzle-orm'
import { rawRows, type Database } from '../db/client.js'
import { withoutTenant } from '../db/scope.js'

export async function isVerifiedDomain(database: Database, domain: string): Promise<boolean> {
  const [r] = await withoutTenant(database, (tx) => rawRows<{ v: boolean }>(tx, sql`select mailroom_domain_verified(${domain}) as v`))
  return Boolean(r?.v)
}
