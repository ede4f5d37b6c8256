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
  | 'first_contact_limit'
  | 'quota_exceeded'
  | 'sending_paused'
  | 'internal_error'
  | 'service_unavailable'
  | 'database_unavailable'

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
  limit?: number | undefined
}

/**
 * Parameters of one page: `limit` and the `after` cursor (a previous page's `nextCursor`).
 *
 * @example
 * const next = await mailroom.inboxes.list().page({ limit: 10, after: first.nextCursor })
 */
export interface PageParams extends ListParams {
  after?: string | null | undefined
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
  maxInboxes?: number | null | undefined
  maxMessageBytes?: number | null | undefined
  sendPerMinute?: number | null | undefined
  sendPerDay?: number | null | undefined
  /** First-contact limit: recipients never in conversation with, per inbox and rolling day (past it: 429 `first_contact_limit`). */
  newRecipientsPerDay?: number | null | undefined
  receivePerMinute?: number | null | undefined
  /** Quota: bytes of mail stored. */
  maxStoredBytes?: number | null | undefined
  /** Quota: messages received per UTC day. */
  maxMessagesPerDay?: number | null | undefined
  /** Mail older than this many days is deleted (1-36500). */
  retentionDays?: number | null | undefined
  /** Requests per second to the HTTP API, all the tenant's keys together (past it: 429 `rate_limited`). Unset: the deployment default. */
  apiRequestsPerSecond?: number | null | undefined
  /** Requests the tenant may make at once before `apiRequestsPerSecond` applies. Unset: the deployment default. */
  apiBurst?: number | null | undefined
}

// ---------------------------------------------------------------------------------------------
// Agent safety: verdicts and policies

/**
 * How risky a received message looks to an agent that will read it.
 *
 * @example
 * const risk: Risk = msg.security?.risk ?? 'low'
 */
export type Risk = 'low' | 'medium' | 'high'

/**
 * What kind of trick a signal found.
 *
 * @example
 * const worrying: SignalCategory[] = ['instruction_override', 'exfiltration']
 */
export type SignalCategory =
  | 'instruction_override'
  | 'role_spoofing'
  | 'exfiltration'
  | 'coercion'
  | 'hidden_content'
  | 'obfuscation'
  | 'link_mismatch'
  | 'sender_spoofing'

/**
 * Where in the message a signal was found (`hidden_html`: text a reader of the HTML does not see).
 *
 * @example
 * const hidden = msg.security?.signals.filter((s) => s.location === 'hidden_html')
 */
export type SignalLocation = 'subject' | 'text' | 'html' | 'hidden_html' | 'attachment_name' | 'headers'

/**
 * One reason for a verdict: the rule that fired, where, and the text it fired on.
 *
 * @example
 * for (const s of msg.security?.signals ?? []) console.log(s.category, s.location, s.excerpt)
 */
export interface SecuritySignal {
  category: SignalCategory
  location: SignalLocation
  /** What fired, as written (at most 120 characters; invisible characters shown as [U+200B]). */
  excerpt: string
  /** The rule that fired: stable, to count or allow-list. */
  rule: string
  /** The rule's weight in the score, 0..1. */
  weight: number
}

/**
 * The risk verdict of a received message: computed when it arrives, deterministic, explained by
 * its signals. `null` on sent mail and on mail not parsed.
 *
 * @example
 * if (msg.security && msg.security.risk !== 'low') console.warn(msg.security.signals.map((s) => s.category))
 */
export interface Security {
  risk: Risk
  /** How much of the message reads as instructions aimed at an agent rather than mail, 0..1. */
  injectionScore: number
  /** Why: each rule that fired, strongest first. */
  signals: SecuritySignal[]
  /** Sender authentication as the server checked it (never as the message claims it). */
  auth: { spf: string | null; dkim: string | null; dmarc: string | null; aligned: boolean | null }
  /** An automatic message: auto-reply, out-of-office, bounce or delivery report. */
  autoReply: boolean
  /** Mailing-list or bulk mail. */
  bulk: boolean
  /** Held back from the agent by a quarantine policy, until a person releases it. */
  quarantined: boolean
}

/**
 * When received mail is held back from the agent for a person to decide on.
 *
 * @example
 * const quarantine: QuarantinePolicy = { minRisk: 'high', dmarcFail: true }
 */
export interface QuarantinePolicy {
  /** Quarantine mail at this risk or above; null: not by risk. */
  minRisk?: 'medium' | 'high' | null | undefined
  /** Quarantine mail whose `injectionScore` reaches this; null: not by score. */
  minScore?: number | null | undefined
  /** Quarantine mail whose DMARC check failed. */
  dmarcFail?: boolean | undefined
}

/**
 * Policies of a tenant or an inbox. Inherited down the tree: the strictest of a tenant's own, those
 * its ancestors set on it, and an inbox's own applies.
 *
 * @example
 * await mailroom.tenants.update(tenantId, { policies: { quarantine: { minRisk: 'high' } } })
 */
export interface Policies {
  quarantine?: QuarantinePolicy | undefined
  /** Which mail an agent (an inbox key) sends waits for a person's approval. */
  outboundApproval?: ApprovalMode | undefined
  /** Held mail nobody decided on expires after this many hours (default 72; 1-8760). */
  approvalExpiryHours?: number | undefined
}

