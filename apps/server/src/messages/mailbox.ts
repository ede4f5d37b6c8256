// The agent's bookkeeping on its mail: read state and labels per message, and the counts per inbox
// and label (kept by triggers on messages, migration 0023: reading them is one indexed read).
import { and, eq, sql } from 'drizzle-orm'
import { MAX_LABELS_PER_MESSAGE, type MailboxCounts, type UpdateMessageRequest } from '@mailroom/contract'
import { rawRows, type Tx } from '../db/client.js'
import { ServiceError } from '../errors.js'
import { mailboxCounts, messages, type MessageRow } from './tables.js'
import { ownRows } from '../db/scope.js'

/**
 * Marks a message read or unread and adds/removes labels, in one statement (the row lock orders
 * concurrent changes; the counts follow in the same transaction). Marking read keeps the first time
 * it was read. null when the message is not there (or not visible to the caller).
 */
export async function updateMessage(tx: Tx, inboxId: string, id: string, change: UpdateMessageRequest): Promise<MessageRow | null> {
  const add = change.addLabels ?? []
  const remove = change.removeLabels ?? []
  // The tenant and the transaction's now() as values: Citus routes an UPDATE to one shard group only
  // by a constant tenant_id and allows no now() inside coalesce (same values as before elsewhere).
  const [ctx] = await rawRows<{ tenant: string; now: string }>(tx, sql`select current_setting('app.tenant_id', true) as tenant, now()::text as now`)
  const seen =
    change.seen === true ? sql`coalesce(${messages.seenAt}, ${ctx!.now}::timestamptz)` : change.seen === false ? sql`null::timestamptz` : sql`${messages.seenAt}`
  const labels =
    add.length === 0 && remove.length === 0
      ? sql`${messages.labels}`
      : sql`(select coalesce(array_agg(l order by l), '{}'::text[]) from (select distinct l from unnest(${messages.labels} || ${toArray(add)}::text[]) as l) x
             where l <> all(${toArray(remove)}::text[]))`
  const [row] = await tx
    .update(messages)
    .set({ seenAt: seen, labels, updatedAt: sql`now()` })
    .where(and(eq(messages.tenantId, ctx!.tenant), eq(messages.inboxId, inboxId), eq(messages.id, id)))
    .returning()
  if (!row) return null
  if (row.labels.length > MAX_LABELS_PER_MESSAGE) {
    throw new ServiceError('validation_error', `a message carries at most ${MAX_LABELS_PER_MESSAGE} labels`, [
      { path: 'body.addLabels', message: 'too many labels' },
    ])
  }
  return row
}

/** A text[] literal; labels are validated by the contract (no quotes, commas, braces or spaces). */
const toArray = (list: string[]) => `{${list.map((l) => `"${l.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`

/** The inbox's counts: total and unread, and per label in use (by name). */
export async function countsOf(tx: Tx, inboxId: string): Promise<MailboxCounts> {
  const rows = await tx.select().from(mailboxCounts).where(and(ownRows(tx, mailboxCounts.tenantId), eq(mailboxCounts.inboxId, inboxId)))
  const all = rows.find((r) => r.label === '')
  return {
    total: all?.total ?? 0,
    unread: all?.unread ?? 0,
    labels: rows
      .filter((r) => r.label !== '' && r.total > 0)
      .map((r) => ({ label: r.label, total: r.total, unread: r.unread }))
      .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)),
  }
}
