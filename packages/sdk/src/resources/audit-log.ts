// GET /v1/audit-log: administrative actions in the caller's tenant and its descendants.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import type { AuditEntry, AuditListParams, Page } from '../types.js'

/**
 * The audit log (tenant key): who did what, with which key, when, newest first.
 *
 * @example
 * for await (const entry of mailroom.auditLog.list()) console.log(entry.createdAt, entry.action, entry.actor.keyId)
 */
export class AuditLog {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * Entries of the caller and its descendants (or only `tenantId`'s), newest first. The server's
   * page size defaults to 50 here.
   *
   * @example
   * for await (const e of mailroom.auditLog.list({ tenantId: 'tnt_...' })) {
   *   if (e.action === 'api_key.revoked') console.log(e.targetId, e.actor)
   * }
   * const { data, nextCursor } = await mailroom.auditLog.list().page({ limit: 20 })
   */
  list(params: AuditListParams = {}, options?: RequestOptions): PageList<AuditEntry> {
    const { limit, tenantId } = params
    return new PageList(
      (page, opts) => this.#http.json<Page<AuditEntry>>({ method: 'GET', path: '/v1/audit-log', query: { tenantId, ...page }, options: opts }),
      limit,
      options,
    )
  }
}
