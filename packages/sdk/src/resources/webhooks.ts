// /v1/webhooks: endpoints, their deliveries and replay. (Verifying a delivery's signature on the
// receiving side is `verifyWebhook`, in src/webhooks.ts.)
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import type {
  CreateWebhookParams,
  CreatedWebhook,
  ListParams,
  Page,
  UpdateWebhookParams,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryListParams,
} from '../types.js'

/**
 * Webhook endpoints (tenant key). Deliveries are signed (Standard Webhooks): check them with
 * `verifyWebhook` and the secret returned once by `create`.
 *
 * @example
 * const { id, secret } = await mailroom.webhooks.create({ url: 'https://example.com/hooks/mailroom', eventTypes: ['message.received'] })
 */
export class Webhooks {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  #path(id: string): string {
    return `/v1/webhooks/${seg(id, 'webhook id')}`
  }

  /**
   * Adds an endpoint; its signing secret (`whsec_...`) is in the answer only (shown once).
   *
   * @example
   * const hook = await mailroom.webhooks.create({ url: 'https://example.com/hook', inboxId: inbox.id, payload: 'summary' })
   * await saveSecret(hook.id, hook.secret)
   */
  async create(params: CreateWebhookParams, options?: RequestOptions): Promise<CreatedWebhook> {
    return this.#http.json({ method: 'POST', path: '/v1/webhooks', body: params, options })
  }

  /**
   * The tenant's endpoints, newest first.
   *
   * @example
   * for await (const hook of mailroom.webhooks.list()) console.log(hook.url, hook.status)
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<Webhook> {
    return new PageList(
      (page, opts) => this.#http.json<Page<Webhook>>({ method: 'GET', path: '/v1/webhooks', query: { ...page }, options: opts }),
      params.limit,
      options,
    )
  }

  /**
   * One endpoint (without its secret).
   *
   * @example
   * const hook = await mailroom.webhooks.get('whk_...')
   */
  async get(id: string, options?: RequestOptions): Promise<Webhook> {
    return this.#http.json({ method: 'GET', path: this.#path(id), options })
  }

  /**
   * Changes an endpoint; `status: 'enabled'` re-enables a disabled one (its pending deliveries resume).
   *
   * @example
   * await mailroom.webhooks.update('whk_...', { status: 'enabled' })
   */
  async update(id: string, params: UpdateWebhookParams, options?: RequestOptions): Promise<Webhook> {
    return this.#http.json({ method: 'PATCH', path: this.#path(id), body: params, options })
  }

  /**
   * Deletes an endpoint and its delivery log.
   *
   * @example
   * await mailroom.webhooks.delete('whk_...')
   */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: this.#path(id), options, read: 'none' })
  }

  /**
   * The endpoint's deliveries with their latest attempts, newest first, optionally by `status`.
   *
   * @example
   * for await (const d of mailroom.webhooks.deliveries('whk_...', { status: 'failed' })) {
   *   console.log(d.eventType, d.lastStatusCode, d.lastError)
   * }
   */
  deliveries(id: string, params: WebhookDeliveryListParams = {}, options?: RequestOptions): PageList<WebhookDelivery> {
    const path = `${this.#path(id)}/deliveries`
    const { limit, status } = params
    return new PageList(
      (page, opts) => this.#http.json<Page<WebhookDelivery>>({ method: 'GET', path, query: { status, ...page }, options: opts }),
      limit,
      options,
    )
  }

  /**
   * Sends a delivery again now, whatever its status (same `webhook-id`, so receivers can dedupe);
   * 409 while the endpoint is disabled or the delivery is being sent.
   *
   * @example
   * const again = await mailroom.webhooks.replay('whk_...', 'whd_...')
   * console.log(again.status) // 'pending'
   */
  async replay(id: string, deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    return this.#http.json({ method: 'POST', path: `${this.#path(id)}/deliveries/${seg(deliveryId, 'delivery id')}/replay`, options })
  }
}
