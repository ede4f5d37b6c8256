// The Inbox handle: one agent's mailbox, with its mail, the long-poll wait and sending.
import { MailroomAbortError, MailroomTimeoutError } from './core/errors.js'
import type { HttpClient, Query, RequestOptions } from './core/http.js'
import { seg } from './core/path.js'
import { toBase64 } from './core/runtime.js'
import { Messages, Threads } from './resources/messages.js'
import { Drafts } from './resources/drafts.js'
import { Contacts } from './resources/contacts.js'
import type { MailboxCounts, AttachmentInput, ForwardParams, InboxData, InboxLimits, InboxLimitsState, MatchMode, Matcher, Message, Metadata, ReceivedMessage, ReplyParams, SendParams, SentMessage, PendingApproval, UpdateInboxParams, WaitForMessageOptions, Policies, EffectivePolicies } from './types.js'

/** The longest hold the server grants one long poll, in seconds. */
const MAX_HOLD_S = 30
/** How much longer than the hold a long poll may take before the SDK gives up on the request. */
const HOLD_GRACE_MS = 10_000
const DEFAULT_WAIT_MS = 60_000
/** setTimeout's ceiling; a longer wait is treated as "no deadline". */
const MAX_TIMER_MS = 2 ** 31 - 1

const isRegExp = (v: unknown): v is RegExp => Object.prototype.toString.call(v) === '[object RegExp]'

/**
 * A RegExp as the server's `regex` mode takes it: its source, with the `i` flag written inline as
 * `(?i)`. Flags that change what matches (`m`, `s`) cannot be expressed and are refused; flags that
 * do not (`g`, `y`, `d`, `u`, `v`) are dropped.
 */
export function regexToPattern(re: RegExp): string {
  const unsupported = [...re.flags].filter((f) => f === 'm' || f === 's')
  if (unsupported.length) {
    throw new TypeError(`waitForMessage: the ${unsupported.join(', ')} flag of ${String(re)} is not supported (only i is)`)
  }
  return re.flags.includes('i') ? `(?i)${re.source}` : re.source
}

/** One filter as query parameters: `<field>=<value>&<field>Match=<mode>`. */
function matcherQuery(field: 'from' | 'to' | 'subject', matcher: Matcher | undefined, plain: MatchMode): Query {
  if (matcher === undefined || matcher === null) return {}
  let value: string
  let mode: MatchMode
  if (typeof matcher === 'string') [value, mode] = [matcher, plain]
  else if (isRegExp(matcher)) [value, mode] = [regexToPattern(matcher), 'regex']
  else if ('exact' in matcher) [value, mode] = [matcher.exact, 'exact']
  else if ('contains' in matcher) [value, mode] = [matcher.contains, 'contains']
  else if ('regex' in matcher) [value, mode] = [matcher.regex, 'regex']
  else throw new TypeError(`waitForMessage: ${field} must be a string, a RegExp, { exact }, { contains } or { regex }`)
  return { [field]: value, [`${field}Match`]: mode }
}

const asList = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v])

async function encodeAttachment(a: AttachmentInput) {
  let content: string
  if (typeof a.content === 'string') content = a.content
  else if (a.content instanceof Uint8Array) content = toBase64(a.content)
  else if (a.content instanceof ArrayBuffer) content = toBase64(new Uint8Array(a.content))
  else content = toBase64(new Uint8Array(await a.content.arrayBuffer()))
  const { contentId, inline } = a
  return { filename: a.filename, contentType: a.contentType ?? 'application/octet-stream', content, contentId, inline }
}

/**
 * Whether an approval policy held a sent message for a person (status `pending_approval`): it is
 * stored, and sent only once approved. Do not send it again.
 *
 * @example
 * const sent = await inbox.send({ to: 'new@example.com', subject: 'Hi', text: 'Hello' })
 * if (isPendingApproval(sent)) console.log('awaiting approval until', sent.approval.expiresAt)
 */
export function isPendingApproval(sent: SentMessage): sent is PendingApproval {
  return sent.status === 'pending_approval' && sent.approval != null
}

