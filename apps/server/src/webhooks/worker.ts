// Webhook workers: claim due deliveries fairly across tenants (mailroom_claim_webhook_deliveries:
// round-robin, per-tenant in-flight cap, SKIP LOCKED), POST each signed per Standard Webhooks to an
// address that passed the SSRF guard, log the attempt, and retry with exponential backoff and
// jitter. An endpoint that keeps failing is disabled (its pending deliveries wait, never dropped)
// with a `webhook.disabled` event.
import http from 'node:http'
import https from 'node:https'
import { and, eq, sql } from 'drizzle-orm'
import { rawRows, type Database } from '../db/client.js'
import { withTenant, withoutTenant } from '../db/scope.js'
import { ClaimLoop, type Claimed } from '../jobs/claim-loop.js'
import type { TenantCrypto } from '../crypto/service.js'
import type { Logger } from '../lib/log.js'
import { monotonicMs, systemClock, type Clock } from '../lib/clock.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { appendEvent } from '../events/service.js'
import { addressAllowed, classify, guardedLookup, literalHost, type LookupFn, type PrivatePolicy } from './ssrf.js'
import { signWebhook } from './signing.js'
import { WEBHOOK_CHANNEL, wctx } from './service.js'
import { webhookAttempts, webhookDeliveries, webhooks } from './tables.js'

export interface WebhookWorkerOptions {
  database: Database
  crypto: TenantCrypto
  log: Logger
  /** When attempts start and deliveries expire (default: the system clock). */
  clock?: Clock
  allowPrivate: PrivatePolicy
  /** Per request, connect to last byte. Default 10 s. */
  timeoutMs?: number
  concurrency?: number
  tenantInFlight?: number
  pollMs?: number
  retryBaseMs?: number
  retryMaxMs?: number
  /** Disable an endpoint failing without a success for this long; also the age after which a delivery stops retrying. */
  disableAfterMs?: number
  /** ... or after this many consecutive failures (0: off). */
  disableAfterFailures?: number
  /** DNS for targets (tests simulate rebinding). */
  lookup?: LookupFn
}

interface Result {
  ok: boolean
  statusCode: number | null
  error: string | null
  durationMs: number
}

export class WebhookWorker {
  readonly timeoutMs: number
  private readonly concurrency: number
  private readonly tenantInFlight: number
  private readonly pollMs: number
  private readonly retryBaseMs: number
  private readonly retryMaxMs: number
  private readonly disableAfterMs: number
  private readonly disableAfterFailures: number
  private readonly lookup: ReturnType<typeof guardedLookup>
  private readonly agents: { http: http.Agent; https: https.Agent }
  private timer: NodeJS.Timeout | null = null
  private unlisten: (() => Promise<void>) | null = null
  private readonly loop: ClaimLoop

  constructor(private readonly o: WebhookWorkerOptions) {
    this.timeoutMs = o.timeoutMs ?? 10_000
    this.concurrency = o.concurrency ?? 32
    this.tenantInFlight = o.tenantInFlight ?? 4
    this.pollMs = o.pollMs ?? 1_000
    this.retryBaseMs = o.retryBaseMs ?? 5_000
    this.retryMaxMs = o.retryMaxMs ?? 3_600_000
    this.disableAfterMs = o.disableAfterMs ?? 3 * 86_400_000
    this.disableAfterFailures = o.disableAfterFailures ?? 0
    this.lookup = guardedLookup(o.allowPrivate, o.lookup)
    const agentOpts = { keepAlive: true, maxSockets: 64, lookup: this.lookup as never }
    this.agents = { http: new http.Agent(agentOpts), https: new https.Agent(agentOpts) }
    const lease = Math.ceil(this.timeoutMs / 1000) + 30
    this.loop = new ClaimLoop({
      name: 'webhook delivery',
      concurrency: this.concurrency,
      log: o.log,
      claim: (free) =>
        withoutTenant(o.database, (tx) =>
          rawRows<Claimed>(tx, sql`select tenant_id, id from mailroom_claim_webhook_deliveries(${free}, ${lease}, ${this.tenantInFlight})`),
        ),
      run: (tenantId, id) => this.deliver(tenantId, id),
    })
  }

