// /v1/api-keys: the calling tenant's keys.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { isoTime, seg } from '../core/path.js'
import type { ApiKey, CreateApiKeyParams, CreatedApiKey, ListParams, Page } from '../types.js'

/**
 * The tenant's API keys. Reach it as `mailroom.apiKeys` (tenant key).
 *
 * @example
 * const { key } = await mailroom.apiKeys.create({ scope: 'inbox', inboxId: inbox.id, name: 'agent-1' })
 */
export class ApiKeys {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * Creates a key; the secret `key` is in the answer only (shown once).
   *
   * @example
   * const tenantKey = await mailroom.apiKeys.create({ name: 'ci' })
   * const inboxKey = await mailroom.apiKeys.create({ scope: 'inbox', inboxId: 'inb_...' })
   */
  async create(params: CreateApiKeyParams = {}, options?: RequestOptions): Promise<CreatedApiKey> {
    const body = { ...params, expiresAt: isoTime(params.expiresAt) }
    return this.#http.json({ method: 'POST', path: '/v1/api-keys', body, options })
  }

  /**
   * The tenant's keys (without secrets), newest first.
   *
   * @example
   * for await (const key of mailroom.apiKeys.list()) console.log(key.prefix, key.scope, key.revokedAt)
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<ApiKey> {
    return new PageList(
      (page, opts) => this.#http.json<Page<ApiKey>>({ method: 'GET', path: '/v1/api-keys', query: { ...page }, options: opts }),
      params.limit,
      options,
    )
  }

  /**
   * Revokes a key: it stops working at once.
   *
   * @example
   * await mailroom.apiKeys.revoke('key_...')
   */
  async revoke(id: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `/v1/api-keys/${seg(id, 'api key id')}`, options, read: 'none' })
  }
}
