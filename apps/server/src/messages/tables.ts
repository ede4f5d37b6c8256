// Mail: raw bytes (kept byte-exact), parsed messages, attachments and threads. Content columns
// (`*_enc`) hold AES-256-GCM ciphertext under the tenant's data key; addresses, sizes and times
// stay in clear for indexing.
import { sql } from 'drizzle-orm'
import { bigint, boolean, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uuid, real } from 'drizzle-orm/pg-core'
import { impliedTenantIdColumn, tenantIdColumn, bytea, ts } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'


/** One row per accepted SMTP transaction per tenant (or per sent message): the exact bytes. */
export const rawMessages = pgTable(
  'raw_messages',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    dataEnc: bytea('data_enc').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256').notNull(),
    mailFrom: text('mail_from'),
    remoteIp: text('remote_ip'),
    helo: text('helo'),
    createdAt: ts('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
)

export const threads = pgTable(
  'threads',
  {
    tenantId: impliedTenantIdColumn(),
    id: uuid('id').notNull(),
    inboxId: uuid('inbox_id').notNull(),
    subjectEnc: bytea('subject_enc'),
    messageCount: integer('message_count').notNull().default(0),
    lastMessageAt: ts('last_message_at').notNull().default(sql`now()`),
    createdAt: ts('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('threads_inbox_last_idx').on(t.tenantId, t.inboxId, t.lastMessageAt, t.id),
  ],
)

export interface StoredAddress {
  address: string
  name: string | null
}

export const messages = pgTable(
  'messages',
  {
    tenantId: impliedTenantIdColumn(),
    id: uuid('id').notNull(),
    inboxId: uuid('inbox_id').notNull(),
    rawId: uuid('raw_id').notNull(),
    threadId: uuid('thread_id'),
    direction: text('direction', { enum: ['inbound', 'outbound'] }).notNull(),
    status: text('status').notNull().default('received'),
    /** Per-inbox arrival order, set when the message becomes visible to waiters (see inboxes.last_seq). */
    seq: bigint('seq', { mode: 'number' }),
    parseStatus: text('parse_status', { enum: ['pending', 'parsed', 'failed'] }).notNull().default('pending'),
    parseError: text('parse_error'),
    fromAddress: text('from_address'),
    toAddresses: text('to_addresses').array().notNull().default(sql`'{}'::text[]`),
    /** from/to/cc/reply-to with display names, as parsed */
    addresses: jsonb('addresses').$type<{ from: StoredAddress | null; to: StoredAddress[]; cc: StoredAddress[]; replyTo: StoredAddress[] }>(),
    messageIdHeader: text('message_id_header'),
    inReplyTo: text('in_reply_to'),
    references: text('references').array().notNull().default(sql`'{}'::text[]`),
    subjectEnc: bytea('subject_enc'),
    textEnc: bytea('text_enc'),
    htmlEnc: bytea('html_enc'),
    headersEnc: bytea('headers_enc'),
    previewEnc: bytea('preview_enc'),
    date: ts('date'),
    size: integer('size').notNull(),
    hasAttachments: boolean('has_attachments').notNull().default(false),
    /** Accepted from a sender blocked with blockMode `hide`: kept, but out of lists and waits. */
    hidden: boolean('hidden').notNull().default(false),
    auth: jsonb('auth').$type<{ spf: string; dkim: string; dmarc: string }>(),
    /** The risk verdict (`low`, `medium`, `high`) of received mail; null for sent mail and unparsed mail. */
    risk: text('risk', { enum: ['low', 'medium', 'high'] }),
    injectionScore: real('injection_score'),
    /** The whole verdict (its signals quote the message): sealed with the tenant's key. */
    securityEnc: bytea('security_enc'),
    /** Held back from the agent (inbox keys, waits, agent tools, inbox webhooks) until a person releases it. */
    quarantined: boolean('quarantined').notNull().default(false),
    quarantinedAt: ts('quarantined_at'),
    releasedAt: ts('released_at'),
    /** When the agent marked it read (null: unread; sent mail is never unread). */
    seenAt: ts('seen_at'),
    /** The inbox's labels on this message (lower-case, short; `handled`, `needs_reply` by convention). */
    labels: text('labels').array().notNull().default(sql`'{}'::text[]`),
    receivedAt: ts('received_at').notNull().default(sql`now()`),
    updatedAt: ts('updated_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.rawId], foreignColumns: [rawMessages.tenantId, rawMessages.id] }),
    foreignKey({ columns: [t.tenantId, t.threadId], foreignColumns: [threads.tenantId, threads.id] }).onDelete('set null'),
    index('messages_inbox_received_idx').on(t.tenantId, t.inboxId, t.receivedAt, t.id),
    index('messages_inbox_seq_idx').on(t.tenantId, t.inboxId, t.seq),
    index('messages_inbox_msgid_idx').on(t.tenantId, t.inboxId, t.messageIdHeader),
    // The `from` list filter, newest first, without reading the rest of the inbox (migration 0015).
    index('messages_inbox_from_idx').on(t.tenantId, t.inboxId, t.fromAddress, t.receivedAt, t.id),
    index('messages_thread_idx').on(t.tenantId, t.threadId, t.receivedAt),
    index('messages_raw_idx').on(t.tenantId, t.rawId),
    // What waits for a person's decision: small, so a partial index.
    index('messages_quarantined_idx').on(t.tenantId, t.inboxId, t.receivedAt, t.id).where(sql`quarantined`),
    index('messages_inbox_unread_idx').on(t.tenantId, t.inboxId, t.receivedAt, t.id).where(sql`seen_at IS NULL AND direction = 'inbound'`),
  ],
)

export const attachments = pgTable(
  'attachments',
  {
    tenantId: impliedTenantIdColumn(),
    id: uuid('id').notNull(),
    messageId: uuid('message_id').notNull(),
    /** Denormalised so an inbox-scoped request's RLS policy can check it directly. */
    inboxId: uuid('inbox_id').notNull(),
    filename: text('filename'),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    contentId: text('content_id'),
    inline: boolean('inline').notNull().default(false),
    /**
     * The decoded bytes, encrypted; null for a received message parsed before it was stored (up to
     * 1 MiB): its bytes are decoded again from the raw copy on read, and checked against `checksum`.
     */
    contentEnc: bytea('content_enc'),
    /** MD5 (hex) of the decoded bytes, as mailparser computes it (null: rows stored before it was kept). */
    checksum: text('checksum'),
    /** The attachment's index among the message's parsed attachments. */
    position: integer('position').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
    index('attachments_message_idx').on(t.tenantId, t.messageId, t.position),
  ],
)

/**
 * One row per (message, Message-ID it refers to by In-Reply-To or References), kept by a trigger on
 * messages (migration 0014): threading finds the stored messages that refer to a new one by
 * equality, which an index serves under RLS (array operators are not leakproof, so not indexable).
 */
export const messageRefs = pgTable(
  'message_refs',
  {
    tenantId: impliedTenantIdColumn(),
    messageId: uuid('message_id').notNull(),
    ref: text('ref').notNull(),
    inboxId: uuid('inbox_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.messageId, t.ref] }),
    foreignKey({ columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
    index('message_refs_inbox_ref_idx').on(t.tenantId, t.inboxId, t.ref),
  ],
)

/**
 * The blind index of a message (migration 0023): keyed hashes of its words, never the words. Read
 * only through mailroom_search_messages (a GIN index is of no use under RLS, see the migration).
 */
export const messageSearch = pgTable(
  'message_search',
  {
    tenantId: impliedTenantIdColumn(),
    messageId: uuid('message_id').notNull(),
    inboxId: uuid('inbox_id').notNull(),
    terms: bigint('terms', { mode: 'number' }).array().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.messageId] }),
    foreignKey({ columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
    index('message_search_terms_idx').using('gin', t.terms),
  ],
)

/** Counts of what an agent sees in an inbox (label ''), and per label: kept by triggers (0023). */
export const mailboxCounts = pgTable(
  'mailbox_counts',
  {
    tenantId: impliedTenantIdColumn(),
    inboxId: uuid('inbox_id').notNull(),
    label: text('label').notNull(),
    total: integer('total').notNull().default(0),
    unread: integer('unread').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.inboxId, t.label] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
  ],
)

export type MessageRow = typeof messages.$inferSelect
export type ThreadRow = typeof threads.$inferSelect
export type AttachmentRow = typeof attachments.$inferSelect
