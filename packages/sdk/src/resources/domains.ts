// /v1/domains: the tenant's custom domains and the DNS records that prove and configure them.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import type { CreateDomainParams, Domain, ListParams, Page, UpdateDomainParams } from '../types.js'

/**
 * Custom domains (tenant key): add one, publish its DNS records, verify, then create inboxes on it.
 *
 * @example
 * const domain = await mailroom.domains.create({ name: 'mail.example.com' })
 * for (const r of domain.records) console.log(r.type, r.name, r.value) // publish these
 * const checked = await mailroom.domains.verify(domain.id)
 * if (checked.status === 'verified') await mailroom.createInbox({ name: 'support', domain: checked.name })
 */
export class Domains {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  #path(id: string): string {
    return `/v1/domains/${seg(id, 'domain id')}`
  }

  /**
   * Adds a domain (status `pending`); the answer lists the DNS records to publish.
   *
   * @example
   * const { id, records } = await mailroom.domains.create({ name: 'mail.example.com' })
   */
  async create(params: CreateDomainParams, options?: RequestOptions): Promise<Domain> {
    return this.#http.json({ method: 'POST', path: '/v1/domains', body: params, options })
  }

  /**
   * The tenant's domains, newest first.
   *
   * @example
   * for await (const d of mailroom.domains.list()) console.log(d.name, d.status)
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<Domain> {
    return new PageList(
      (page, opts) => this.#http.json<Page<Domain>>({ method: 'GET', path: '/v1/domains', query: { ...page }, options: opts }),
      params.limit,
      options,
    )
  }

  /**
   * One domain with its records, as last checked.
   *
   * @example
   * const domain = await mailroom.domains.get('dom_...')
   */
  async get(id: string, options?: RequestOptions): Promise<Domain> {
    return this.#http.json({ method: 'GET', path: this.#path(id), options })
  }

  /**
   * Looks the records up now; the domain becomes `verified` when every required one holds (409 when
   * another account already verified it).
   *
   * @example
   * const domain = await mailroom.domains.verify('dom_...')
   * for (const r of domain.records.filter((r) => r.state !== 'verified')) console.log(r.name, r.state, r.detail)
   */
  async verify(id: string, options?: RequestOptions): Promise<Domain> {
    return this.#http.json({ method: 'POST', path: `${this.#path(id)}/verify`, options })
  }

  /**
   * Sets (or clears, with null) the catch-all inbox that takes mail for unknown addresses.
   *
   * @example
   * await mailroom.domains.update('dom_...', { catchAllInboxId: inbox.id })
   */
  async update(id: string, params: UpdateDomainParams, options?: RequestOptions): Promise<Domain> {
    return this.#http.json({ method: 'PATCH', path: this.#path(id), body: params, options })
  }

  /**
   * Removes a domain and releases its claim (409 while inboxes on it exist).
   *
   * @example
   * await mailroom.domains.delete('dom_...')
   */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: this.#path(id), options, read: 'none' })
  }
}
