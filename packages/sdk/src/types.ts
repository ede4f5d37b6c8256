// The wire format as plain TypeScript interfaces. They mirror `@mailroom/contract` (test/contract.test.ts
// proves both directions), written out so the published .d.ts depends on nothing (no zod types).

/**
 * Free-form key/value pairs you own (at most 32 keys, values up to 512 characters).
 *
 * @example
 * const metadata: Metadata = { customer: 'acme', tier: 2, beta: true }
 */
export type Metadata = Record<string, string | number | boolean | null>

/**
 * The error codes the API answers with (a closed set).
 *
 * @example
 * if (err instanceof MailroomError && err.code === 'address_taken') { ... }
 */
export type ApiErrorCode =
  | 'bad_request'
  | 'validation_error'
  | 'unauthorized'
  | 'forbidden'
  | 'tenant_suspended'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'address_taken'
  | 'idempotency_conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'sending_paused'
  | 'internal_error'
  | 'service_unavailable'

/**
 * One page of a list: pass `nextCursor` as `after` to get the next one (null on the last page).
 *
 * @example
 * const page: Page<Tenant> = await mailroom.tenants.list().page({ limit: 10 })
 */
export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

/**
 * Paging parameters accepted by every list.
 *
 * @example
 * const params: ListParams = { limit: 50 }
 */
export interface ListParams {
  /** Page size, 1-100 (server default 20). */
  limit?: number
}

/**
 * Parameters of one page: `limit` and the `after` cursor (a previous page's `nextCursor`).
 *
 * @example
 * const next = await mailroom.inboxes.list().page({ limit: 10, after: first.nextCursor })
 */
export interface PageParams extends ListParams {
  after?: string | null
}

// ---------------------------------------------------------------------------------------------
// Tenants

/**
 * Whether a tenant may use the API.
 *
 * @example
 * if (tenant.status === 'suspended') await mailroom.tenants.resume(tenant.id)
 */
export type TenantStatus = 'active' | 'suspended'

/**
 * A tenant's limits; `null` or absent means "inherit from the parent / unlimited".
 *
 * @example
 * const limits: TenantLimits = { maxInboxes: 10, sendPerDay: 500 }
 */
export interface TenantLimits {
  maxInboxes?: number | null
  maxMessageBytes?: number | null
  sendPerMinute?: number | null
  sendPerDay?: number | null
  receivePerMinute?: number | null
}

/**
 * A customer of Mailroom. Tenants form a tree: a parent manages its descendants.
 *
 * @example
 * const tenant: Tenant = await mailroom.tenants.get('tnt_...')
 * console.log(tenant.name, tenant.status)
 */
export interface Tenant {
  id: string
  parentId: string | null
  name: string
  status: TenantStatus
  limits: TenantLimits
  metadata: Metadata
  createdAt: string
  updatedAt: string
}

/**
 * A new tenant with its first tenant key (`mr_tk_...`, shown once: store it now).
 *
 * @example
 * const { id, apiKey } = await mailroom.tenants.create({ name: 'Acme' })
 */
export interface CreatedTenant extends Tenant {
  apiKey: string
}

/**
 * Body of `mailroom.tenants.create()`.
 *
 * @example
 * await mailroom.tenants.create({ name: 'Acme', limits: { maxInboxes: 5 }, metadata: { plan: 'pro' } })
 */
export interface CreateTenantParams {
  name: string
  limits?: TenantLimits
  metadata?: Metadata
}

/**
 * Body of `mailroom.tenants.update()`. Status and limits can only be set by a parent.
 *
 * @example
 * await mailroom.tenants.update('tnt_...', { limits: { sendPerDay: 100 } })
 */
export interface UpdateTenantParams {
  name?: string
  status?: TenantStatus
  limits?: TenantLimits
  metadata?: Metadata
}

// ---------------------------------------------------------------------------------------------
// API keys

/**
 * A tenant key manages its tenant and subtree; an inbox key reaches one inbox only.
 *
 * @example
 * await mailroom.apiKeys.create({ scope: 'inbox', inboxId: inbox.id })
 */
