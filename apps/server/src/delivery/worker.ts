// Delivery workers: claim due outbox rows fairly across tenants (mailroom_claim_outbox: round-robin,
// per-tenant in-flight cap, SKIP LOCKED), deliver each to an inbox on this platform through the
// ingest path or to the relay (DKIM-signed, from the tenant's IP pool), and record the outcome.
import { and, eq, sql } from 'drizzle-orm'
import { rawRows, type Database } from '../db/client.js'
import { withTenant, withoutTenant } from '../db/scope.js'
import { senderRulesAfterData, verdictOf, type InboundRule } from '../rules/service.js'
import { ClaimLoop, type Claimed } from '../jobs/claim-loop.js'
import type { TenantCrypto } from '../crypto/service.js'
import type { Ingest } from '../messages/ingest/index.js'
import type { Logger } from '../lib/log.js'
import { toPublicId } from '../lib/ids.js'
import { appendEvent } from '../events/service.js'
import { messages } from '../messages/tables.js'
import { getRaw } from '../messages/service.js'
import type { EventType } from '@mailroom/contract'
import { outbox, sendingStates, type OutboxRow } from './tables.js'
import { aggregateStatus, notifyTenant } from './status.js'
import { DeliveryError, type OutboundTransport } from './transport.js'
import type { DkimSigner } from './dkim.js'
import { signMessage, type SignOptions } from '../mail/sender-auth.js'
import { dkimKeyFor } from '../domains/service.js'
import { DEFAULT_REPUTATION, judge, type ReputationOptions } from './reputation.js'
import { suppress } from '../suppressions/service.js'
import { QuotaError } from '../messages/ingest/types.js'

export interface DeliveryOptions {
  database: Database
  crypto: TenantCrypto
  ingest: Ingest
  /** An inbox's inbound sender rules (the tenant's and its own), as the SMTP door keeps them (smtp/recipient-policy.ts). */
  inboundRules: (tenantId: string, inboxId: string) => Promise<InboundRule[]>
  log: Logger
  /** null: no relay configured; external mail is held. */
  transport: OutboundTransport | null
  dkim: DkimSigner | null
  /** Pool name -> source addresses. */
  ipPools: Record<string, string[]>
  concurrency?: number
  tenantInFlight?: number
  leaseSeconds?: number
  pollMs?: number
  retryBaseMs?: number
  /**
   * First retry of an internal delivery that failed on this platform's side (a deadlock, a lost
   * connection, an overloaded database): no remote server to spare, and the agent waits for it.
   * Doubles per attempt up to `retryBaseMs`'s schedule. A quota refusal keeps the usual backoff.
   */
  internalRetryMs?: number
  retryMaxMs?: number
  maxAttempts?: number
  reputation?: Partial<ReputationOptions>
}

type Outcome =
  | { status: 'sent' | 'delivered'; route: 'internal' | 'external'; detail: string }
  | { status: 'bounced'; route: 'internal' | 'external'; detail: string; hard: boolean }
  | { status: 'deferred'; route: 'internal' | 'external'; detail: string; soon?: boolean }
  | { status: 'held'; route: 'external'; detail: string }

export const HELD_NO_RELAY = 'held: no relay is configured for external mail (set MAILROOM_RELAY_URL); nothing was sent'

export class DeliveryWorker {
  private readonly concurrency: number
  private readonly tenantInFlight: number
  private readonly leaseSeconds: number
  private readonly pollMs: number
  private readonly retryBaseMs: number
  private readonly internalRetryMs: number
  private readonly retryMaxMs: number
  private readonly maxAttempts: number
  readonly reputation: ReputationOptions
  private timer: NodeJS.Timeout | null = null
  private readonly loop: ClaimLoop
  private rr = 0

  constructor(private readonly o: DeliveryOptions) {
    this.concurrency = o.concurrency ?? 32
    this.tenantInFlight = o.tenantInFlight ?? 8
    this.leaseSeconds = o.leaseSeconds ?? 120
    this.pollMs = o.pollMs ?? 500
    this.retryBaseMs = o.retryBaseMs ?? 30_000
    this.internalRetryMs = Math.min(o.internalRetryMs ?? 1_000, this.retryBaseMs)
    this.retryMaxMs = o.retryMaxMs ?? 3_600_000
    this.maxAttempts = o.maxAttempts ?? 8
    this.reputation = { ...DEFAULT_REPUTATION, ...o.reputation }
    this.loop = new ClaimLoop({
      name: 'delivery',
      concurrency: this.concurrency,
      log: o.log,
      claim: (free) =>
        withoutTenant(o.database, (tx) =>
          rawRows<Claimed>(tx, sql`select tenant_id, id from mailroom_claim_outbox(${free}, ${this.leaseSeconds}, ${this.tenantInFlight})`),
        ),
      run: (tenantId, id) => this.deliver(tenantId, id),
    })
  }

