// Contacts of an inbox as the API shows them: list (most recent contact first, with a name/address
// filter, tags, blocked), get, edit (name, notes sealed with the tenant's key, tags, blocked), delete.
// The rows themselves are kept by contacts/record.ts as mail comes and goes.
import { and, eq, sql, type SQL } from 'drizzle-orm'
import type { Contact, UpdateContactRequest } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import { newestFirst } from '../db/keyset.js'
import type { CursorPosition } from '../lib/cursor.js'
import { toPublicId } from '../lib/ids.js'
import { contacts, type ContactRow } from './tables.js'
import { ownRows } from '../db/scope.js'

/** Where a contact's sealed notes belong (binds the ciphertext to its row). */
export const notesContext = (id: string) => `contacts.notes:${id}`

export function contactToWire(c: ContactRow, cipher: Cipher): Contact {
  return {
    id: toPublicId('contact', c.id),
    inboxId: toPublicId('inbox', c.inboxId),
    address: c.address,
    name: c.name,
    notes: cipher.openNullable(notesContext(c.id), c.notesEnc),
    tags: c.tags,
    blocked: c.blocked,
    firstContactAt: c.firstContactAt.toISOString(),
    lastContactAt: c.lastContactAt.toISOString(),
    receivedCount: c.receivedCount,
    verifiedReceivedCount: c.verifiedReceivedCount,
    sentCount: c.sentCount,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  }
}

export interface ContactFilters {
  q?: string | undefined
  tag?: string | undefined
  blocked?: boolean | undefined
}

export async function listContacts(tx: Tx, inboxId: string, f: ContactFilters, limit: number, after: CursorPosition | null) {
  const where: SQL[] = [eq(contacts.inboxId, inboxId)]
  if (f.q) {
    const q = f.q.toLowerCase()
    where.push(sql`(strpos(${contacts.address}, ${q}) > 0 or strpos(lower(coalesce(${contacts.name}, '')), ${q}) > 0)`)
  }
  if (f.tag) where.push(sql`${contacts.tags} @> array[${f.tag}]::text[]`)
  if (f.blocked !== undefined) where.push(eq(contacts.blocked, f.blocked))
  return newestFirst(tx, contacts, { limit, after, by: contacts.lastContactAt, where: and(...where) })
}

export async function getContact(tx: Tx, inboxId: string, id: string): Promise<ContactRow | null> {
  const [row] = await tx.select().from(contacts).where(and(ownRows(tx, contacts.tenantId), eq(contacts.inboxId, inboxId), eq(contacts.id, id)))
  return row ?? null
}

export async function updateContact(tx: Tx, cipher: Cipher, inboxId: string, id: string, change: UpdateContactRequest): Promise<ContactRow | null> {
  const set: Partial<typeof contacts.$inferInsert> = { updatedAt: sql`now()` as unknown as Date }
  if (change.name !== undefined) set.name = change.name === '' ? null : change.name
  if (change.notes !== undefined) set.notesEnc = change.notes === null || change.notes === '' ? null : cipher.seal(notesContext(id), change.notes)
  if (change.tags !== undefined) set.tags = [...new Set(change.tags)].sort()
  if (change.blocked !== undefined) set.blocked = change.blocked
  const [row] = await tx.update(contacts).set(set).where(and(ownRows(tx, contacts.tenantId), eq(contacts.inboxId, inboxId), eq(contacts.id, id))).returning()
  return row ?? null
}

export async function deleteContact(tx: Tx, inboxId: string, id: string): Promise<boolean> {
  const rows = await tx.delete(contacts).where(and(ownRows(tx, contacts.tenantId), eq(contacts.inboxId, inboxId), eq(contacts.id, id))).returning({ id: contacts.id })
  return rows.length > 0
}
