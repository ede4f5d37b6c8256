// GET /v1/usage: metered usage of the caller and its descendants, for billing.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { isoDay } from '../core/path.js'
import type { UsageParams, UsageReport } from '../types.js'

/**
 * Usage reports (tenant key): messages received and sent, API requests and bytes stored, per
 * tenant, inbox or day, for the caller and its descendants.
 *
 * @example
 * const report = await mailroom.usage.get({ from: '2025-01-01', to: '2025-01-31', groupBy: 'inbox' })
 * for (const row of report.data) console.log(row.inboxId, row.messagesReceived)
 */
export class Usage {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  #query(params: UsageParams) {
    return { from: isoDay(params.from), to: isoDay(params.to), groupBy: params.groupBy }
  }

  /**
   * The report as JSON: one row per tenant, inbox or day (`groupBy`, default `tenant`) and the total.
   *
   * @example
   * const { data, total } = await mailroom.usage.get({ from: '2025-01-01', to: new Date(), groupBy: 'day' })
   * console.log(total.messagesSent, data.map((d) => d.day))
   */
  async get(params: UsageParams, options?: RequestOptions): Promise<UsageReport> {
    return this.#http.json({ method: 'GET', path: '/v1/usage', query: this.#query(params), options })
  }

  /**
   * The same report as CSV text (a header row, one row per group, then a `total` row), ready to
   * save or hand to a billing system.
   *
   * @example
   * const csv = await mailroom.usage.csv({ from: '2025-01-01', to: '2025-01-31', groupBy: 'tenant' })
   * await writeFile('usage-2025-01.csv', csv)
   */
  async csv(params: UsageParams, options?: RequestOptions): Promise<string> {
    return this.#http.json<string>({
      method: 'GET',
      path: '/v1/usage',
      query: { ...this.#query(params), format: 'csv' },
      options,
      read: 'text',
      accept: 'text/csv',
    })
  }
}
