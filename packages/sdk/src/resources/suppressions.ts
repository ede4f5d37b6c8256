// /v1/suppressions: addresses the tenant no longer sends to.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import type { CreateSuppressionParams, ListParams, Page, Suppression } from '../types.js'

/**
 * The suppression list (tenant key): hard bounces and complaints land here by themselves; mail to
 * a suppressed address is recorded as `suppressed`, not sent.
 *
 * @example
 * await mailroom.suppressions.create({ address: 'optout@example.com' })
 * await mailroom.suppressions.delete('optout@example.com')
 */
export class Suppressions {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * The suppressed addresses, newest first.
   *
   * @example
   * for await (const s of mailroom.suppressions.list()) console.log(s.address, s.reason)
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<Suppression> {
    return new PageList(
      (page, opts) => this.#http.json<Page<Suppression>>({ method: 'GET', path: '/v1/suppressions', query: { ...page }, options: opts }),
      params.limit,
      options,
    )
  }

  /**
   * Suppresses an address by hand (reason `manual`); suppressing it again is not an error.
   *
   * @example
   * await mailroom.suppressions.create({ address: 'optout@example.com', detail: 'asked to stop' })
   */
  async create(params: CreateSuppressionParams, options?: RequestOptions): Promise<Suppression> {
    return this.#http.json({ method: 'POST', path: '/v1/suppressions', body: params, options })
  }

  /**
   * Takes an address off the list: mail to it is sent again. 404 when it was not on it.
   *
   * @example
   * await mailroom.suppressions.delete('alice@example.com')
   */
  async delete(address: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `/v1/suppressions/${seg(address, 'address')}`, options, read: 'none' })
  }
}
