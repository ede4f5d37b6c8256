// /v1/tenants: a tenant's children and descendants.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import type { CreateTenantParams, CreatedTenant, ListParams, Page, SendingState, Tenant, UpdateSendingParams, UpdateTenantParams } from '../types.js'

/**
 * Child tenants: a platform's own customers. Reach it as `mailroom.tenants` (tenant key).
 *
 * @example
 * const child = await mailroom.tenants.create({ name: 'Acme', limits: { maxInboxes: 5 } })
 * const acme = new Mailroom({ apiKey: child.apiKey }) // or mailroom.withTenant(child.id)
 */
export class Tenants {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * Creates a child of the calling tenant; returns it with its first tenant key (shown once).
   *
   * @example
   * const { id, apiKey } = await mailroom.tenants.create({ name: 'Acme', metadata: { plan: 'pro' } })
   */
  async create(params: CreateTenantParams, options?: RequestOptions): Promise<CreatedTenant> {
    return this.#http.json({ method: 'POST', path: '/v1/tenants', body: params, options })
  }

  /**
   * The direct children of the calling tenant, newest first. With the operator key (a client not
   * made by `withTenant`): the top-level tenants.
   *
   * @example
   * for await (const tenant of mailroom.tenants.list()) console.log(tenant.id, tenant.name)
   */
  list(params: ListParams = {}, options?: RequestOptions): PageList<Tenant> {
    return new PageList(
      (page, opts) => this.#http.json<Page<Tenant>>({ method: 'GET', path: '/v1/tenants', query: { ...page }, options: opts }),
      params.limit,
      options,
    )
  }

  /**
   * The calling tenant or one of its descendants (with the operator key: any tenant).
   *
   * @example
   * const tenant = await mailroom.tenants.get('tnt_...')
   */
  async get(id: string, options?: RequestOptions): Promise<Tenant> {
    return this.#http.json({ method: 'GET', path: `/v1/tenants/${seg(id, 'tenant id')}`, options })
  }

  /**
   * Renames a tenant, or (for a descendant) sets its status, limits or metadata. With the operator
   * key, any tenant's, a top-level one's too.
   *
   * @example
   * await mailroom.tenants.update('tnt_...', { limits: { sendPerDay: 1000 } })
   */
  async update(id: string, params: UpdateTenantParams, options?: RequestOptions): Promise<Tenant> {
    return this.#http.json({ method: 'PATCH', path: `/v1/tenants/${seg(id, 'tenant id')}`, body: params, options })
  }

  /**
   * Deletes a descendant tenant with all of its data and its own descendants. Irreversible. With
   * the operator key (a client not made by `withTenant`), any tenant, a top-level one included.
   *
   * @example
   * await mailroom.tenants.delete('tnt_...')
   */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `/v1/tenants/${seg(id, 'tenant id')}`, options, read: 'none' })
  }

  /**
   * Suspends a descendant (with the operator key: any tenant): its keys (and its subtree's) stop
   * working until `resume`.
   *
   * @example
   * await mailroom.tenants.suspend('tnt_...')
   */
  async suspend(id: string, options?: RequestOptions): Promise<Tenant> {
    return this.update(id, { status: 'suspended' }, options)
  }

  /**
   * Lifts a suspension.
   *
   * @example
   * await mailroom.tenants.resume('tnt_...')
   */
  async resume(id: string, options?: RequestOptions): Promise<Tenant> {
    return this.update(id, { status: 'active' }, options)
  }

  /**
   * A tenant's sending state (the caller's own or a descendant's): paused and why, its bounce and
   * complaint rates over the reputation window, and its IP pool. Sending pauses by itself when the
   * rates get too high; there is no call to pause it by hand (suspend the tenant instead).
   *
   * @example
   * const state = await mailroom.tenants.sending('tnt_...')
   * if (state.paused) console.warn(`paused: ${state.pausedReason} (bounce rate ${state.bounceRate})`)
   */
  async sending(id: string, options?: RequestOptions): Promise<SendingState> {
    return this.#http.json({ method: 'GET', path: `/v1/tenants/${seg(id, 'tenant id')}/sending`, options })
  }

  /**
   * Assigns a descendant's IP pool: `shared`, the caller's own pool, or (the operator) any pool
   * configured in `MAILROOM_IP_POOLS`.
   *
   * @example
   * await mailroom.tenants.updateSending('tnt_...', { ipPool: 'shared' })
   */
  async updateSending(id: string, params: UpdateSendingParams, options?: RequestOptions): Promise<SendingState> {
    return this.#http.json({ method: 'PATCH', path: `/v1/tenants/${seg(id, 'tenant id')}/sending`, body: params, options })
  }

  /**
   * Resumes a descendant's paused sending (ancestors and the operator only), starting a fresh
   * reputation window.
   *
   * @example
   * const state = await mailroom.tenants.resumeSending('tnt_...')
   * console.log(state.paused) // false
   */
  async resumeSending(id: string, options?: RequestOptions): Promise<SendingState> {
    return this.#http.json({ method: 'POST', path: `/v1/tenants/${seg(id, 'tenant id')}/sending/resume`, options })
  }
}
