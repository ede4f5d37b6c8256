// /v1/inboxes: the tenant's agent mailboxes, returned as Inbox handles.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import { Inbox } from '../inbox.js'
import type { CreateInboxParams, InboxData, InboxLimits, InboxLimitsState, ListParams, Page, UpdateInboxParams } from '../types.js'

/**
 * The tenant's inboxes. Reach it as `mailroom.inboxes`; every method returns `Inbox` handles.
 *
 * @example
 * const inbox = await mailroom.inboxes.get('inb_...')
 * await inbox.send({ to: 'alice@example.com', subject: 'Hi', text: 'Hello' })
 */
export class Inboxes {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * Creates an inbox (tenant key). With `createKey: true` the handle's `apiKey` holds a new inbox key.
   *
   * @example
   * const inbox = await mailroom.inboxes.create({ name: 'support', displayName: 'Support', createKey: true })
   * console.log(inbox.address, inbox.apiKey)
   */
  async create(params: CreateInboxParams = {}, options?: RequestOptions): Promise<Inbox> {
    const data = await this.#http.json<InboxData & { apiKey?: string }>({ method: 'POST', path: '/v1/inboxes', body: params, options })
    return new Inbox(this.#http, data)
  }

  /**
   * The tenant's inboxes, newest first (an inbox key sees only its own).
   *
   * @example
   * for await (const inbox of mailroom.inboxes.list()) console.log(inbox.address)
   * const { data, nextCursor } = await mailroom.inboxes.list().page({ limit: 10 })
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<Inbox> {
    return new PageList(
      async (page, opts) => {
        const res = await this.#http.json<Page<InboxData>>({ method: 'GET', path: '/v1/inboxes', query: { ...page }, options: opts })
        return { data: res.data.map((d) => new Inbox(this.#http, d)), nextCursor: res.nextCursor }
      },
      params.limit,
      options,
    )
  }

  /**
   * One inbox, as a handle.
   *
   * @example
   * const inbox = await mailroom.inboxes.get('inb_...')
   */
  async get(id: string, options?: RequestOptions): Promise<Inbox> {
    const data = await this.#http.json<InboxData>({ method: 'GET', path: `/v1/inboxes/${seg(id, 'inbox id')}`, options })
    return new Inbox(this.#http, data)
  }

  /**
   * Changes an inbox's display name or metadata.
   *
   * @example
   * const inbox = await mailroom.inboxes.update('inb_...', { metadata: { owner: 'team-a' } })
   */
  async update(id: string, params: UpdateInboxParams, options?: RequestOptions): Promise<Inbox> {
    const data = await this.#http.json<InboxData>({ method: 'PATCH', path: `/v1/inboxes/${seg(id, 'inbox id')}`, body: params, options })
    return new Inbox(this.#http, data)
  }

  /**
   * Deletes an inbox with all its mail and keys.
   *
   * @example
   * await mailroom.inboxes.delete('inb_...')
   */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `/v1/inboxes/${seg(id, 'inbox id')}`, options, read: 'none' })
  }

  /**
   * An inbox's own limits and the ones in force (capped by its tenant chain). Same as `inbox.getLimits()`.
   *
   * @example
   * const { limits, effective } = await mailroom.inboxes.getLimits('inb_...')
   */
  async getLimits(id: string, options?: RequestOptions): Promise<InboxLimitsState> {
    return this.#http.json({ method: 'GET', path: `/v1/inboxes/${seg(id, 'inbox id')}/limits`, options })
  }

  /**
   * Replaces an inbox's own limits (tenant key): a limit left out or null is removed. None may be
   * above its tenant's (400). Same as `inbox.setLimits()`.
   *
   * @example
   * await mailroom.inboxes.setLimits('inb_...', { sendPerMinute: 10, sendPerDay: 200 })
   */
  async setLimits(id: string, limits: InboxLimits, options?: RequestOptions): Promise<InboxLimitsState> {
    return this.#http.json({ method: 'PUT', path: `/v1/inboxes/${seg(id, 'inbox id')}/limits`, body: limits, options })
  }
}