  async start(): Promise<void> {
    this.loop.start()
    this.timer = setInterval(() => this.kick(), this.pollMs)
    this.timer.unref()
    try {
      this.unlisten = await this.o.database.listen(WEBHOOK_CHANNEL, () => this.kick())
    } catch (err) {
      this.o.log.warn('webhooks: LISTEN failed, polling only', { err: String(err) })
    }
    this.kick()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.unlisten?.().catch(() => {})
    await this.loop.stop()
    this.agents.http.destroy()
    this.agents.https.destroy()
  }

  kick(): void {
    this.loop.kick()
  }

  idle(): Promise<void> {
    return this.loop.idle()
  }

  get inFlight(): number {
    return this.loop.inFlight
  }

  /** Exponential from retryBaseMs, capped at retryMaxMs, with jitter in [50%, 100%]. */
  backoffMs(attempts: number): number {
    const base = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.max(0, attempts - 1))
    return Math.round(base * (0.5 + Math.random() * 0.5))
  }

  async deliver(tenantId: string, id: string): Promise<void> {
    const prep = await withTenant(this.o.database, { tenantId }, async (tx) => {
      const [d] = await tx.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, id)))
      if (!d || d.status !== 'sending') return null
      const [w] = await tx.select().from(webhooks).where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.id, d.webhookId)))
      if (!w || w.status !== 'enabled') return null
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      return { d, w, secret: cipher.openString(wctx.secret(w.id), w.secretEnc), body: cipher.openString(wctx.payload(d.id), d.payloadEnc) }
    })
    if (!prep) return
    const { d, w, secret, body } = prep
    const msgId = toPublicId('webhookDelivery', d.id)
    const startedAt = (this.o.clock ?? systemClock).now()
    const timestamp = Math.floor(startedAt.getTime() / 1000)
    const result = await this.post(w.url, body, {
      'content-type': 'application/json',
      'user-agent': 'Mailroom-Webhooks/1',
      'webhook-id': msgId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secret, msgId, timestamp, body),
    })
    // Left to the lease, a failed recording would POST the event again.
    await this.loop.record({ deliveryId: d.id, ok: result.ok }, (again) => this.record(tenantId, d, w, startedAt, result, again))
  }

  /** One POST with a hard deadline; never follows redirects. */
  post(rawUrl: string, body: string, headers: Record<string, string>): Promise<Result> {
    const started = monotonicMs()
    const done = (r: Omit<Result, 'durationMs'>): Result => ({ ...r, durationMs: Math.round(monotonicMs() - started) })
    return new Promise((resolve) => {
      let url: URL
      try {
        url = new URL(rawUrl)
      } catch {
        return resolve(done({ ok: false, statusCode: null, error: 'invalid URL' }))
      }
      const ip = literalHost(url)
      if (ip && !addressAllowed(ip, this.o.allowPrivate)) {
        return resolve(done({ ok: false, statusCode: null, error: `refused: ${ip} is a ${classify(ip)} address` }))
      }
      const isHttps = url.protocol === 'https:'
      let settled = false
      const finish = (r: Omit<Result, 'durationMs'>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(done(r))
      }
      const req = (isHttps ? https : http).request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: isHttps ? this.agents.https : this.agents.http,
          lookup: this.lookup as never,
        },
        (res) => {
          const status = res.statusCode ?? 0
          let snippet = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => {
            if (snippet.length < 200) snippet += c
          })
          res.on('end', () => {
            const ok = status >= 200 && status < 300
            finish({ ok, statusCode: status, error: ok ? null : `HTTP ${status}${snippet ? `: ${snippet.slice(0, 200)}` : ''}` })
          })
          res.on('error', (err) => finish({ ok: false, statusCode: status, error: String(err.message) }))
        },
      )
      const timer = setTimeout(() => {
        finish({ ok: false, statusCode: null, error: `timed out after ${this.timeoutMs} ms` })
        req.destroy()
      }, this.timeoutMs)
      req.on('error', (err) => finish({ ok: false, statusCode: null, error: String(err.message).slice(0, 300) }))
      req.end(body)
    })
  }

  private async record(tenantId: string, d: typeof webhookDeliveries.$inferSelect, w: typeof webhooks.$inferSelect, startedAt: Date, r: Result, again = false) {
    await withTenant(this.o.database, { tenantId }, async (tx) => {
      // The endpoint (and so this delivery) may have been deleted while the request was out: then
      // there is nothing left to record. Locked, so a delete now waits for this record and takes it along.
      const [still] = await tx
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, d.id)))
        .for('update')
      if (!still) return
      // Trying again (ClaimLoop.record): the last try's COMMIT may have gone through unseen.
      if (again) {
        const [seen] = await tx
          .select({ id: webhookAttempts.id })
          .from(webhookAttempts)
          .where(and(eq(webhookAttempts.tenantId, tenantId), eq(webhookAttempts.deliveryId, d.id), eq(webhookAttempts.attempt, d.attempts)))
          .limit(1)
        if (seen) return
      }
      await tx.insert(webhookAttempts).values({
        tenantId,
        id: newUuid(),
        deliveryId: d.id,
        attempt: d.attempts,
        startedAt,
        durationMs: r.durationMs,
        statusCode: r.statusCode,
        error: r.error,
      })
      if (r.ok) {
        await tx
          .update(webhookDeliveries)
          .set({ status: 'succeeded', succeededAt: sql`now()`, lockedUntil: null, lastStatusCode: r.statusCode, lastError: null, updatedAt: sql`now()` })
          .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, 'sending')))
        await tx
          .update(webhooks)
          .set({ consecutiveFailures: 0, failingSince: null, lastSuccessAt: sql`now()` })
          .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.id, w.id)))
        return
      }
      // Failed: retry later, unless the delivery has been failing for longer than the window.
      const expired = (this.o.clock ?? systemClock).now().getTime() - d.createdAt.getTime() >= this.disableAfterMs
      const delayMs = this.backoffMs(d.attempts)
      await tx
        .update(webhookDeliveries)
        .set({
          status: expired ? 'failed' : 'pending',
          lockedUntil: null,
          lastStatusCode: r.statusCode,
          lastError: r.error?.slice(0, 1000) ?? null,
          nextAttemptAt: sql`now() + make_interval(secs => ${delayMs / 1000})`,
          updatedAt: sql`now()`,
        })
        .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, 'sending')))
      const [hook] = await rawRows<{ consecutive_failures: number; failing_ms: number | string }>(
        tx,
        sql`update ${webhooks} set consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, ${startedAt.toISOString()}::timestamptz)
            where tenant_id = ${tenantId}::uuid and id = ${w.id} and status = 'enabled'
            returning consecutive_failures, (extract(epoch from (${new Date().toISOString()}::timestamptz - failing_since)) * 1000)::bigint as failing_ms`,
      )
      if (!hook) return
      const byCount = this.disableAfterFailures > 0 && hook.consecutive_failures >= this.disableAfterFailures
      const byTime = Number(hook.failing_ms) >= this.disableAfterMs
      if (!byCount && !byTime) return
      const reason = byCount
        ? `disabled after ${hook.consecutive_failures} consecutive failed deliveries (last: ${r.error ?? 'error'})`
        : `disabled after failing for ${Math.round(Number(hook.failing_ms) / 1000)} s without a success (last: ${r.error ?? 'error'})`
      await tx
        .update(webhooks)
        .set({ status: 'disabled', disabledReason: reason.slice(0, 500), disabledAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.id, w.id)))
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      await appendEvent(tx, cipher, tenantId, 'webhook.disabled', w.inboxId, {
        webhook: { id: toPublicId('webhook', w.id), url: w.url },
        reason,
      })
    })
  }
}
