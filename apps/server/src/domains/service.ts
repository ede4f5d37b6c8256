// Custom domains: the DNS records a tenant publishes, their verification through an injectable
// resolver, the exclusive claim of a verified name, and the per-domain DKIM key used for sending.
import { randomBytes } from 'node:crypto'
import { and, count, eq, sql } from 'drizzle-orm'
import type { DnsRecord, Domain } from '@mailroom/contract'
import { pgErrorCode, rawRows, type Tx } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { type CursorPosition } from '../lib/cursor.js'
import { newestFirst } from '../db/keyset.js'
import { ServiceError } from '../errors.js'
import { generateDkimKey, type DnsResolver } from '../mail/sender-auth.js'
import { inboxes } from '../inboxes/tables.js'
import { domainClaims, domains, type DomainRow } from './tables.js'
import { routesChanged } from '../smtp/recipient-routing.js'
import { ownRows } from '../db/scope.js'

export const dctx = { dkim: (id: string) => `domains.dkim:${id}` }

/** The records to publish, each with its last known state. `platformDomain` hosts our MX and SPF. */
export function expectedRecords(d: DomainRow, platformDomain: string): DnsRecord[] {
  const base: DnsRecord[] = [
    { purpose: 'verification', type: 'TXT', name: `_mailroom.${d.name}`, value: `mailroom-verification=${d.verificationToken}`, required: true, state: 'unchecked', detail: null },
    { purpose: 'dkim', type: 'TXT', name: `${d.dkimSelector}._domainkey.${d.name}`, value: `v=DKIM1; k=rsa; p=${d.dkimPublic}`, required: true, state: 'unchecked', detail: null },
    { purpose: 'spf', type: 'TXT', name: d.name, value: `v=spf1 include:${platformDomain} ~all`, required: true, state: 'unchecked', detail: null },
    { purpose: 'mx', type: 'MX', name: d.name, value: platformDomain, priority: 10, required: false, state: 'unchecked', detail: null },
    { purpose: 'dmarc', type: 'TXT', name: `_dmarc.${d.name}`, value: `v=DMARC1; p=none; rua=mailto:dmarc@${d.name}`, required: false, state: 'unchecked', detail: null },
  ]
  const known = new Map((d.records ?? []).map((r) => [r.purpose, r]))
  return base.map((r) => {
    const k = known.get(r.purpose)
    return k ? { ...r, state: k.state, detail: k.detail } : r
  })
}

export function domainToWire(d: DomainRow, platformDomain: string): Domain {
  return {
    id: toPublicId('domain', d.id),
    name: d.name,
    status: d.status as Domain['status'],
    records: expectedRecords(d, platformDomain),
    catchAllInboxId: d.catchAllInboxId ? toPublicId('inbox', d.catchAllInboxId) : null,
    verifiedAt: d.verifiedAt?.toISOString() ?? null,
    lastCheckedAt: d.lastCheckedAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  }
}

const CLAIMED = 'this domain is already verified by another account'

export async function claimedElsewhere(tx: Tx, name: string): Promise<boolean> {
  const [r] = await rawRows<{ c: boolean }>(tx, sql`select mailroom_domain_claimed_elsewhere(${name}) as c`)
  return Boolean(r?.c)
}

export async function createDomain(tx: Tx, cipher: Cipher, tenantId: string, name: string, platformDomain: string): Promise<DomainRow> {
  if (name === platformDomain || name.endsWith(`.${platformDomain}`)) {
    throw new ServiceError('validation_error', 'body.name: the platform domain and its subdomains cannot be added', [{ path: 'body.name', message: 'platform domain' }])
  }
  if (await claimedElsewhere(tx, name)) throw new ServiceError('conflict', CLAIMED)
  const id = newUuid()
  const key = generateDkimKey()
  try {
    const [row] = await tx.transaction((sp) =>
      sp
        .insert(domains)
        .values({
          tenantId,
          id,
          name,
          verificationToken: randomBytes(16).toString('hex'),
          dkimSelector: `mr${randomBytes(3).toString('hex')}`,
          dkimPrivateEnc: cipher.seal(dctx.dkim(id), key.privateKeyPem),
          dkimPublic: key.publicKeyDns,
        })
        .returning(),
    )
    return row!
  } catch (err) {
    if (pgErrorCode(err) === '23505') throw new ServiceError('conflict', `the domain ${name} is already added`)
    throw err
  }
}

