// /v1/inboxes/{id}/messages and /threads: the mail of one inbox.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { isoTime, seg } from '../core/path.js'
import { MailroomTimeoutError } from '../core/errors.js'
import { sleep } from '../core/runtime.js'
import type { Delivery, ListParams, Message, MessageListParams, MessageStatus, MessageSummary, Page, SearchParams, SentMessage, Thread, ThreadWithMessages, UpdateMessageParams, WaitForStatusOptions } from '../types.js'

/**
 * The messages of one inbox. Reach it as `inbox.messages`.
 *
 * @example
 * for await (const msg of inbox.messages.list({ hasAttachments: true })) {
 *   for (const att of msg.attachments) await inbox.messages.attachment(msg.id, att.id)
 * }
 */
export class Messages {
  readonly #http: HttpClient
  readonly #base: string

  constructor(http: HttpClient, inboxId: string) {
    this.#http = http
    this.#base = `/v1/inboxes/${seg(inboxId, 'inbox id')}/messages`
  }

  /**
   * The inbox's messages as summaries (no bodies: `get(id)` has them), newest first, filtered
   * (filters combine with AND; `from` / `to` exact address, `subject` contains, case-insensitive).
   *
   * @example
   * for await (const msg of inbox.messages.list({ from: 'alice@example.com', since: new Date(Date.now() - 86_400_000) })) {
   *   console.log(msg.subject)
   * }
   */
  list(params: MessageListParams = {}, options?: RequestOptions): PageList<MessageSummary> {
    const { limit, since, until, ...filters } = params
    return new PageList(
      (page, opts) =>
        this.#http.json<Page<MessageSummary>>({
          method: 'GET',
          path: this.#base,
          query: { ...filters, since: isoTime(since), until: isoTime(until), ...page },
          options: opts,
        }),
      limit,
      options,
    )
  }

  /**
   * One message with its text, HTML and attachment list.
   *
   * @example
   * const msg = await inbox.messages.get('msg_...')
   */
  async get(messageId: string, options?: RequestOptions): Promise<Message> {
    return this.#http.json({ method: 'GET', path: `${this.#base}/${seg(messageId, 'message id')}`, options })
  }

  /**
   * The message exactly as received (RFC 822 bytes), e.g. to verify signatures or archive it.
   *
   * @example
   * const eml = await inbox.messages.raw(msg.id)
   * console.log(new TextDecoder().decode(eml).split('\r\n\r\n')[0]) // the headers
   */
  async raw(messageId: string, options?: RequestOptions): Promise<Uint8Array> {
    return this.#http.json<Uint8Array>({ method: 'GET', path: `${this.#base}/${seg(messageId, 'message id')}/raw`, options, read: 'bytes' })
  }

  /**
   * The bytes of one attachment.
   *
   * @example
   * const [first] = msg.attachments
   * if (first) console.log(first.filename, (await inbox.messages.attachment(msg.id, first.id)).length)
   */
  async attachment(messageId: string, attachmentId: string, options?: RequestOptions): Promise<Uint8Array> {
    const path = `${this.#base}/${seg(messageId, 'message id')}/attachments/${seg(attachmentId, 'attachment id')}`
    return this.#http.json<Uint8Array>({ method: 'GET', path, options, read: 'bytes' })
  }

  /**
   * Where a sent message is, per recipient: queued, deferred (and why), delivered, bounced ...
   * Empty for received mail.
   *
   * @example
   * const sent = await inbox.send({ to: ['a@example.com', 'b@example.com'], subject: 'Hi', text: 'Hello' })
   * for (const d of await inbox.messages.deliveries(sent.id)) console.log(d.recipient, d.status, d.lastError)
   */
  async deliveries(messageId: string, options?: RequestOptions): Promise<Delivery[]> {
    const res = await this.#http.json<{ data: Delivery[] }>({ method: 'GET', path: `${this.#base}/${seg(messageId, 'message id')}/deliveries`, options })
    return res.data
  }

  /**
   * Deletes a message (and its raw bytes and attachments).
   *
   * @example
   * await inbox.messages.delete(msg.id)
   */
  async delete(messageId: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `${this.#base}/${seg(messageId, 'message id')}`, options, read: 'none' })
  }

  /**
   * Releases a quarantined message to the inbox's agent (a person's decision: tenant keys only).
   * It then arrives for the agent as new mail, exactly once, waking its waits. Recorded in the audit log.
   *
   * @example
   * for await (const held of inbox.messages.list({ quarantined: true })) {
   *   if (held.security?.signals.every((s) => s.category === 'sender_spoofing')) await inbox.messages.release(held.id)
   * }
   */
  async release(messageId: string, options?: RequestOptions): Promise<Message> {
    return this.#http.json<Message>({ method: 'POST', path: `${this.#base}/${seg(messageId, 'message id')}/release`, body: {}, options })
  }

  /**
   * Cancels a scheduled send (`sendAt`) before it goes: status `cancelled`, nothing sent.
   *
   * @example
   * const later = await inbox.send({ to: 'a@example.com', text: 'Reminder', sendAt: new Date(Date.now() + 3_600_000).toISOString() })
   * await inbox.messages.cancel(later.id)
   */
  async cancel(messageId: string, options?: RequestOptions): Promise<SentMessage> {
    return this.#http.json<SentMessage>({ method: 'POST', path: `${this.#base}/${seg(messageId, 'message id')}/cancel`, body: {}, options })
  }

  /**
   * Waits until a message reaches one of `statuses` (default: any status but `pending_approval`,
   * `scheduled`, `queued` and `sending`, i.e. decided or delivered), reading it again every
   * `interval` ms (growing to 5 s); resolves with the message. `MailroomTimeoutError` after
   * `timeout` ms (default 60 000; `Infinity` waits on).
   *
   * @example
   * const sent = await inbox.send({ to: 'new@example.com', text: 'Hello' })
   * if (sent.status === 'pending_approval') {
   *   const decided = await inbox.messages.waitForStatus(sent.id, { status: ['queued', 'sent', 'delivered', 'rejected', 'expired'], timeout: Infinity })
   *   console.log(decided.status)
   * }
   */
  async waitForStatus(messageId: string, options: WaitForStatusOptions = {}): Promise<Message> {
    const wanted = options.status === undefined ? null : new Set<MessageStatus>(Array.isArray(options.status) ? options.status : [options.status])
    const waiting = new Set<MessageStatus>(['pending_approval', 'scheduled', 'queued', 'sending'])
    const timeout = options.timeout ?? 60_000
    const deadline = Date.now() + timeout
    let interval = Math.max(50, options.interval ?? 500)
    for (;;) {
      const m = await this.get(messageId, { signal: options.signal })
      if (wanted ? wanted.has(m.status) : !waiting.has(m.status)) return m
      const left = deadline - Date.now()
      if (left <= 0) throw new MailroomTimeoutError(`waitForStatus: message ${messageId} is still ${m.status} after ${timeout} ms`)
      await sleep(Math.min(interval, left), options.signal)
      interval = Math.min(interval * 1.5, 5_000)
    }
  }

  /**
   * Changes a message's read state and labels in one call; returns the message as it is now.
   *
   * @example
   * await inbox.messages.update(msg.id, { seen: true, addLabels: ['handled'], removeLabels: ['needs_reply'] })
   */
  async update(messageId: string, params: UpdateMessageParams, options?: RequestOptions): Promise<Message> {
    return this.#http.json<Message>({ method: 'PATCH', path: `${this.#base}/${seg(messageId, 'message id')}`, body: params, options })
  }

  /**
   * Marks a message read (the first time it was read is kept).
   *
   * @example
   * const msg = await inbox.waitForMessage({ unread: true })
   * await inbox.messages.markRead(msg.id)
   */
  async markRead(messageId: string, options?: RequestOptions): Promise<Message> {
    return this.update(messageId, { seen: true }, options)
  }

  /**
   * Marks a message unread again.
   *
   * @example
   * await inbox.messages.markUnread(msg.id)
   */
  async markUnread(messageId: string, options?: RequestOptions): Promise<Message> {
    return this.update(messageId, { seen: false }, options)
  }

  /**
   * Puts labels on a message (short lower-case words; `handled` and `needs_reply` by convention).
   *
   * @example
   * await inbox.messages.label(msg.id, 'needs_reply')
   */
  async label(messageId: string, labels: string | string[], options?: RequestOptions): Promise<Message> {
    return this.update(messageId, { addLabels: Array.isArray(labels) ? labels : [labels] }, options)
  }

  /**
   * Takes labels off a message.
   *
   * @example
   * await inbox.messages.unlabel(msg.id, 'needs_reply')
   */
  async unlabel(messageId: string, labels: string | string[], options?: RequestOptions): Promise<Message> {
    return this.update(messageId, { removeLabels: Array.isArray(labels) ? labels : [labels] }, options)
  }

  /**
   * Searches the inbox by whole words (every word must be there; case and accents do not matter;
   * no substrings: `invoi` does not find `invoice`), newest first. Mail stays encrypted at rest:
   * the server keeps keyed hashes of words, not the words.
   *
   * @example
   * for await (const m of inbox.messages.search({ q: 'invoice overdue', label: 'needs_reply' })) console.log(m.subject)
   */
  search(params: SearchParams, options?: RequestOptions): PageList<MessageSummary> {
    const { limit, since, until, ...filters } = params
    return new PageList(
      (page, opts) =>
        this.#http.json<Page<MessageSummary>>({
          method: 'GET',
          path: this.#base.replace(/\/messages$/, '/search'),
          query: { ...filters, since: isoTime(since), until: isoTime(until), ...page },
          options: opts,
        }),
      limit,
      options,
    )
  }
}

/**
 * The conversations of one inbox. Reach it as `inbox.threads`.
 *
 * @example
 * for await (const thread of inbox.threads.list()) console.log(thread.id, thread.subject)
 */
export class Threads {
  readonly #http: HttpClient
  readonly #base: string

  constructor(http: HttpClient, inboxId: string) {
    this.#http = http
    this.#base = `/v1/inboxes/${seg(inboxId, 'inbox id')}/threads`
  }

  /**
   * The inbox's threads, most recent first.
   *
   * @example
   * const { data } = await inbox.threads.list().page({ limit: 10 })
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<Thread> {
    return new PageList(
      (page, opts) => this.#http.json<Page<Thread>>({ method: 'GET', path: this.#base, query: { ...page }, options: opts }),
      params.limit,
      options,
    )
  }

  /**
   * One thread with its messages (summaries).
   *
   * @example
   * const thread = await inbox.threads.get(msg.threadId!)
   */
  async get(threadId: string, options?: RequestOptions): Promise<ThreadWithMessages> {
    return this.#http.json({ method: 'GET', path: `${this.#base}/${seg(threadId, 'thread id')}`, options })
  }
}
