// The Mailroom client: options (defaulting from the environment) and the resources hanging off it.
import { MailroomError } from './core/errors.js'
import { HttpClient, type FetchLike, type RequestOptions } from './core/http.js'
import { seg } from './core/path.js'
import { readEnv } from './core/runtime.js'
import { Inbox } from './inbox.js'
import { ApiKeys } from './resources/api-keys.js'
import { AuditLog } from './resources/audit-log.js'
import { Domains } from './resources/domains.js'
import { Events } from './resources/events.js'
import { Inboxes } from './resources/inboxes.js'
import { SenderRules } from './resources/sender-rules.js'
import { Suppressions } from './resources/suppressions.js'
import { Tenants } from './resources/tenants.js'
import { Usage } from './resources/usage.js'
import { Webhooks } from './resources/webhooks.js'
import { Approvals } from './resources/approvals.js'
import type { CreateInboxParams, Me } from './types.js'

/** Module-private option set by `withTenant`: the tenant named in `Mailroom-Tenant`. */
const ACT_AS = Symbol('mailroom.actAs')

/**
 * Where the SDK looks when `baseUrl` is not given and `MAILROOM_BASE_URL` is not set: a server
 * started locally with `pnpm start`.
 *
 * @example
 * new Mailroom({ apiKey }).baseUrl === DEFAULT_BASE_URL // 'http://127.0.0.1:3000' when MAILROOM_BASE_URL is unset
 */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000'

/**
 * Options of `new Mailroom()`; every one is optional.
 *
 * @example
 * const mailroom = new Mailroom({
 *   apiKey: 'mr_tk_...',                      // default: MAILROOM_API_KEY
 *   baseUrl: 'https://mailroom.example.com',  // default: MAILROOM_BASE_URL, then http://127.0.0.1:3000
 *   timeout: 30_000,
 *   maxRetries: 2,
 * })
 */
export interface MailroomOptions {
  /** A tenant key (`mr_tk_...`), an inbox key (`mr_ik_...`) or the operator key. Default: `MAILROOM_API_KEY`. */
  apiKey?: string | undefined
  /** The server's root URL (without `/v1`). Default: `MAILROOM_BASE_URL`, then `http://127.0.0.1:3000`. */
  baseUrl?: string | undefined
  /** Timeout of each HTTP attempt in milliseconds (default 30 000). Long polls get their own. */
  timeout?: number | undefined
  /**
   * Retries after a network failure, a timeout, 408, 429 or 5xx (default 2), with exponential backoff
   * and full jitter, or after the server's `Retry-After`. Writes are retried too: each carries an
   * `Idempotency-Key` that stays the same across its retries.
   */
  maxRetries?: number | undefined
  /** A fetch implementation (default: `globalThis.fetch`). */
  fetch?: FetchLike | undefined
}

/**
 * The Mailroom client.
 *
 * With a tenant key it manages inboxes, keys and child tenants; with an inbox key, `await
 * mailroom.inbox()` is the agent's own inbox and no ids are needed.
 *
 * @example
 * import { Mailroom } from '@mailroom/sdk'
 *
 * const mailroom = new Mailroom() // reads MAILROOM_API_KEY and MAILROOM_BASE_URL
 * const inbox = await mailroom.createInbox({ name: 'support' })
 * const msg = await inbox.waitForMessage({ subject: /hello/i, timeout: 30_000 })
 * await inbox.reply(msg, { text: 'Hi there!' })
 */
export class Mailroom {
  /** The server's root URL this client talks to. */
  readonly baseUrl: string
  /** Child tenants: create, list, get, update, delete, suspend, resume; sending state. */
  readonly tenants: Tenants
  /** The tenant's API keys: create, list, revoke. */
  readonly apiKeys: ApiKeys
  /** The tenant's inboxes: create, list, get, update, delete, getLimits, setLimits. */
  readonly inboxes: Inboxes
  /** The event stream (Server-Sent Events): `mailroom.events.stream()`. */
  readonly events: Events
  /** Usage reports for billing, as JSON or CSV. */
  readonly usage: Usage
  /** Administrative actions of the tenant and its descendants. */
  readonly auditLog: AuditLog
  /** Allow and block rules on senders and recipients. */
  readonly senderRules: SenderRules
  /** Addresses mail is no longer sent to. */
  readonly suppressions: Suppressions
  /** Custom domains and their DNS records. */
  readonly domains: Domains
  /** Webhook endpoints, their deliveries and replay. */
  readonly webhooks: Webhooks
  /** Mail agents sent under an approval policy, for a person to approve or reject (tenant keys). */
  readonly approvals: Approvals
  readonly #http: HttpClient
  readonly #options: MailroomOptions