export async function getDomain(tx: Tx, id: string): Promise<DomainRow | null> {
  const [row] = await tx.select().from(domains).where(and(ownRows(tx, domains.tenantId), eq(domains.id, id)))
  return row ?? null
}

export async function listDomains(tx: Tx, limit: number, after: CursorPosition | null) {
  return newestFirst(tx, domains, { limit, after })
}

type Lookup = { state: DnsRecord['state']; values: string[]; detail: string | null }

async function lookupTxt(resolver: DnsResolver, name: string): Promise<Lookup> {
  return lookup(resolver, name, 'TXT', (a) => (a as (string | string[])[]).map((chunks) => (Array.isArray(chunks) ? chunks.join('') : String(chunks))))
}

async function lookup(resolver: DnsResolver, name: string, rrtype: string, map: (answer: unknown) => string[]): Promise<Lookup> {
  try {
    return { state: 'verified', values: map(await resolver(name, rrtype)), detail: null }
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { state: 'missing', values: [], detail: `no ${rrtype} record at ${name}` }
    return { state: 'error', values: [], detail: `DNS error ${code ?? ''} ${(err as Error).message ?? ''}`.trim().slice(0, 200) }
  }
}

const squash = (s: string) => s.replace(/\s+/g, '').toLowerCase()

/** Looks every record up and judges it. */
export async function checkRecords(d: DomainRow, platformDomain: string, resolver: DnsResolver): Promise<DnsRecord[]> {
  const expected = expectedRecords(d, platformDomain)
  return Promise.all(
    expected.map(async (r): Promise<DnsRecord> => {
      const l = r.type === 'MX'
        ? await lookup(resolver, r.name, 'MX', (a) => (a as { exchange: string }[]).map((m) => m.exchange.toLowerCase().replace(/\.$/, '')))
        : await lookupTxt(resolver, r.name)
      if (l.state !== 'verified') return { ...r, state: l.state, detail: l.detail }
      let ok = false
      if (r.purpose === 'verification') ok = l.values.some((v) => v.trim() === r.value)
      if (r.purpose === 'dkim') ok = l.values.some((v) => squash(v).includes(`p=${d.dkimPublic.toLowerCase()}`))
      if (r.purpose === 'spf') {
        const spf = l.values.filter((v) => /^v=spf1(\s|$)/i.test(v.trim()))
        ok = spf.length === 1 && new RegExp(`(^|\\s)include:${platformDomain.replace(/\./g, '\\.')}(\\s|$)`, 'i').test(spf[0]!)
      }
      if (r.purpose === 'mx') ok = l.values.includes(platformDomain)
      if (r.purpose === 'dmarc') ok = l.values.some((v) => /^v=DMARC1\s*;/i.test(v.trim()))
      return ok ? { ...r, state: 'verified', detail: null } : { ...r, state: 'mismatch', detail: `found: ${l.values.join(' | ').slice(0, 300) || '(empty)'}` }
    }),
  )
}

/**
 * Re-checks the records; when every required one holds, claims the name for this tenant (the
 * global claim is unique, so two tenants can never both verify it). Verification is sticky: a
 * later failed check updates the record states but does not take the domain away.
 */