export type ApiKeyScope = 'tenant' | 'inbox'

/**
 * An API key as listed: never the secret, only its public `prefix`.
 *
 * @example
 * for await (const key of mailroom.apiKeys.list()) console.log(key.prefix, key.lastUsedAt)
 */
export interface ApiKey {
  id: string
  tenantId: string
  scope: ApiKeyScope
  inboxId: string | null
  name: string | null
  prefix: string
  expiresAt: string | null
  revokedAt: string | null
  lastUsedAt: string | null
  createdAt: string
}

/**
 * A new API key with its secret `key` (shown once: store it now).
 *
 * @example
 * const { key } = await mailroom.apiKeys.create({ name: 'ci' })
 */
export interface CreatedApiKey extends ApiKey {
  key: string
}

/**
 * Body of `mailroom.apiKeys.create()`: `inboxId` is required for scope `inbox`, refused for `tenant`.
 *
 * @example
 * await mailroom.apiKeys.create({ scope: 'inbox', inboxId: 'inb_...', expiresAt: '2030-01-01T00:00:00Z' })
 */
export interface CreateApiKeyParams {
  /** Default `tenant`. */
  scope?: ApiKeyScope
  inboxId?: string
  name?: string
  /** RFC 3339 timestamp (or a Date) after which the key stops working. */
  expiresAt?: string | Date
}

// ---------------------------------------------------------------------------------------------
// Inboxes

/**
 * An inbox as the API returns it. The SDK wraps it in an {@link Inbox} handle.
 *
 * @example
 * const data: InboxData = inbox.toJSON()
 */
export interface InboxData {
  id: string
  tenantId: string
  address: string
  displayName: string | null
  metadata: Metadata
  createdAt: string
  updatedAt: string
}

/**
 * Body of `mailroom.createInbox()`.
 *
 * @example
 * await mailroom.createInbox({ name: 'support', displayName: 'Support bot', createKey: true })
 */
export interface CreateInboxParams {
  /** Local part of the address (`support` -> `support@<domain>`); generated when omitted. */
  name?: string
  displayName?: string
  metadata?: Metadata
  /** Also mint an inbox key (`mr_ik_...`), returned once as `inbox.apiKey`. */
  createKey?: boolean
}

/**
 * Body of `mailroom.inboxes.update()`.
 *
 * @example
 * await mailroom.inboxes.update('inb_...', { displayName: null })
 */
export interface UpdateInboxParams {
  displayName?: string | null
  metadata?: Metadata
}

/**
 * Who the API key belongs to.
 *
 * @example
 * const me: Me = await mailroom.me()
 * if (me.scope === 'inbox') console.log(me.inbox?.address)
 */
export interface Me {
  /** null for the operator key. */
  keyId: string | null
  scope: 'tenant' | 'inbox' | 'operator'
  tenant: Tenant
  inbox: InboxData | null
}

// ---------------------------------------------------------------------------------------------
// Messages and threads

/**
 * One mailbox: an address and its display name.
 *
 * @example
 * const sender: EmailAddress | null = msg.from // { address: 'alice@example.com', name: 'Alice' }
 */
export interface EmailAddress {
  address: string
  name: string | null
}

/**
 * An attachment's description; fetch its bytes with `inbox.messages.attachment(msg.id, att.id)`.
 *
 * @example
 * for (const att of msg.attachments) console.log(att.filename, att.contentType, att.size)
 */
export interface AttachmentInfo {
  id: string
  filename: string | null
  contentType: string
  size: number
  /** The Content-ID of an inline part (referenced from the HTML as `cid:`). */
  contentId: string | null
  inline: boolean
}

/**
 * The outcome of one sender-authentication check.
 *
 * @example
 * if (msg.authentication?.dmarc !== 'pass') console.warn('unauthenticated sender')
 */
export type Verdict = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy'

/**
 * SPF, DKIM and DMARC verdicts of an inbound message.
 *
 * @example
 * const trusted = msg.authentication?.dmarc === 'pass'
 */
export interface AuthenticationResults {
  spf: Verdict
  dkim: Verdict
  dmarc: Verdict
}