  start(): void {
    this.loop.start()
    this.timer = setInterval(() => this.kick(), this.pollMs)
    this.timer.unref()
    this.kick()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.loop.stop()
    await this.o.transport?.close()
  }

  /** Something may be due: claim soon (coalesced). */
  kick(): void {
    this.loop.kick()
  }

  /** Resolves when nothing is in flight in this process. */
  idle(): Promise<void> {
    return this.loop.idle()
  }

  get inFlight(): number {
    return this.loop.inFlight
  }

  /** One claimed outbox row, start to finish. */
  async deliver(tenantId: string, id: string): Promise<void> {
    const { database, crypto } = this.o
    const prep = await withTenant(database, { tenantId }, async (tx) => {
      const [row] = await tx.select().from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.id, id)))
      if (!row || row.status !== 'sending') return null
      const [msg] = await tx.select().from(messages).where(and(eq(messages.tenantId, tenantId), eq(messages.id, row.messageId)))
      if (!msg) return null
      const cipher = await crypto.cipher(tx, tenantId)
      const raw = await getRaw(tx, cipher, msg.rawId)
      const [state] = await tx.select({ ipPool: sendingStates.ipPool }).from(sendingStates).where(eq(sendingStates.tenantId, tenantId))
      const [route] = await rawRows<{ tenant_id: string; inbox_id: string; tenant_suspended: boolean }>(
        tx,
        sql`select tenant_id, inbox_id, tenant_suspended from mailroom_route(${row.recipient})`,
      )
      const moved = await tx
        .update(messages)
        .set({ status: 'sending', updatedAt: sql`now()` })
        .where(sql`${messages.tenantId} = ${tenantId} and ${messages.id} = ${msg.id} and ${messages.status} = 'queued'`)
        .returning({ id: messages.id })
      if (moved.length) {
        await appendEvent(tx, cipher, tenantId, 'message.sending', msg.inboxId, {
          message: { id: toPublicId('message', msg.id), inboxId: toPublicId('inbox', msg.inboxId), status: 'sending' },
        })
      }
      // Mail from one of the tenant's verified custom domains is signed with that domain's key.
      const domainKey = route ? null : await dkimKeyFor(tx, cipher, (msg.fromAddress ?? '').split('@')[1] ?? '')
      return { row, from: msg.fromAddress ?? '', raw, route: route ?? null, pool: state?.ipPool ?? 'shared', domainKey }
    })
    if (!prep || !prep.raw) return
    const outcome = await this.attempt(prep.row, prep.from, prep.raw, prep.route, prep.pool, prep.domainKey)
    // Left to the lease, a failed recording would send the mail again (an internal one would arrive twice).
    await this.loop.record({ outboxId: prep.row.id, status: outcome.status }, () => this.finish(tenantId, prep.row, outcome))
  }

  private async attempt(
    row: OutboxRow,
    from: string,
    raw: Buffer,
    route: { tenant_id: string; inbox_id: string; tenant_suspended: boolean } | null,
    pool: string,
    domainKey: SignOptions | null = null,
  ): Promise<Outcome> {
    if (route) {
      if (route.tenant_suspended) return { status: 'bounced', route: 'internal', detail: '550 recipient unavailable', hard: true }
      try {
        // The recipient's inbound sender rules, as its SMTP door applies them (smtp/server.ts RCPT):
        // the sender is the platform's own inbox, whose address the message's From carries.
        const rules = await this.o.inboundRules(route.tenant_id, route.inbox_id)
        const verdict = verdictOf(rules, from)
        // Not a hard bounce: the address is there and takes mail from others (the tenant's other
        // inboxes may be on its allow list), so it is not suppressed for the whole tenant.
        if (verdict === 'reject') return { status: 'bounced', route: 'internal', detail: '550 5.7.1 the recipient does not accept mail from this sender', hard: false }
        const recipient = { tenantId: route.tenant_id, inboxId: route.inbox_id, address: row.recipient, ...senderRulesAfterData(rules, verdict) }
        await this.o.ingest.accept([recipient], raw, {
          mailFrom: from,
          remoteIp: null,
          helo: null,
        })
        return { status: 'delivered', route: 'internal', detail: 'delivered to an inbox on this platform' }
      } catch (err) {
        const detail = `internal delivery failed: ${String((err as Error).message ?? err).slice(0, 300)}`
        // A full mailbox is the recipient's state, retried like a remote 4xx; anything else is ours.
        if (err instanceof QuotaError) return { status: 'deferred', route: 'internal', detail }
        this.o.log.warn('delivery: internal delivery failed, retrying soon', { outboxId: row.id, attempts: row.attempts, err: detail })
        return { status: 'deferred', route: 'internal', detail, soon: true }
      }
    }
    const transport = this.o.transport
    if (!transport) return { status: 'held', route: 'external', detail: HELD_NO_RELAY }
    let signed = raw
    try {
      if (domainKey) signed = await signMessage(raw, domainKey)
      else if (this.o.dkim) signed = await this.o.dkim.sign(raw, from.split('@')[1] ?? '')
    } catch (err) {
      return { status: 'deferred', route: 'external', detail: `DKIM signing failed: ${(err as Error).message}` }
    }
    const addrs = this.o.ipPools[pool] ?? this.o.ipPools.shared ?? []
    const localAddress = addrs.length ? addrs[this.rr++ % addrs.length] : undefined
    try {
      const res = await transport.send({ from, to: row.recipient, raw: signed, localAddress })
      return { status: 'sent', route: 'external', detail: res.response || 'accepted by the relay' }
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError(String(err), false, null)
      if (e.permanent) return { status: 'bounced', route: 'external', detail: e.message, hard: true }
      return { status: 'deferred', route: 'external', detail: e.message }
    }
  }

  private backoffMs(attempts: number, soon = false): number {
    const first = soon ? this.internalRetryMs : this.retryBaseMs
    const base = Math.min(this.retryMaxMs, first * 2 ** Math.max(0, attempts - 1))
    return Math.round(base * (0.8 + Math.random() * 0.4))
  }

  private async finish(tenantId: string, row: OutboxRow, outcome: Outcome): Promise<void> {
    let o: Outcome = outcome
    if (o.status === 'deferred' && row.attempts >= this.maxAttempts) {
      o = { status: 'bounced', route: o.route, detail: `gave up after ${row.attempts} attempts: ${o.detail}`, hard: false }
    }
    const final = o.status !== 'deferred'
    const delayMs = final ? 0 : this.backoffMs(row.attempts, o.status === 'deferred' && o.soon === true)
    await withTenant(this.o.database, { tenantId }, async (tx) => {
      const updated = await tx
        .update(outbox)
        .set({
          status: o.status,
          route: o.route,
          lastError: o.status === 'sent' || o.status === 'delivered' ? null : o.detail.slice(0, 1000),
          lockedUntil: null,
          nextAttemptAt: final ? sql`now()` : sql`now() + make_interval(secs => ${delayMs / 1000})`,
          finishedAt: final ? sql`now()` : null,
          updatedAt: sql`now()`,
        })
        .where(sql`${outbox.tenantId} = ${tenantId} and ${outbox.id} = ${row.id} and ${outbox.status} = 'sending'`)
        .returning({ id: outbox.id })
      if (!updated.length) return
      // Recipients of one message finish concurrently: serialise on the message row so the last
      // one to commit computes the status from everyone's outcome (READ COMMITTED re-reads after the wait).
      await tx.select({ id: messages.id }).from(messages).where(and(eq(messages.tenantId, tenantId), eq(messages.id, row.messageId))).for('update')
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      if (o.status === 'bounced' && o.hard) await suppress(tx, tenantId, row.recipient, 'hard_bounce', o.detail)
      const statuses = (await tx.select({ status: outbox.status }).from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.messageId, row.messageId)))).map((r) => r.status)
      const status = aggregateStatus(statuses)
      await tx.update(messages).set({ status, updatedAt: sql`now()` }).where(and(eq(messages.tenantId, tenantId), eq(messages.id, row.messageId)))
      const type = `message.${o.status}` as EventType
      await appendEvent(tx, cipher, tenantId, type, row.inboxId, {
        message: { id: toPublicId('message', row.messageId), inboxId: toPublicId('inbox', row.inboxId), status },
        recipient: row.recipient,
        route: o.route,
        attempts: row.attempts,
        detail: o.detail,
        ...(o.status === 'deferred' ? { nextAttemptInSeconds: Math.round(delayMs / 1000) } : {}),
      })
      if (o.status === 'bounced' && o.route === 'external') await judge(tx, cipher, tenantId, this.reputation)
      await notifyTenant(tx, tenantId, row.inboxId)
    })
  }
}