export async function verifyDomain(tx: Tx, d: DomainRow, records: DnsRecord[]): Promise<{ row: DomainRow; claimedElsewhere: boolean }> {
  if (d.status !== 'verified' && (await claimedElsewhere(tx, d.name))) return { row: d, claimedElsewhere: true }
  const ready = records.filter((r) => r.required).every((r) => r.state === 'verified')
  let status = d.status
  let elsewhere = false
  if (ready && d.status !== 'verified') {
    try {
      await tx.transaction((sp) => sp.insert(domainClaims).values({ name: d.name, tenantId: d.tenantId, domainId: d.id }))
      // Its catch-all, if set, starts taking mail.
      await routesChanged(tx, { domain: d.name })
      status = 'verified'
    } catch (err) {
      if (pgErrorCode(err) !== '23505') throw err
      elsewhere = true
    }
  }
  const [row] = await tx
    .update(domains)
    .set({
      records,
      status,
      lastCheckedAt: sql`now()`,
      updatedAt: sql`now()`,
      ...(status === 'verified' && d.status !== 'verified' ? { verifiedAt: sql`now()` } : {}),
    })
    .where(and(eq(domains.tenantId, d.tenantId), eq(domains.id, d.id)))
    .returning()
  return { row: row!, claimedElsewhere: elsewhere }
}

export async function setCatchAll(tx: Tx, id: string, inboxId: string | null): Promise<DomainRow | null> {
  const [row] = await tx
    .update(domains)
    .set({ catchAllInboxId: inboxId, updatedAt: sql`now()` })
    .where(and(ownRows(tx, domains.tenantId), eq(domains.id, id)))
    .returning()
  if (row) await routesChanged(tx, { domain: row.name })
  return row ?? null
}

/** Inboxes whose address is on this domain. */
export async function inboxesOn(tx: Tx, name: string): Promise<number> {
  const [r] = await tx
    .select({ n: count() })
    .from(inboxes)
    .where(and(ownRows(tx, inboxes.tenantId), sql`${inboxes.address} like ${'%@' + name.replace(/[\\%_]/g, '\\$&')}`))
  return r?.n ?? 0
}

export async function deleteDomain(tx: Tx, d: DomainRow): Promise<void> {
  const n = await inboxesOn(tx, d.name)
  if (n > 0) throw new ServiceError('conflict', `the domain still has ${n} inbox(es); delete them first`)
  // The claim goes with the domain (a trigger on plain Postgres; on Citus only this).
  await tx.delete(domainClaims).where(and(eq(domainClaims.tenantId, d.tenantId), eq(domainClaims.domainId, d.id)))
  await tx.delete(domains).where(and(eq(domains.tenantId, d.tenantId), eq(domains.id, d.id)))
  await routesChanged(tx, { domain: d.name })
}

/** The tenant's verified domain of this name, or an error that names what is wrong. */
export async function requireVerifiedDomain(tx: Tx, name: string): Promise<string> {
  const [row] = await tx.select({ status: domains.status }).from(domains).where(and(ownRows(tx, domains.tenantId), eq(domains.name, name)))
  if (!row || row.status !== 'verified') {
    const why = row ? `the domain ${name} is not verified yet (POST /v1/domains/{id}/verify)` : `${name} is not a domain of this tenant (POST /v1/domains)`
    throw new ServiceError('validation_error', `body.domain: ${why}`, [{ path: 'body.domain', message: why }])
  }
  return name
}

/** The DKIM key for mail from `fromDomain`, when it is one of the tenant's verified domains. */
export async function dkimKeyFor(tx: Tx, cipher: Cipher, fromDomain: string): Promise<{ domain: string; selector: string; privateKeyPem: string } | null> {
  const name = fromDomain.toLowerCase()
  if (!name) return null
  const [row] = await tx.select().from(domains).where(and(ownRows(tx, domains.tenantId), eq(domains.name, name), eq(domains.status, 'verified')))
  if (!row) return null
  return { domain: row.name, selector: row.dkimSelector, privateKeyPem: cipher.openString(dctx.dkim(row.id), row.dkimPrivateEnc) }
}