  constructor(options: MailroomOptions = {}) {
    const apiKey = options.apiKey?.trim() || readEnv('MAILROOM_API_KEY')
    if (!apiKey) {
      throw new MailroomError(
        'Missing Mailroom API key: pass new Mailroom({ apiKey }) or set the MAILROOM_API_KEY environment variable ' +
          '(a tenant key mr_tk_... or an inbox key mr_ik_...).',
        { code: 'missing_api_key' },
      )
    }
    const baseUrl = (options.baseUrl?.trim() || readEnv('MAILROOM_BASE_URL') || DEFAULT_BASE_URL).replace(/\/+$/, '')
    this.baseUrl = baseUrl
    this.#options = { ...options, apiKey, baseUrl }
    this.#http = new HttpClient({
      apiKey,
      baseUrl,
      timeout: options.timeout ?? 30_000,
      maxRetries: options.maxRetries ?? 2,
      fetch: options.fetch,
      tenantId: (options as { [ACT_AS]?: string })[ACT_AS],
    })
    this.tenants = new Tenants(this.#http)
    this.apiKeys = new ApiKeys(this.#http)
    this.inboxes = new Inboxes(this.#http)
    this.events = new Events(this.#http)
    this.usage = new Usage(this.#http)
    this.auditLog = new AuditLog(this.#http)
    this.senderRules = new SenderRules(this.#http)
    this.suppressions = new Suppressions(this.#http)
    this.domains = new Domains(this.#http)
    this.webhooks = new Webhooks(this.#http)
    this.approvals = new Approvals(this.#http)
  }

  /**
   * Creates an inbox and returns its handle (tenant key). Same as `mailroom.inboxes.create()`.
   *
   * @example
   * const inbox = await mailroom.createInbox({ name: 'support', displayName: 'Support bot' })
   * console.log(inbox.id, inbox.address)
   */
  async createInbox(params: CreateInboxParams = {}, options?: RequestOptions): Promise<Inbox> {
    return this.inboxes.create(params, options)
  }

  /**
   * The inbox this client works on. With an inbox key, no id is needed: it is the key's own inbox.
   * With a tenant key, pass the id (same as `mailroom.inboxes.get(id)`).
   *
   * @example
   * const mailroom = new Mailroom({ apiKey: process.env.AGENT_INBOX_KEY }) // mr_ik_...
   * const inbox = await mailroom.inbox()
   * const msg = await inbox.waitForMessage()
   */
  async inbox(id?: string, options?: RequestOptions): Promise<Inbox> {
    if (id !== undefined) return this.inboxes.get(id, options)
    const me = await this.me(options)
    if (!me.inbox) {
      throw new MailroomError(
        `mailroom.inbox() without an id needs an inbox key (mr_ik_...); this is a ${me.scope} key: ` +
          'use mailroom.inbox(id), mailroom.inboxes.get(id) or mailroom.createInbox()',
        { code: 'bad_request' },
      )
    }
    return new Inbox(this.#http, me.inbox)
  }

  /**
   * Who this client's key belongs to: its scope, tenant and (for an inbox key) inbox.
   *
   * @example
   * const { scope, tenant, inbox } = await mailroom.me()
   */
  async me(options?: RequestOptions): Promise<Me> {
    return this.#http.json({ method: 'GET', path: '/v1/me', options })
  }

  /**
   * A client that acts inside a descendant tenant (sends `Mailroom-Tenant: <tenantId>`), with the
   * same key and options. This client is unchanged.
   *
   * @example
   * const acme = mailroom.withTenant('tnt_...')
   * const inbox = await acme.createInbox({ name: 'billing' }) // an inbox of tenant tnt_...
   */
  withTenant(tenantId: string): Mailroom {
    seg(tenantId, 'tenant id')
    return new Mailroom({ ...this.#options, [ACT_AS]: tenantId } as MailroomOptions)
  }
}
