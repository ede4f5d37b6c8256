// /v1/inboxes/{id}/drafts: mail an inbox is writing, sent when ready.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import { wireBody } from '../inbox.js'
import type { Draft, DraftParams, ListParams, Page, PendingApproval, SentMessage } from '../types.js'

/**
 * The drafts of one inbox. Reach it as `inbox.drafts`. Sending a draft is a send (limits, approval
 * policies, its `sendAt`) and removes it, once.
 *
 * @example
 * const draft = await inbox.drafts.create({ to: 'alice@example.com', subject: 'Proposal', text: 'First go' })
 * await inbox.drafts.update(draft.id, { text: 'Better' })
 * const sent = await inbox.drafts.send(draft.id)
 */
export class Drafts {
  readonly #http: HttpClient
  readonly #base: string

  constructor(http: HttpClient, inboxId: string) {
    this.#http = http
    this.#base = `/v1/inboxes/${seg(inboxId, 'inbox id')}/drafts`
  }

  /**
   * Saves a draft; nothing is sent.
   *
   * @example
   * const draft = await inbox.drafts.create({ subject: 'Ideas' })
   */
  async create(params: DraftParams = {}, options?: RequestOptions): Promise<Draft> {
    return this.#http.json({ method: 'POST', path: this.#base, body: await wireBody(params), options })
  }

  /**
   * The inbox's drafts, newest first.
   *
   * @example
   * for await (const d of inbox.drafts.list()) console.log(d.subject)
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<Draft> {
    return new PageList((page, opts) => this.#http.json<Page<Draft>>({ method: 'GET', path: this.#base, query: { ...page }, options: opts }), params.limit, options)
  }

  /**
   * One draft.
   *
   * @example
   * const d = await inbox.drafts.get('drf_...')
   */
  async get(draftId: string, options?: RequestOptions): Promise<Draft> {
    return this.#http.json({ method: 'GET', path: `${this.#base}/${seg(draftId, 'draft id')}`, options })
  }

  /**
   * Changes a draft: the fields given replace the stored ones.
   *
   * @example
   * await inbox.drafts.update(d.id, { text: 'Second version' })
   */
  async update(draftId: string, params: DraftParams, options?: RequestOptions): Promise<Draft> {
    const body = Object.fromEntries(Object.entries(await wireBody(params)).filter(([, v]) => v !== undefined))
    return this.#http.json({ method: 'PATCH', path: `${this.#base}/${seg(draftId, 'draft id')}`, body, options })
  }

  /**
   * Deletes a draft.
   *
   * @example
   * await inbox.drafts.delete(d.id)
   */
  async delete(draftId: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `${this.#base}/${seg(draftId, 'draft id')}`, options, read: 'none' })
  }

  /**
   * Sends a draft (like `inbox.send` with its content) and removes it. Under an approval policy the
   * answer is a `PendingApproval`: held for a person, do not send it again.
   *
   * @example
   * const sent = await inbox.drafts.send(d.id)
   * console.log(sent.status)
   */
  async send(draftId: string, options?: RequestOptions): Promise<SentMessage | PendingApproval> {
    return this.#http.json({ method: 'POST', path: `${this.#base}/${seg(draftId, 'draft id')}/send`, body: {}, options })
  }
}
