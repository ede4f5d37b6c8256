// A person's decision on quarantined mail. Released, a message reaches its agent as if it had just
// arrived: it takes the inbox's next arrival number (so a wait from an earlier cursor sees it,
// exactly once), waiters and streams are woken, and the inbox's webhooks get `message.received`;
// the tenant's get `message.released`. The audit log says who did it. A verified sender's mail, once
// released, puts the inbox in conversation with that sender (contacts/tables.ts), as it would have
// had it not been quarantined.
import { and, eq, sql } from 'drizzle-orm'
import type { Tx } from '../db/client.js'
import { rawRows } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import { ServiceError } from '../errors.js'
import { appendEvent } from '../events/service.js'
import { arrivalPayload, MAIL_CHANNEL } from '../events/hub.js'
import { audit, type Actor } from '../audit/service.js'
import { toPublicId } from '../lib/ids.js'
import { inboxes } from '../inboxes/tables.js'
import { contacts } from '../contacts/tables.js'
import { senderVerified } from './ingest/verdicts.js'
import { attachmentsOf, deleteMessage, securityOf, summaryToWire } from './service.js'
import { messages, type MessageRow } from './tables.js'

export async function releaseMessage(tx: Tx, cipher: Cipher, m: MessageRow, actor: Actor): Promise<MessageRow> {
  // Locked first, so two people releasing at once release it once.
  const [row] = await tx.select().from(messages).where(and(eq(messages.tenantId, m.tenantId), eq(messages.id, m.id))).for('update')
  if (!row?.quarantined) throw new ServiceError('conflict', 'this message is not quarantined')
  // Before the inbox's counter: the lock order of the ingest (contacts, then inbox counters).
  const verdict = securityOf(row, cipher)
  if (verdict && row.fromAddress && !row.hidden && senderVerified(row.auth !== null, verdict)) {
    await tx
      .update(contacts)
      .set({ verifiedReceivedCount: sql`${contacts.verifiedReceivedCount} + 1`, updatedAt: sql`now()` })
      .where(and(eq(contacts.tenantId, row.tenantId), eq(contacts.inboxId, row.inboxId), eq(contacts.address, row.fromAddress.trim().toLowerCase())))
  }
  const [counter] = await rawRows<{ last_seq: string | number }>(
    tx,
    sql`update ${inboxes} set last_seq = last_seq + 1 where tenant_id = ${row.tenantId} and id = ${row.inboxId} returning last_seq`,
  )
  const seq = Number(counter!.last_seq)
  const [released] = await tx
    .update(messages)
    // For the agent it arrives now: a wait begun after it was quarantined (and its lists) see it as
    // new. When it really came stays in quarantined_at. (statement_timestamp(), not clock_timestamp():
    // Citus refuses volatile functions in an UPDATE; one row, so the same instant to the microsecond.)
    .set({ quarantined: false, releasedAt: sql`now()`, receivedAt: sql`statement_timestamp()`, seq, updatedAt: sql`now()` })
    .where(and(eq(messages.tenantId, row.tenantId), eq(messages.id, row.id), eq(messages.quarantined, true)))
    .returning()
  const atts = (await attachmentsOf(tx, [row.id])).get(row.id) ?? []
  const message = summaryToWire(released!, atts, cipher)
  const by = { kind: actor.kind, tenantId: actor.tenantId ? toPublicId('tenant', actor.tenantId) : null, keyId: actor.keyId ? toPublicId('apiKey', actor.keyId) : null }
  await appendEvent(tx, cipher, row.tenantId, 'message.released', null, { message, inboxId: message.inboxId, releasedBy: by })
  const eventSeq = await appendEvent(tx, cipher, row.tenantId, 'message.received', row.inboxId, { message })
  await tx.execute(sql`select pg_notify(${MAIL_CHANNEL}, ${arrivalPayload({ tenantId: row.tenantId, inboxId: row.inboxId, seq, eventSeq })})`)
  await audit(tx, row.tenantId, actor, 'message.released', { type: 'message', id: toPublicId('message', row.id) }, { inboxId: message.inboxId })
  return released!
}

/** Deletes a message; a quarantined one's deletion is a person's decision, so it is audited. */
export async function deleteWithAudit(tx: Tx, m: MessageRow, actor: Actor, now: Date): Promise<void> {
  await deleteMessage(tx, m, now)
  if (m.quarantined) await audit(tx, m.tenantId, actor, 'message.quarantine_deleted', { type: 'message', id: toPublicId('message', m.id) }, { inboxId: toPublicId('inbox', m.inboxId) })
}