/**
 * Which mail an agent sends waits for a person: `none`; `first_contact` (a recipient the inbox was
 * never in conversation with); `external` (anyone off the platform); `all`.
 *
 * @example
 * await mailroom.inboxes.update(inboxId, { policies: { outboundApproval: 'first_contact' } })
 */
export type ApprovalMode = 'none' | 'first_contact' | 'external' | 'all'

/**
 * The policies in force, every field decided.
 *
 * @example
 * const { effectivePolicies } = await mailroom.inboxes.get(inboxId)
 * console.log(effectivePolicies?.quarantine.minRisk)
 */
export interface EffectivePolicies {
  quarantine: { minRisk: 'medium' | 'high' | null; minScore: number | null; dmarcFail: boolean }
  /** Every approval mode set along the chain and on the inbox: a send is held when any holds it (empty: none). */
  outboundApproval: ('first_contact' | 'external' | 'all')[]
  /** How long held mail waits before it expires. */
  approvalExpiryHours: number
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
  /** The policies the tenant set for itself. */
  policies: Policies
  /** The policies its ancestors (or the operator) set on it; the tenant cannot change them. */
  parentPolicies: Policies
  /** The policies in force (on a single tenant, not in lists). */
  effectivePolicies?: EffectivePolicies | undefined
  /** Where its rows live on a Citus cluster: shown to the operator only, on a single tenant. */
  placement?: TenantPlacement | undefined
  metadata: Metadata
  createdAt: string
  updatedAt: string
}

/**
 * A tenant's place on a Citus cluster (`mailroom tenant dedicate` gives it shards and a node of its
 * own). Only the operator key sees it, on a single tenant.
 *
 * @example
 * const { placement } = await mailroom.tenants.get('tnt_...') // a client with the operator key
 * if (placement?.dedicated) console.log(`on ${placement.node}`)
 */
export interface TenantPlacement {
  /** The worker holding the tenant's rows, `host:port`. */
  node: string
  /** Its shard (its other tables' shards sit beside it). */
  shardId: string
  /** True when that shard holds this tenant alone. */
  dedicated: boolean
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
  limits?: TenantLimits | undefined
  /** Policies imposed on the new tenant (its `parentPolicies`). */
  policies?: Policies | undefined
  metadata?: Metadata | undefined
}

/**
 * Body of `mailroom.tenants.update()`. Status and limits can only be set by a parent.
 *
 * @example
 * await mailroom.tenants.update('tnt_...', { limits: { sendPerDay: 100 } })
 */
export interface UpdateTenantParams {
  name?: string | undefined
  status?: TenantStatus | undefined
  limits?: TenantLimits | undefined
  /** Set on itself: its own policies. Set by an ancestor: the policies imposed on it. */
  policies?: Policies | undefined
  metadata?: Metadata | undefined
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
  scope?: ApiKeyScope | undefined
  inboxId?: string | undefined
  name?: string | undefined
  /** RFC 3339 timestamp (or a Date) after which the key stops working. */
  expiresAt?: string | Date | undefined
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
  /** The inbox's own policies. */
  policies: Policies
  /** The policies in force for the inbox (on a single inbox, not in lists). */
  effectivePolicies?: EffectivePolicies | undefined
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
  name?: string | undefined
  displayName?: string | undefined
  metadata?: Metadata | undefined
  /** Also mint an inbox key (`mr_ik_...`), returned once as `inbox.apiKey`. */
  createKey?: boolean | undefined
  policies?: Policies | undefined
  /** A verified custom domain of the tenant (see `mailroom.domains`); omitted: the deployment's domain. */
  domain?: string | undefined
}

/**
 * Body of `mailroom.inboxes.update()`.
 *
 * @example
 * await mailroom.inboxes.update('inb_...', { displayName: null })
 */