/**
 * Whether the inbox received the message or sent it.
 *
 * @example
 * for await (const m of inbox.messages.list({ direction: 'inbound' })) { ... }
 */
export type MessageDirection = 'inbound' | 'outbound'

/**
 * Where a message is: `received` for inbound mail; the delivery state for outbound mail.
 *
 * @example
 * if (sent.status === 'bounced') console.warn('bounced')
 */
export type MessageStatus =
  | 'received'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'deferred'
  | 'bounced'
  | 'suppressed'
  | 'held'
  | 'failed'

/**
 * `pending` until parsed; `failed` when the raw message could not be parsed (it is kept, see `raw()`).
 *
 * @example
 * if (msg.parseStatus === 'failed') console.log(msg.parseError)
 */
export type ParseStatus = 'pending' | 'parsed' | 'failed'

/**
 * A message as lists show it: headers, attachments and a `preview` of the text (no bodies).
 *
 * @example
 * for await (const m of inbox.messages.list()) console.log(m.from?.address, m.subject, m.preview)
 */
export interface MessageSummary {
  id: string
  inboxId: string
  threadId: string | null
  direction: MessageDirection
  status: MessageStatus
  from: EmailAddress | null
  to: EmailAddress[]
  cc: EmailAddress[]
  subject: string | null
  /** The Date header, when it parses. */
  date: string | null
  /** The Message-ID header. */
  messageId: string | null
  attachments: AttachmentInfo[]
  /** Size of the raw message in bytes. */
  size: number
  parseStatus: ParseStatus
  receivedAt: string
  /** The first 200 characters of the text body. */
  preview: string | null
}

/**
 * A whole message: addresses, subject, text, HTML, every header, attachments and the sender's
 * authentication results.
 *
 * @example
 * const msg: Message = await inbox.messages.get('msg_...')
 * console.log(msg.subject, msg.text)
 */
export interface Message {
  id: string
  inboxId: string
  threadId: string | null
  direction: MessageDirection
  status: MessageStatus
  from: EmailAddress | null
  to: EmailAddress[]
  cc: EmailAddress[]
  subject: string | null
  /** The Date header, when it parses. */
  date: string | null
  /** The Message-ID header. */
  messageId: string | null
  attachments: AttachmentInfo[]
  /** Size of the raw message in bytes. */
  size: number
  parseStatus: ParseStatus
  receivedAt: string
  replyTo: EmailAddress[]
  inReplyTo: string | null
  references: string[]
  text: string | null
  html: string | null
  /** Every header, in order, as received. */
  headers: { name: string; value: string }[]
  /** SPF, DKIM and DMARC verdicts, for inbound mail. */
  authentication: AuthenticationResults | null
  parseError: string | null
}

/**
 * A message returned by `waitForMessage`, with the cursor just after it: pass it as `since` to the
 * next `waitForMessage` to continue exactly there (no message missed, none seen twice).
 *
 * @example
 * let since: string | undefined
 * for (;;) {
 *   const msg = await inbox.waitForMessage({ since })
 *   since = msg.cursor
 * }
 */
export type ReceivedMessage = Message & { cursor: string }

/**
 * A conversation: messages linked by Message-ID / In-Reply-To / References.
 *
 * @example
 * for await (const thread of inbox.threads.list()) console.log(thread.subject, thread.messageCount)
 */
export interface Thread {
  id: string
  inboxId: string
  subject: string | null
  messageCount: number
  lastMessageAt: string
  createdAt: string
}

/**
 * A thread with its messages (summaries, oldest first).
 *
 * @example
 * const { messages } = await inbox.threads.get(msg.threadId!)
 */
export interface ThreadWithMessages extends Thread {
  messages: MessageSummary[]
}

/**
 * Filters of `inbox.messages.list()`, all optional and combined with AND. Matching is
 * case-insensitive: `from` / `to` are exact addresses, `subject` is a substring.
 *
 * @example
 * for await (const msg of inbox.messages.list({ from: 'alice@example.com', hasAttachments: true })) { ... }
 */