/** A send/reply/forward body as the API takes it: recipient lists as arrays, attachments as base64. */
export async function wireBody<P extends { to?: unknown; cc?: unknown; bcc?: unknown; replyTo?: unknown; attachments?: AttachmentInput[] }>(params: P) {
  const { to, cc, bcc, replyTo, attachments } = params
  return {
    ...params,
    to: asList(to),
    cc: asList(cc),
    bcc: asList(bcc),
    replyTo: asList(replyTo),
    attachments: attachments ? await Promise.all(attachments.map(encodeAttachment)) : undefined,
  }
}

interface WaitAnswer {
  message: Message
  cursor: string
}

/**
 * One agent's mailbox. Get one from `mailroom.createInbox()`, `mailroom.inboxes.get(id)`, or, with an
 * inbox key, `await mailroom.inbox()`. Its fields are a snapshot taken when the handle was made.
 *
 * @example
 * const inbox = await mailroom.createInbox({ name: 'support' })
 * console.log(inbox.address) // support@<your domain>
 * const msg = await inbox.waitForMessage({ subject: /order #\d+/i })
 * await inbox.reply(msg, { text: 'On it!' })
 */
export class Inbox implements InboxData {
  readonly id: string
  readonly tenantId: string
  /** The email address, e.g. `support@agents.example.com`. */
  readonly address: string
  readonly displayName: string | null
  readonly metadata: Metadata
  /** The inbox's own policies. */
  readonly policies: Policies
  /** The policies in force (present when the inbox was fetched on its own). */
  readonly effectivePolicies?: EffectivePolicies | undefined
  readonly createdAt: string
  readonly updatedAt: string
  /** The inbox key minted by `createInbox({ createKey: true })`; shown once, absent otherwise. */
  readonly apiKey?: string | undefined
  /** The inbox's messages: list, get, raw, attachment, delete. */
  readonly messages: Messages
  /** The inbox's conversations. */
  readonly threads: Threads
  /** Drafts: saved, updated, sent when ready. */
  readonly drafts: Drafts
  /** Everyone the inbox received mail from or sent mail to. */
  readonly contacts: Contacts
  readonly #http: HttpClient

  /** @internal Handles come from the client (`createInbox`, `inboxes.get`, `inbox()`). */
  constructor(http: HttpClient, data: InboxData & { apiKey?: string }) {
    this.#http = http
    this.id = data.id
    this.tenantId = data.tenantId
    this.address = data.address
    this.displayName = data.displayName
    this.metadata = data.metadata
    this.policies = data.policies
    if (data.effectivePolicies !== undefined) this.effectivePolicies = data.effectivePolicies
    this.createdAt = data.createdAt
    this.updatedAt = data.updatedAt
    if (data.apiKey !== undefined) this.apiKey = data.apiKey
    this.messages = new Messages(http, data.id)
    this.threads = new Threads(http, data.id)
    this.drafts = new Drafts(http, data.id)
    this.contacts = new Contacts(http, data.id)
  }

