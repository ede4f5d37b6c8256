// Human approval of what agents send (tenant keys only): the list of what waits, approve, reject.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import type { Approval, ApprovalListParams, ApproveParams, Page, SentMessage } from '../types.js'

/**
 * Mail agents sent under an approval policy, waiting for a person. Tenant keys only (an inbox key
 * gets 403): an agent cannot approve its own mail. An ancestor decides on a descendant's mail with
 * a client made with `tenantId` (the `Mailroom-Tenant` header).
 *
 * @example
 * for await (const a of mailroom.approvals.list()) {
 *   if (a.recipients.every((r) => r.endsWith('@customer.example'))) await mailroom.approvals.approve(a.inboxId, a.messageId)
 *   else await mailroom.approvals.reject(a.inboxId, a.messageId, 'not our customer')
 * }
 */
export class Approvals {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * What waits (or, with `status`, what was decided) across the caller's inboxes and its
   * descendants', oldest first.
   *
   * @example
   * const { data } = await mailroom.approvals.list({ inboxId: 'inb_...' }).page({ limit: 10 })
   */
  list(params: ApprovalListParams = {}, options?: RequestOptions): PageList<Approval> {
    const { limit, ...filters } = params
    return new PageList(
      (page, opts) => this.#http.json<Page<Approval>>({ method: 'GET', path: '/v1/approvals', query: { ...filters, ...page }, options: opts }),
      limit,
      options,
    )
  }

  /**
   * Approves a held message, optionally after editing its subject or body (recorded): it is then
   * queued for delivery. Approving twice sends it once.
   *
   * @example
   * await mailroom.approvals.approve(a.inboxId, a.messageId, { text: 'Corrected text' })
   */
  async approve(inboxId: string, messageId: string, edits: ApproveParams = {}, options?: RequestOptions): Promise<SentMessage> {
    return this.#http.json({ method: 'POST', path: `/v1/inboxes/${seg(inboxId, 'inbox id')}/messages/${seg(messageId, 'message id')}/approve`, body: edits, options })
  }

  /**
   * Rejects a held message with a reason: it ends `rejected`, never sent.
   *
   * @example
   * await mailroom.approvals.reject(a.inboxId, a.messageId, 'wrong price')
   */
  async reject(inboxId: string, messageId: string, reason: string, options?: RequestOptions): Promise<SentMessage> {
    return this.#http.json({ method: 'POST', path: `/v1/inboxes/${seg(inboxId, 'inbox id')}/messages/${seg(messageId, 'message id')}/reject`, body: { reason }, options })
  }
}