export interface MessageListParams extends ListParams {
  /** Sender address (exact). */
  from?: string
  /** A recipient address (exact). */
  to?: string
  /** Subject contains. */
  subject?: string
  /** Only messages received at or after this instant. */
  since?: string | Date
  /** Only messages received before this instant. */
  until?: string | Date
  hasAttachments?: boolean
  threadId?: string
  direction?: MessageDirection
}

/**
 * How a long-poll filter compares: `exact` (whole address), `contains` (substring) or `regex`.
 *
 * @example
 * const mode: MatchMode = 'contains'
 */
export type MatchMode = 'exact' | 'contains' | 'regex'

/**
 * A `waitForMessage` filter value. The server compares case-insensitively in every mode.
 * - a plain string: `exact` match for `from` / `to` (the whole address), `contains` for `subject`;
 * - a RegExp: `regex` mode. Its `source` is sent (run on RE2: no lookaround, no backreferences);
 *   of its flags only `i` is kept (as `(?i)`), `m` and `s` are refused, the others are ignored;
 * - `{ exact }`, `{ contains }` or `{ regex }` to choose the mode yourself.
 *
 * @example
 * await inbox.waitForMessage({ from: { contains: '@github.com' }, subject: /verify/i })
 */
export type Matcher = string | RegExp | { exact: string } | { contains: string } | { regex: string }

/**
 * Options of `inbox.waitForMessage()`.
 *
 * @example
 * const msg = await inbox.waitForMessage({ from: 'alice@example.com', subject: 'invoice', timeout: 30_000 })
 */
export interface WaitForMessageOptions {
  /** Sender. A plain string is an exact (whole address) match. */
  from?: Matcher
  /** Recipient. A plain string is an exact (whole address) match. */
  to?: Matcher
  /** Subject. A plain string is a `contains` match. */
  subject?: Matcher
  hasAttachments?: boolean
  /** Give up after this many milliseconds with a `MailroomTimeoutError` (default 60 000). */
  timeout?: number
  /** Cancels the wait with a `MailroomAbortError`. */
  signal?: AbortSignal
  /**
   * Start after this cursor (a previous result's `cursor`) instead of "now": nothing that arrived
   * in between is missed.
   */
  since?: string
}

/**
 * A file to send. `content` is raw bytes or a base64 string.
 *
 * @example
 * const att: AttachmentInput = { filename: 'report.csv', contentType: 'text/csv', content: new TextEncoder().encode('a,b\n') }
 */
export interface AttachmentInput {
  filename: string
  /** Default `application/octet-stream`. */
  contentType?: string
  /** Bytes (Uint8Array, ArrayBuffer, Blob) or a string that is already base64. */
  content: Uint8Array | ArrayBuffer | Blob | string
}

/**
 * Body of `inbox.send()`. Recipients are addresses (`a@b.c` or `Name <a@b.c>`).
 *
 * @example
 * await inbox.send({ to: 'alice@example.com', subject: 'Hi', text: 'Hello!' })
 */
export interface SendParams {
  to: string | string[]
  cc?: string | string[]
  bcc?: string | string[]
  subject: string
  text?: string
  html?: string
  attachments?: AttachmentInput[]
  /** Extra headers, e.g. `{ 'X-Campaign': 'q3' }`. */
  headers?: Record<string, string>
}

/**
 * Body of `inbox.reply()`.
 *
 * @example
 * await inbox.reply(msg, { text: 'Thanks!', replyAll: true })
 */
export interface ReplyParams {
  text?: string
  html?: string
  /** Also reply to the other recipients (To and Cc). */
  replyAll?: boolean
}

/**
 * Body of `inbox.forward()`.
 *
 * @example
 * await inbox.forward(msg, { to: 'boss@example.com', text: 'FYI' })
 */
export interface ForwardParams {
  to: string | string[]
  text?: string
}

/**
 * Filters of `inbox.threads.list()`.
 *
 * @example
 * for await (const thread of inbox.threads.list({ limit: 50 })) console.log(thread.subject)
 */
export type ThreadListParams = ListParams
