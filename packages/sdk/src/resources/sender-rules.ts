// /v1/sender-rules: allow and block lists, inbound or outbound, per tenant or per inbox.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import type { CreateSenderRuleParams, ListParams, Page, SenderRule } from '../types.js'

/**
 * Allow and block rules (tenant key). Inbound: mail from a blocked sender is refused at SMTP
 * (`blockMode: 'reject'`) or kept hidden (`'hide'`, listed with `includeHidden`); where allow rules
 * exist, other senders are refused. Outbound: where allow rules exist, sending to anyone else is
 * refused.
 *
 * @example
 * await mailroom.senderRules.create({ direction: 'inbound', action: 'allow', pattern: '@customer.example', inboxId: inbox.id })
 */
export class SenderRules {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * Adds a rule; `pattern` is an address (`a@b.com`) or a domain (`b.com` / `@b.com`).
   *
   * @example
   * const rule = await mailroom.senderRules.create({ direction: 'inbound', action: 'block', pattern: 'spam.example' })
   * await mailroom.senderRules.create({ direction: 'outbound', action: 'allow', pattern: 'mycompany.com' })
   */
  async create(params: CreateSenderRuleParams, options?: RequestOptions): Promise<SenderRule> {
    return this.#http.json({ method: 'POST', path: '/v1/sender-rules', body: params, options })
  }

  /**
   * The tenant's rules, newest first.
   *
   * @example
   * for await (const rule of mailroom.senderRules.list()) console.log(rule.direction, rule.action, rule.pattern, rule.inboxId)
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<SenderRule> {
    return new PageList(
      (page, opts) => this.#http.json<Page<SenderRule>>({ method: 'GET', path: '/v1/sender-rules', query: { ...page }, options: opts }),
      params.limit,
      options,
    )
  }

  /**
   * Removes a rule (403 for one a parent tenant set).
   *
   * @example
   * await mailroom.senderRules.delete('rul_...')
   */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `/v1/sender-rules/${seg(id, 'sender rule id')}`, options, read: 'none' })
  }
}