  get #base(): string {
    return `/v1/inboxes/${seg(this.id, 'inbox id')}`
  }

  /**
   * Waits for the next message that matches, by long-polling the server and passing its cursor on,
   * so a message that arrives between two polls is never missed and an old one is never returned.
   * By default only mail that arrives after the call starts counts; pass `since` (a previous
   * result's `cursor`) to continue from there.
   *
   * Filters (the server compares case-insensitively): a plain string is an exact match on the
   * whole address for `from` / `to` and a `contains` match for `subject`; a RegExp is a `regex`
   * match run on RE2 (only its `i` flag is kept; `m` / `s` are refused); `{ exact }`,
   * `{ contains }`, `{ regex }` choose the mode explicitly. `to` matches any recipient.
   *
   * Rejects with `MailroomTimeoutError` after `timeout` ms (default 60 s; `Infinity` waits for ever),
   * whose `cursor` is where the wait got to (pass it as the next `since`), and with
   * `MailroomAbortError` when `signal` aborts.
   *
   * @example
   * const msg = await inbox.waitForMessage({ from: 'alice@example.com', subject: 'invoice', timeout: 30_000 })
   * const code = await inbox.waitForMessage({ from: { contains: '@github.com' }, subject: /verification code/i })
   *
   * // Handle every message, one after another, without missing any:
   * let since: string | undefined
   * for (;;) {
   *   const next = await inbox.waitForMessage({ since, timeout: Infinity })
   *   since = next.cursor
   *   await inbox.reply(next, { text: 'Got it' })
   * }
   */
  async waitForMessage(options: WaitForMessageOptions = {}): Promise<ReceivedMessage> {
    const filters: Query = {
      ...matcherQuery('from', options.from, 'exact'),
      ...matcherQuery('to', options.to, 'exact'),
      ...matcherQuery('subject', options.subject, 'contains'),
      hasAttachments: options.hasAttachments,
      maxRisk: options.maxRisk,
      label: options.label,
      unread: options.unread,
    }
    const timeout = options.timeout ?? DEFAULT_WAIT_MS
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      throw new TypeError(`waitForMessage: timeout must be a number of milliseconds (or Infinity), got ${String(timeout)}`)
    }
    const bounded = Number.isFinite(timeout) && timeout <= MAX_TIMER_MS
    const deadline = bounded ? Date.now() + timeout : Infinity
    const userSignal = options.signal
    // Aborted at our deadline or when the caller aborts; cancels the poll in flight.
    const controller = new AbortController()
    let timedOut = false
    const timer = bounded
      ? setTimeout(() => {
          timedOut = true
          controller.abort()
        }, Math.max(0, timeout))
      : undefined
    const onAbort = () => controller.abort(userSignal?.reason)
    if (userSignal?.aborted) onAbort()
    else userSignal?.addEventListener('abort', onAbort, { once: true })
    let cursor = options.since
    // Carries the cursor the wait got to, so the next wait can go on from there without a gap.
    const timeoutError = (cause?: unknown) =>
      new MailroomTimeoutError(`no matching message within ${timeout} ms`, { cursor, ...(cause === undefined ? {} : { cause }) })
    try {
      for (;;) {
        const remaining = deadline - Date.now()
        if (timedOut || remaining <= 0) throw timeoutError()
        const hold = Math.min(MAX_HOLD_S, Math.max(1, Math.ceil(remaining / 1000)))
        let res
        try {
          res = await this.#http.request<WaitAnswer | undefined>({
            method: 'GET',
            path: `${this.#base}/messages/wait`,
            query: { cursor, timeout: hold, ...filters },
            options: { signal: controller.signal },
            timeout: hold * 1000 + HOLD_GRACE_MS,
          })
        } catch (err) {
          if (err instanceof MailroomAbortError && timedOut && !userSignal?.aborted) throw timeoutError(err)
          throw err
        }
        if (res.status !== 204 && res.data?.message) {
          return { ...res.data.message, cursor: res.data.cursor ?? res.headers.get('mailroom-cursor') ?? cursor ?? '' }
        }
        // The server's own hold ran out: continue from the cursor it handed back.
        cursor = res.headers.get('mailroom-cursor') ?? res.data?.cursor ?? cursor
      }
    } finally {
      clearTimeout(timer)
      userSignal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * A cursor for "now", taken by the server. Take it before you trigger an email (a sign-up, a
   * password reset), then pass it as `since` to `waitForMessage`: the message cannot slip in
   * between the trigger and the wait.
   *
   * @example
   * const since = await inbox.cursor()
   * await fetch('https://app.example/signup', { method: 'POST', body: JSON.stringify({ email: inbox.address }) })
   * const msg = await inbox.waitForMessage({ since, subject: /verification code/i })
   */
  async cursor(options: RequestOptions = {}): Promise<string> {
    const res = await this.#http.request<WaitAnswer | undefined>({
      method: 'GET',
      path: `${this.#base}/messages/wait`,
      query: { timeout: 0 },
      options,
    })
    const cursor = res.headers.get('mailroom-cursor') ?? res.data?.cursor
    if (!cursor) throw new TypeError('cursor: the server answered without a cursor')
    return cursor
  }

  /**
   * Sends an email from this inbox. Attachments are bytes (or base64 strings); the SDK encodes them.
   * The answer says what happened in `status`: `queued` (on its way), `scheduled` (with `sendAt`),
   * or `pending_approval`: an approval policy holds it for a person (a `PendingApproval`, see
   * `isPendingApproval`). Held mail is stored and sent once approved: do not send it again; wait for
   * the decision with `inbox.messages.waitForStatus(sent.id)`.
   *
   * @example
   * await inbox.send({
   *   to: ['alice@example.com'],
   *   subject: 'Your report',
   *   text: 'Attached.',
   *   html: '<p>Attached.</p>',
   *   attachments: [{ filename: 'report.csv', contentType: 'text/csv', content: new TextEncoder().encode('a,b\n1,2\n') }],
   * })
   */
  async send(params: SendParams, options?: RequestOptions): Promise<SentMessage | PendingApproval> {
    return this.#http.json({ method: 'POST', path: `${this.#base}/messages`, body: await wireBody(params), options })
  }

  /**
   * Replies to a message of this inbox, in its thread (In-Reply-To / References are set by the server).
   *
   * @example
   * const msg = await inbox.waitForMessage({ subject: 'question' })
   * await inbox.reply(msg, { text: 'Here is the answer.', replyAll: true })
   */
  async reply(message: { id: string } | string, params: ReplyParams, options?: RequestOptions): Promise<SentMessage | PendingApproval> {
    const id = typeof message === 'string' ? message : message.id
    const body = await wireBody(params)
    return this.#http.json({ method: 'POST', path: `${this.#base}/messages/${seg(id, 'message id')}/reply`, body, options })
  }

  /**
   * Forwards a message of this inbox to other recipients, with an optional note.
   *
   * @example
   * await inbox.forward(msg, { to: 'human@example.com', text: 'Can you take this one?' })
   */
  async forward(message: { id: string } | string, params: ForwardParams, options?: RequestOptions): Promise<SentMessage | PendingApproval> {
    const id = typeof message === 'string' ? message : message.id
    const body = await wireBody(params)
    return this.#http.json({ method: 'POST', path: `${this.#base}/messages/${seg(id, 'message id')}/forward`, body, options })
  }

  /**
   * How many messages the inbox holds and how many are unread, in all and per label (kept by the
   * server as mail arrives and changes: no scan).
   *
   * @example
   * const { unread, labels } = await inbox.counts()
   */
  async counts(options?: RequestOptions): Promise<MailboxCounts> {
    return this.#http.json({ method: 'GET', path: `${this.#base}/counts`, options })
  }

  /**
   * This inbox's own limits and the ones in force (the tightest of its own and its tenant chain's).
   *
   * @example
   * const { limits, effective } = await inbox.getLimits()
   * console.log(`may send ${effective.sendPerDay ?? 'unlimited'} a day`)
   */
  async getLimits(options?: RequestOptions): Promise<InboxLimitsState> {
    return this.#http.json({ method: 'GET', path: `${this.#base}/limits`, options })
  }

  /**
   * Replaces this inbox's own limits (tenant key): a limit left out or null is removed. None may
   * be above its tenant's (400).
   *
   * @example
   * await inbox.setLimits({ sendPerMinute: 5, sendPerDay: 100 })
   */
  async setLimits(limits: InboxLimits, options?: RequestOptions): Promise<InboxLimitsState> {
    return this.#http.json({ method: 'PUT', path: `${this.#base}/limits`, body: limits, options })
  }

  /**
   * Changes the display name or metadata; returns a fresh handle (this one keeps its snapshot).
   *
   * @example
   * const updated = await inbox.update({ displayName: 'Billing bot' })
   */
  async update(params: UpdateInboxParams, options?: RequestOptions): Promise<Inbox> {
    const data = await this.#http.json<InboxData>({ method: 'PATCH', path: this.#base, body: params, options })
    return new Inbox(this.#http, data)
  }

  /**
   * Deletes the inbox with all its mail and keys (tenant key only).
   *
   * @example
   * await inbox.delete()
   */
  async delete(options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: this.#base, options, read: 'none' })
  }

  /**
   * The inbox's data as the API returned it (what `JSON.stringify(inbox)` prints).
   *
   * @example
   * console.log(JSON.stringify(inbox)) // {"id":"inb_...","address":"support@...",...}
   */
  toJSON(): InboxData & { apiKey?: string } {
    const { id, tenantId, address, displayName, metadata, policies, effectivePolicies, createdAt, updatedAt, apiKey } = this
    return {
      id,
      tenantId,
      address,
      displayName,
      metadata,
      policies,
      ...(effectivePolicies !== undefined ? { effectivePolicies } : {}),
      createdAt,
      updatedAt,
      ...(apiKey !== undefined ? { apiKey } : {}),
    }
  }
}
