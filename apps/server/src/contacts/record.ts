// Keeping contacts: who each inbox has received mail from (the From address of accepted mail) and
// sent mail to (each recipient of mail accepted for delivery). One set-based upsert per batch, in
// (inbox, address) order, so concurrent batches lock contact rows in the same order.
import { sql, type SQLWrapper } from 'drizzle-orm'
import { textTemplate } from '../db/pipeline.js'
import { newUuid } from '../lib/ids.js'
import { contacts } from './tables.js'

export interface ContactTouch {
  inboxId: string
  /** Any case: stored lower-cased. */
  address: string
  at: Date
  /** 'received': the inbox got mail from the address; 'sent': it sent mail to it. */
  kind: 'received' | 'sent'
  /** Received mail only: it puts the inbox in conversation with its sender (contacts/tables.ts). */
  verified?: boolean
}

/** recordContacts' statement: one text for any number of rows (db/pipeline.ts textTemplate). */
const upsertContacts = textTemplate<'tenantId' | 'ids' | 'inboxIds' | 'addresses' | 'firsts' | 'lasts' | 'received' | 'verified' | 'sent'>(
  (v) => sql`insert into ${contacts} (tenant_id, id, inbox_id, address, first_contact_at, last_contact_at, received_count, verified_received_count, sent_count)
    select ${v('tenantId')}::uuid, v.id, v.inbox_id, v.address, v.first_at::timestamptz, v.last_at::timestamptz, v.received, v.verified, v.sent
    from unnest(${v('ids')}::uuid[], ${v('inboxIds')}::uuid[],
                ${v('addresses')}::text[], ${v('firsts')}::text[],
                ${v('lasts')}::text[], ${v('received')}::int[],
                ${v('verified')}::int[], ${v('sent')}::int[])
      as v(id, inbox_id, address, first_at, last_at, received, verified, sent)
    order by v.inbox_id, v.address
    on conflict (tenant_id, inbox_id, address) do update set
      first_contact_at = least(contacts.first_contact_at, excluded.first_contact_at),
      last_contact_at = greatest(contacts.last_contact_at, excluded.last_contact_at),
      received_count = contacts.received_count + excluded.received_count,
      verified_received_count = contacts.verified_received_count + excluded.verified_received_count,
      sent_count = contacts.sent_count + excluded.sent_count,
      updated_at = excluded.updated_at`,
)

/**
 * The one statement recording `touches` for a tenant (false when there are none): new contacts are
 * inserted, known ones get their counters and last contact moved on. Run it inside the
 * transaction that stores the mail (so a rolled-back message records nothing).
 */
export function recordContacts(tenantId: string, touches: ContactTouch[]): SQLWrapper | false {
  const merged = new Map<string, { inboxId: string; address: string; first: Date; last: Date; received: number; verified: number; sent: number }>()
  for (const t of touches) {
    const address = t.address.trim().toLowerCase()
    if (!address) continue
    const key = `${t.inboxId} ${address}`
    const m = merged.get(key) ?? { inboxId: t.inboxId, address, first: t.at, last: t.at, received: 0, verified: 0, sent: 0 }
    if (t.at < m.first) m.first = t.at
    if (t.at > m.last) m.last = t.at
    if (t.kind === 'received') {
      m.received++
      if (t.verified) m.verified++
    } else m.sent++
    merged.set(key, m)
  }
  if (merged.size === 0) return false
  const rows = [...merged.values()].sort((a, b) => (a.inboxId < b.inboxId ? -1 : a.inboxId > b.inboxId ? 1 : a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  return upsertContacts({
    tenantId,
    ids: rows.map(() => newUuid()),
    inboxIds: rows.map((r) => r.inboxId),
    addresses: rows.map((r) => r.address),
    firsts: rows.map((r) => r.first.toISOString()),
    lasts: rows.map((r) => r.last.toISOString()),
    received: rows.map((r) => r.received),
    verified: rows.map((r) => r.verified),
    sent: rows.map((r) => r.sent),
  })
}