export interface UpdateInboxParams {
  displayName?: string | null | undefined
  metadata?: Metadata | undefined
  /** Replaces the inbox's own policies (tenant keys only). */
  policies?: Policies | undefined
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
  | 'pending_approval'
  | 'rejected'
  | 'expired'
  | 'scheduled'
  | 'cancelled'

/**
 * `pending` until parsed; `failed` when the raw message could not be parsed (it is kept, see `raw()`).
 *
 * @example
 * if (msg.parseStatus === 'failed') console.log(msg.parseError)
 */
export type ParseStatus = 'pending' | 'parsed' | 'failed'

/**
 * What every message shape shares: ids, addresses, subject, attachments, size and status.
 *
 * @example
 * const show = (m: MessageFields) => `${m.from?.address ?? '?'}: ${m.subject ?? '(no subject)'}`
 */
export interface MessageFields {
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
  /** The risk verdict of received mail (null for sent mail, and for mail not yet parsed). */
  security: Security | null
  /** When it was marked read; null: unread. Sent mail is never unread. */
  seenAt: string | null
  /** The labels the inbox put on it (`handled`, `needs_reply` by convention, or your own). */
  labels: string[]
  receivedAt: string
}

/**
 * A message as lists show it: headers, attachments and a `preview` of the text (no bodies).
 *
 * @example
 * for await (const m of inbox.messages.list()) console.log(m.from?.address, m.subject, m.preview)
 */
export interface MessageSummary extends MessageFields {
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
export interface Message extends MessageFields {
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
  /** Whether any received message in it is unread. */
  unread: boolean
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
  from?: string | undefined
  /** A recipient address (exact). */
  to?: string | undefined
  /** Subject contains. */
  subject?: string | undefined
  /** Only messages received at or after this instant. */
  since?: string | Date | undefined
  /** Only messages received before this instant. */
  until?: string | Date | undefined
  hasAttachments?: boolean | undefined
  threadId?: string | undefined
  direction?: MessageDirection | undefined
  /** Also list mail from senders blocked with `blockMode: 'hide'` (see `mailroom.senderRules`). */
  includeHidden?: boolean | undefined
  /** `true`: only quarantined mail (tenant keys only: an agent never sees it). */
  quarantined?: boolean | undefined
  /** Only mail at this risk or below (`'low'`: only low-risk mail). */
  maxRisk?: Risk | undefined
  /** Only mail carrying this label. */
  label?: string | undefined
  /** `true`: only unread received mail; `false`: only mail read (or sent). */
  unread?: boolean | undefined
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
  from?: Matcher | undefined
  /** Recipient. A plain string is an exact (whole address) match. */
  to?: Matcher | undefined
  /** Subject. A plain string is a `contains` match. */
  subject?: Matcher | undefined
  hasAttachments?: boolean | undefined
  /** Only mail at this risk or below (quarantined mail never arrives for an agent). */
  maxRisk?: Risk | undefined
  /** Only mail carrying this label when the wait looks at it. */
  label?: string | undefined
  /** `true`: only mail still unread when the wait looks at it. */
  unread?: boolean | undefined
  /** Give up after this many milliseconds with a `MailroomTimeoutError` (default 60 000). */
  timeout?: number | undefined
  /** Cancels the wait with a `MailroomAbortError`. */
  signal?: AbortSignal | undefined
  /**
   * Start after this cursor (a previous result's `cursor`) instead of "now": nothing that arrived
   * in between is missed.
   */
  since?: string | undefined
}

/**
 * Where one recipient's copy of an outbound message is.
 *
 * @example
 * if (sent.deliveries.some((d) => d.status === 'bounced')) console.warn('bounced')
 */
export type DeliveryStatus = 'queued' | 'sending' | 'deferred' | 'sent' | 'delivered' | 'bounced' | 'suppressed' | 'held'

/**
 * The delivery of an outbound message to one recipient.
 *
 * @example
 * for (const d of sent.deliveries) console.log(d.recipient, d.status, d.lastError)
 */
export interface Delivery {
  recipient: string
  status: DeliveryStatus
  /** `internal`: an inbox on this platform; `external`: through the relay. null until routed. */
  route: 'internal' | 'external' | null
  attempts: number
  /** Why it was deferred, bounced, suppressed or held. */
  lastError: string | null
  nextAttemptAt: string | null
  updatedAt: string
}

/**
 * What `send`, `reply` and `forward` return: the outbound message as a summary (no bodies: get it
 * with `inbox.messages.get(sent.id)`), with one delivery per recipient.
 *
 * @example
 * const sent: SentMessage = await inbox.send({ to: 'alice@example.com', subject: 'Hi', text: 'Hello' })
 * console.log(sent.id, sent.status, sent.deliveries.map((d) => d.status))
 */
export interface SentMessage extends MessageSummary {
  /** One per recipient; empty while the message waits for approval. */
  deliveries: Delivery[]
  /** Set when an approval policy held the message (status `pending_approval`). */
  approval?: ApprovalInfo | null | undefined
}

/**
 * Why and until when a sent message waits for a person's approval.
 *
 * @example
 * if (sent.approval) console.log(sent.approval.reasons, sent.approval.expiresAt)
 */
export interface ApprovalInfo {
  status: ApprovalStatus
  /** The policies that hold it. */
  reasons: string[]
  expiresAt: string
}

/**
 * `pending` until a person decides; then `approved` (sent), `rejected` or `expired` (never sent).
 *
 * @example
 * const waiting: ApprovalStatus = 'pending'
 */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired'

/**
 * What `inbox.send()` (and `reply`, `forward`) returns when an approval policy held the message:
 * it is stored but NOT sent until a person approves it. Do not send it again.
 *
 * @example
 * const sent = await inbox.send({ to: 'new@example.com', subject: 'Hi', text: 'Hello' })
 * if (isPendingApproval(sent)) console.log('waiting for a person:', sent.approval.reasons)
 */
export type PendingApproval = SentMessage & { status: 'pending_approval'; approval: ApprovalInfo }

/**
 * A draft: what a send takes, all optional until it is sent (then checked like a send).
 *
 * @example
 * const draft = await inbox.drafts.create({ to: 'alice@example.com', subject: 'Proposal' })
 */
export interface DraftParams {
  to?: Recipient | Recipient[] | undefined
  cc?: Recipient | Recipient[] | undefined
  bcc?: Recipient | Recipient[] | undefined
  subject?: string | undefined
  text?: string | undefined
  html?: string | undefined
  attachments?: AttachmentInput[] | undefined
  /** Custom headers: `X-*` and `List-Unsubscribe*` only. */
  headers?: Record<string, string> | undefined
  replyTo?: Recipient | Recipient[] | undefined
  /** ISO time: when the draft is sent, it is scheduled for then. */
  sendAt?: string | undefined
}

/**
 * A saved draft (attachments by name and size).
 *
 * @example
 * for await (const d of inbox.drafts.list()) console.log(d.id, d.subject, d.to)
 */
export interface Draft {
  id: string
  inboxId: string
  to: Recipient[]
  cc: Recipient[]
  bcc: Recipient[]
  replyTo: Recipient[]
  subject: string | null
  text: string | null
  html: string | null
  headers: Record<string, string>
  attachments: { filename: string; contentType: string | null; size: number }[]
  sendAt: string | null
  createdAt: string
  updatedAt: string
}

/**
 * Options of `inbox.messages.waitForStatus()`.
 *
 * @example
 * await inbox.messages.waitForStatus(sent.id, { status: 'sent', timeout: 120_000 })
 */
export interface WaitForStatusOptions {
  /** The status (or statuses) to wait for. Default: any but `pending_approval`, `scheduled`, `queued`, `sending`. */
  status?: MessageStatus | MessageStatus[] | undefined
  /** Give up after this many milliseconds with a `MailroomTimeoutError` (default 60 000; `Infinity`: never). */
  timeout?: number | undefined
  /** First pause between reads, in ms (default 500, growing to 5 000). */
  interval?: number | undefined
  /** Cancels the wait with a `MailroomAbortError`. */
  signal?: AbortSignal | undefined
}

/**
 * One message waiting for (or decided by) a person, as `mailroom.approvals.list()` shows it.
 *
 * @example
 * for await (const a of mailroom.approvals.list()) console.log(a.messageId, a.subject, a.reasons)
 */
export interface Approval {
  messageId: string
  inboxId: string
  tenantId: string
  status: ApprovalStatus
  /** Why it was held: the policies that hold it. */
  reasons: string[]
  recipients: string[]
  /** The subject as it will be sent (after an edit, the edited one). */
  subject: string | null
  requestedAt: string
  expiresAt: string
  decidedAt: string | null
  /** The key that approved or rejected it (`system`: expired). */
  decidedBy: { kind: 'tenant' | 'operator' | 'system'; tenantId: string | null; keyId: string | null } | null
  /** Why it was rejected. */
  reason: string | null
  /** The approver changed subject or body before approving. */
  edited: boolean
}

/**
 * Filters of `mailroom.approvals.list()`.
 *
 * @example
 * for await (const a of mailroom.approvals.list({ inboxId: 'inb_...' })) console.log(a.subject)
 */
export interface ApprovalListParams extends ListParams {
  /** Only this inbox. */
  inboxId?: string | undefined
  /** Only this tenant (the caller or a descendant). */
  tenantId?: string | undefined
  /** Default `pending`: what still waits. */
  status?: ApprovalStatus | undefined
}

/**
 * Edits an approver may make before approving (the original is kept, the edit is recorded).
 *
 * @example
 * await mailroom.approvals.approve(inboxId, messageId, { subject: 'Corrected subject' })
 */
export interface ApproveParams {
  subject?: string | undefined
  text?: string | undefined
  html?: string | undefined
}

/**
 * A recipient: `'alice@example.com'`, `'Alice <alice@example.com>'` or `{ address, name }`.
 *
 * @example
 * const to: Recipient[] = ['bob@example.com', { address: 'alice@example.com', name: 'Alice' }]
 */
export type Recipient = string | { address: string; name?: string | null | undefined }

/**
 * A file to send. `content` is raw bytes or a base64 string.
 *
 * @example
 * const att: AttachmentInput = { filename: 'report.csv', contentType: 'text/csv', content: new TextEncoder().encode('a,b\n') }
 * const logo: AttachmentInput = { filename: 'logo.png', contentType: 'image/png', content: png, contentId: 'logo', inline: true }
 */
export interface AttachmentInput {
  filename: string
  /** Default `application/octet-stream`. */
  contentType?: string | undefined
  /** Bytes (Uint8Array, ArrayBuffer, Blob) or a string that is already base64. */
  content: Uint8Array | ArrayBuffer | Blob | string
  /** For an inline image referenced from the HTML as `cid:<contentId>`. */
  contentId?: string | undefined
  inline?: boolean | undefined
}

/**
 * What every composed message may carry (`send`, `reply`, `forward`, drafts).
 *
 * @example
 * const body: ComposeFields = { subject: 'Hi', text: 'Hello!', headers: { 'X-Campaign': 'q3' } }
 */
export interface ComposeFields {
  subject?: string | undefined
  text?: string | undefined
  html?: string | undefined
  attachments?: AttachmentInput[] | undefined
  /** Custom headers: `X-*` and `List-Unsubscribe*` only, e.g. `{ 'X-Campaign': 'q3' }`. */
  headers?: Record<string, string> | undefined
  replyTo?: Recipient | Recipient[] | undefined
  /** ISO time: hold the message until then (status `scheduled`, cancellable with `inbox.messages.cancel`). */
  sendAt?: string | undefined
}

/**
 * Body of `inbox.send()`. Recipients are addresses (`a@b.c`, `Name <a@b.c>` or `{ address, name }`);
 * at most 50 in all.
 *
 * @example
 * await inbox.send({ to: 'alice@example.com', subject: 'Hi', text: 'Hello!' })
 */
export interface SendParams extends ComposeFields {
  to: Recipient | Recipient[]
  cc?: Recipient | Recipient[] | undefined
  bcc?: Recipient | Recipient[] | undefined
}

/**
 * Body of `inbox.reply()`. The subject defaults to `Re: <original>`; In-Reply-To and References are
 * set by the server.
 *
 * @example
 * await inbox.reply(msg, { text: 'Thanks!', replyAll: true })
 */
export interface ReplyParams extends ComposeFields {
  /** Also reply to the other recipients (To and Cc) of the original. */
  replyAll?: boolean | undefined
  /** Extra recipients. */
  to?: Recipient | Recipient[] | undefined
  cc?: Recipient | Recipient[] | undefined
  bcc?: Recipient | Recipient[] | undefined
}

/**
 * Body of `inbox.forward()`: the original is quoted, with its attachments unless
 * `includeAttachments` is false.
 *
 * @example
 * await inbox.forward(msg, { to: 'boss@example.com', text: 'FYI' })
 */
export interface ForwardParams extends ComposeFields {
  to: Recipient | Recipient[]
  cc?: Recipient | Recipient[] | undefined
  bcc?: Recipient | Recipient[] | undefined
  /** Default true. */
  includeAttachments?: boolean | undefined
}

/**
 * Filters of `inbox.threads.list()`.
 *
 * @example
 * for await (const thread of inbox.threads.list({ limit: 50 })) console.log(thread.subject)
 */
export type ThreadListParams = ListParams

/**
 * Why an address is on the suppression list.
 *
 * @example
 * if (s.reason === 'complaint') console.warn(s.address, 'marked us as spam')
 */
export type SuppressionReason = 'hard_bounce' | 'complaint' | 'manual'

/**
 * An address mail is no longer sent to (its deliveries are recorded as `suppressed`).
 *
 * @example
 * for await (const s of mailroom.suppressions.list()) console.log(s.address, s.reason, s.detail)
 */
export interface Suppression {
  address: string
  reason: SuppressionReason
  detail: string | null
  createdAt: string
}

/**
 * Body of `mailroom.suppressions.create()`.
 *
 * @example
 * await mailroom.suppressions.create({ address: 'optout@example.com', detail: 'asked to stop' })
 */
export interface CreateSuppressionParams {
  address: string
  detail?: string | undefined
}

/**
 * An inbox's own sending and receiving limits; `null` or absent: none of its own.
 *
 * @example
 * const limits: InboxLimits = { sendPerMinute: 10, sendPerDay: 100 }
 */
export interface InboxLimits {
  sendPerMinute?: number | null | undefined
  sendPerDay?: number | null | undefined
  /** At most this many recipients a day this inbox was never in conversation with (429 `first_contact_limit`). */
  newRecipientsPerDay?: number | null | undefined
  receivePerMinute?: number | null | undefined
  retentionDays?: number | null | undefined
  /** Requests per second this inbox's keys may make (within its tenant's limit). */
  apiRequestsPerSecond?: number | null | undefined
  /** Requests this inbox's keys may make at once before `apiRequestsPerSecond` applies. */
  apiBurst?: number | null | undefined
}

/**
 * An inbox's own limits and the ones in force (the tightest of the inbox's and its tenant chain's).
 *
 * @example
 * const { limits, effective } = await inbox.getLimits()
 * console.log(limits.sendPerDay, effective.sendPerDay)
 */
export interface InboxLimitsState {
  inboxId: string
  /** The inbox's own limits. */
  limits: InboxLimits
  /** What applies: the tightest of the inbox's and its tenant chain's. */
  effective: InboxLimits
}

/**
 * A tenant's sending state: paused (automatically, on a bad bounce or complaint rate) and why,
 * its reputation window and the IP pool its external mail leaves from.
 *
 * @example
 * const state = await mailroom.tenants.sending('tnt_...')
 * if (state.paused) console.warn(state.pausedReason, state.bounceRate)
 */
export interface SendingState {
  tenantId: string
  paused: boolean
  pausedReason: string | null
  pausedAt: string | null
  /** `shared` unless a pool was assigned. */
  ipPool: string
  /** Hard bounces / external sends over the reputation window. */
  bounceRate: number
  complaintRate: number
  windowSends: number
}

/**
 * Body of `mailroom.tenants.updateSending()`.
 *
 * @example
 * await mailroom.tenants.updateSending('tnt_...', { ipPool: 'dedicated-1' })
 */
export interface UpdateSendingParams {
  /** A pool the operator configured (`MAILROOM_IP_POOLS`), or `shared`. */
  ipPool: string
}

// ---------------------------------------------------------------------------------------------
// Events

/**
 * What happened.
 *
 * @example
 * if (event.type === 'message.received') console.log(event.data)
 */
export type EventType =
  | 'message.received'
  | 'message.queued'
  | 'message.sending'
  | 'message.sent'
  | 'message.delivered'
  | 'message.deferred'
  | 'message.bounced'
  | 'message.suppressed'
  | 'message.held'
  | 'message.quarantined'
  | 'message.released'
  | 'message.approval_requested'
  | 'message.approved'
  | 'message.rejected'
  | 'message.expired'
  | 'sending.paused'
  | 'sending.resumed'
  | 'webhook.disabled'

/**
 * One event of the tenant's stream (`mailroom.events.stream()`). `id` increases per tenant: keep
 * the last one to resume from it.
 *
 * @example
 * for await (const event of mailroom.events.stream()) console.log(event.id, event.type, event.inboxId)
 */
export interface MailroomEvent {
  /** Increasing per tenant; pass as `after` to resume right after this event. */
  id: string
  type: EventType
  createdAt: string
  inboxId: string | null
  data: Record<string, unknown>
}

/**
 * Options of `mailroom.events.stream()`.
 *
 * @example
 * const controller = new AbortController()
 * for await (const e of mailroom.events.stream({ after: savedId, signal: controller.signal })) savedId = e.id
 */
export interface EventStreamParams {
  /** Resume after this event id; omitted: only events from now on. */
  after?: string | undefined
  /** Ends the stream (the loop simply stops; no error). */
  signal?: AbortSignal | undefined
  /**
   * Reconnections in a row that may fail before the stream throws (default `Infinity`). A
   * connection that delivers an event resets the count.
   */
  maxReconnects?: number | undefined
  /**
   * A connection that sends nothing (the server sends a keep-alive every 15 s) for this many
   * milliseconds is considered dead and replaced (default 45 000).
   */
  idleTimeout?: number | undefined
}

// ---------------------------------------------------------------------------------------------
// Administration: usage, audit log, sender rules

/**
 * How a usage report is broken down.
 *
 * @example
 * await mailroom.usage.get({ from: '2025-01-01', to: '2025-01-31', groupBy: 'day' })
 */
export type UsageGroupBy = 'tenant' | 'inbox' | 'day'

/**
 * Query of `mailroom.usage.get()` and `.csv()`: whole UTC days, both ends included (at most 366).
 * A `Date` is taken as its UTC day.
 *
 * @example
 * const params: UsageParams = { from: '2025-01-01', to: new Date(), groupBy: 'inbox' }
 */
export interface UsageParams {
  /** First UTC day (`YYYY-MM-DD` or a Date), inclusive. */
  from: string | Date
  /** Last UTC day (`YYYY-MM-DD` or a Date), inclusive. */
  to: string | Date
  /** Default `tenant`. */
  groupBy?: UsageGroupBy | undefined
}

/**
 * Usage counters of a period.
 *
 * @example
 * const { total }: { total: UsageCounters } = await mailroom.usage.get({ from: '2025-01-01', to: '2025-01-31' })
 */
export interface UsageCounters {
  messagesReceived: number
  messagesSent: number
  apiRequests: number
  /** Bytes of mail stored at the end of the period (its last day). */
  bytesStored: number
}

/**
 * One row of a usage report: a tenant, an inbox or a day, depending on `groupBy` (the other keys are null).
 *
 * @example
 * for (const row of report.data) console.log(row.tenantId, row.inboxId, row.day, row.messagesSent)
 */
export interface UsageRow extends UsageCounters {
  tenantId: string | null
  inboxId: string | null
  day: string | null
}

/**
 * Usage of the caller and its descendants over a period.
 *
 * @example
 * const report: UsageReport = await mailroom.usage.get({ from: '2025-01-01', to: '2025-01-31' })
 * console.log(report.total.messagesReceived)
 */
export interface UsageReport {
  from: string
  to: string
  groupBy: UsageGroupBy
  data: UsageRow[]
  /** The caller and all its descendants, rolled up. */
  total: UsageCounters
}

/**
 * Who did something recorded in the audit log.
 *
 * @example
 * if (entry.actor.kind === 'operator') console.log('done by the operator')
 */
export interface AuditActor {
  kind: 'tenant' | 'inbox' | 'operator' | 'system'
  tenantId: string | null
  keyId: string | null
}

/**
 * One administrative action: who, with which key, did what to what, when.
 *
 * @example
 * for await (const e of mailroom.auditLog.list()) console.log(e.createdAt, e.action, e.targetType, e.targetId)
 */
export interface AuditEntry {
  id: string
  tenantId: string
  actor: AuditActor
  /** e.g. `tenant.created`, `tenant.suspended`, `api_key.revoked`, `inbox.deleted`. */
  action: string
  targetType: string
  targetId: string | null
  details: Record<string, unknown>
  createdAt: string
}

/**
 * Filters of `mailroom.auditLog.list()`.
 *
 * @example
 * for await (const e of mailroom.auditLog.list({ tenantId: 'tnt_...' })) console.log(e.action)
 */
export interface AuditListParams extends ListParams {
  /** Only this tenant (the caller or a descendant). */
  tenantId?: string | undefined
}

/**
 * Whether a sender rule applies to mail received or mail sent.
 *
 * @example
 * const direction: SenderRuleDirection = 'inbound'
 */
export type SenderRuleDirection = 'inbound' | 'outbound'

/**
 * An allow or block rule on senders (inbound) or recipients (outbound). Where allow rules exist,
 * everything else is refused.
 *
 * @example
 * for await (const rule of mailroom.senderRules.list()) console.log(rule.direction, rule.action, rule.pattern)
 */
export interface SenderRule {
  id: string
  /** null: the whole tenant. */
  inboxId: string | null
  /** The tenant whose key made the rule: an ancestor's rule cannot be removed by the tenant it binds. */
  setByTenantId: string
  direction: SenderRuleDirection
  action: 'allow' | 'block'
  pattern: string
  /** Inbound blocks: refuse at SMTP (`reject`), or accept and keep hidden (`hide`). */
  blockMode: 'reject' | 'hide'
  createdAt: string
}

/**
 * Body of `mailroom.senderRules.create()`. `pattern` is an address (`a@b.com`) or a domain
 * (`b.com` or `@b.com`).
 *
 * @example
 * await mailroom.senderRules.create({ direction: 'inbound', action: 'block', pattern: 'spam.example', blockMode: 'hide' })
 */
export interface CreateSenderRuleParams {
  /** Only this inbox; omitted: the whole tenant. */
  inboxId?: string | undefined
  direction: SenderRuleDirection
  action: 'allow' | 'block'
  pattern: string
  /** Default `reject`. */
  blockMode?: 'reject' | 'hide' | undefined
}

// ---------------------------------------------------------------------------------------------
// Domains

/**
 * The state of one DNS record as last checked.
 *
 * @example
 * const missing = domain.records.filter((r) => r.required && r.state !== 'verified')
 */
export type DnsRecordState = 'unchecked' | 'verified' | 'missing' | 'mismatch' | 'error'

/**
 * A DNS record to publish for a custom domain.
 *
 * @example
 * for (const r of domain.records) console.log(r.type, r.name, r.value, r.priority ?? '')
 */
export interface DnsRecord {
  purpose: 'verification' | 'mx' | 'spf' | 'dkim' | 'dmarc'
  type: 'TXT' | 'MX'
  name: string
  value: string
  priority?: number | undefined
  /** Needed for the domain to become verified. */
  required: boolean
  state: DnsRecordState
  /** What was found instead, or the DNS error. */
  detail: string | null
}

/**
 * A custom domain of the tenant: inboxes can be created on it once it is verified.
 *
 * @example
 * const domain: Domain = await mailroom.domains.verify('dom_...')
 * if (domain.status === 'verified') await mailroom.createInbox({ name: 'support', domain: domain.name })
 */
export interface Domain {
  id: string
  name: string
  status: 'pending' | 'verified'
  records: DnsRecord[]
  /** Mail to unknown addresses of the domain goes here; null: refused (550). */
  catchAllInboxId: string | null
  verifiedAt: string | null
  lastCheckedAt: string | null
  createdAt: string
  updatedAt: string
}

/**
 * Body of `mailroom.domains.create()`.
 *
 * @example
 * await mailroom.domains.create({ name: 'mail.example.com' })
 */
export interface CreateDomainParams {
  name: string
}

/**
 * Body of `mailroom.domains.update()`.
 *
 * @example
 * await mailroom.domains.update('dom_...', { catchAllInboxId: inbox.id })
 */
export interface UpdateDomainParams {
  /** null: no catch-all (mail to unknown addresses is refused). */
  catchAllInboxId: string | null
}

// ---------------------------------------------------------------------------------------------
// Webhooks

/**
 * Whether an endpoint receives deliveries (one that keeps failing is disabled by the server).
 *
 * @example
 * if (hook.status === 'disabled') await mailroom.webhooks.update(hook.id, { status: 'enabled' })
 */
export type WebhookStatus = 'enabled' | 'disabled'

/**
 * `full`: message events carry the whole parsed message (the receiver needs no fetch); `summary`: less.
 *
 * @example
 * await mailroom.webhooks.create({ url, payload: 'summary' })
 */
export type WebhookPayloadMode = 'full' | 'summary'

/**
 * A webhook endpoint, signed with Standard Webhooks (check with `verifyWebhook`).
 *
 * @example
 * for await (const hook of mailroom.webhooks.list()) console.log(hook.url, hook.status, hook.eventTypes)
 */
export interface Webhook {
  id: string
  url: string
  /** Only this inbox's events; null: the whole tenant. */
  inboxId: string | null
  /** Event types sent to this endpoint; empty: all. */
  eventTypes: EventType[]
  payload: WebhookPayloadMode
  description: string | null
  status: WebhookStatus
  disabledReason: string | null
  disabledAt: string | null
  createdAt: string
  updatedAt: string
}

/**
 * A new endpoint with its signing secret (`whsec_...`, shown once: store it now).
 *
 * @example
 * const { id, secret } = await mailroom.webhooks.create({ url: 'https://example.com/hooks/mailroom' })
 */
export interface CreatedWebhook extends Webhook {
  secret: string
}

/**
 * Body of `mailroom.webhooks.create()`.
 *
 * @example
 * await mailroom.webhooks.create({ url: 'https://example.com/hook', eventTypes: ['message.received'], inboxId: inbox.id })
 */
export interface CreateWebhookParams {
  /** An http(s) URL without credentials. */
  url: string
  inboxId?: string | undefined
  /** Default: all. */
  eventTypes?: EventType[] | undefined
  /** Default `full`. */
  payload?: WebhookPayloadMode | undefined
  description?: string | undefined
}

/**
 * Body of `mailroom.webhooks.update()`; `status: 'enabled'` re-enables a disabled endpoint (its
 * pending deliveries resume).
 *
 * @example
 * await mailroom.webhooks.update('whk_...', { eventTypes: ['message.received', 'message.bounced'] })
 */
export interface UpdateWebhookParams {
  url?: string | undefined
  eventTypes?: EventType[] | undefined
  payload?: WebhookPayloadMode | undefined
  description?: string | null | undefined
  status?: WebhookStatus | undefined
}

/**
 * Where one webhook delivery is.
 *
 * @example
 * for await (const d of mailroom.webhooks.deliveries('whk_...', { status: 'failed' })) console.log(d.id)
 */
export type WebhookDeliveryStatus = 'pending' | 'sending' | 'succeeded' | 'failed'

/**
 * One attempt to deliver an event to an endpoint.
 *
 * @example
 * for (const a of delivery.attemptLog) console.log(a.at, a.statusCode ?? a.error, a.durationMs)
 */
export interface WebhookAttempt {
  attempt: number
  at: string
  durationMs: number
  statusCode: number | null
  error: string | null
}

/**
 * One event sent (or to be sent) to an endpoint, with its latest attempts.
 *
 * @example
 * const { data } = await mailroom.webhooks.deliveries('whk_...').page({ limit: 10 })
 * for (const d of data) console.log(d.eventType, d.status, d.lastStatusCode)
 */
export interface WebhookDelivery {
  /** Also the `webhook-id` header: stable across retries and replays. */
  id: string
  webhookId: string
  eventId: string
  eventType: EventType
  status: WebhookDeliveryStatus
  attempts: number
  nextAttemptAt: string | null
  lastStatusCode: number | null
  lastError: string | null
  succeededAt: string | null
  createdAt: string
  /** The latest attempts, newest first (at most 20). */
  attemptLog: WebhookAttempt[]
}

/**
 * Filters of `mailroom.webhooks.deliveries()`.
 *
 * @example
 * for await (const d of mailroom.webhooks.deliveries('whk_...', { status: 'failed' })) await mailroom.webhooks.replay(d.webhookId, d.id)
 */
export interface WebhookDeliveryListParams extends ListParams {
  status?: WebhookDeliveryStatus | undefined
}

/**
 * Labels with a meaning every client shares; any other short lower-case word is yours.
 *
 * @example
 * await inbox.messages.label(msg.id, 'needs_reply')
 */
export type SystemLabel = 'handled' | 'needs_reply'

/**
 * A change to a message: read state and labels (`addLabels` first, then `removeLabels`).
 *
 * @example
 * await inbox.messages.update(msg.id, { seen: true, addLabels: ['handled'], removeLabels: ['needs_reply'] })
 */
export interface UpdateMessageParams {
  /** true: mark read (keeps the first time it was read); false: mark unread. */
  seen?: boolean | undefined
  addLabels?: string[] | undefined
  removeLabels?: string[] | undefined
}

/**
 * Counts of an inbox: messages the agent sees, unread ones, and both per label.
 *
 * @example
 * const { unread, labels } = await inbox.counts()
 * console.log(unread, labels.find((l) => l.label === 'needs_reply')?.total ?? 0)
 */
export interface MailboxCounts {
  total: number
  unread: number
  labels: { label: string; total: number; unread: number }[]
}

/**
 * Search filters of `inbox.messages.search()`: `q` holds whole words (all must be there; case and
 * accents ignored; no substrings); the others narrow like list filters.
 *
 * @example
 * for await (const m of inbox.messages.search({ q: 'invoice overdue', from: 'billing@vendor.example' })) console.log(m.subject)
 */
export interface SearchParams extends ListParams {
  q: string
  from?: string | undefined
  to?: string | undefined
  since?: string | Date | undefined
  until?: string | Date | undefined
  label?: string | undefined
  unread?: boolean | undefined
}

/**
 * Someone the inbox received mail from or sent mail to, kept automatically; the name, notes
 * (stored encrypted), tags and blocked flag are yours to edit.
 *
 * @example
 * for await (const c of inbox.contacts.list({ q: 'acme' })) console.log(c.address, c.receivedCount)
 */
export interface Contact {
  id: string
  inboxId: string
  address: string
  name: string | null
  notes: string | null
  tags: string[]
  blocked: boolean
  firstContactAt: string
  lastContactAt: string
  receivedCount: number
  /**
   * Of `receivedCount`, the messages that put the inbox in conversation with the address: a
   * verified sender (From aligned with a passing SPF or DKIM, or DMARC pass), neither quarantined
   * nor hidden, or released by a person. With `sentCount`, what the approval policy
   * `first_contact` reads: a forged From does not make its address a known one.
   */
  verifiedReceivedCount: number
  sentCount: number
  createdAt: string
  updatedAt: string
}

/**
 * Filters of `inbox.contacts.list()`.
 *
 * @example
 * const vendors = await inbox.contacts.list({ tag: 'vendor' }).page()
 */
export interface ContactListParams extends ListParams {
  /** Address or name contains (case-insensitive). */
  q?: string | undefined
  tag?: string | undefined
  blocked?: boolean | undefined
}

/**
 * What `inbox.contacts.update()` changes (fields left out stay as they are; `tags` replaces the tags).
 *
 * @example
 * await inbox.contacts.update(contact.id, { name: 'Ada', tags: ['vip'], notes: 'Prefers short replies.' })
 */
export interface UpdateContactParams {
  name?: string | null | undefined
  notes?: string | null | undefined
  tags?: string[] | undefined
  blocked?: boolean | undefined
}
