// Starts one Mailroom process: the HTTP API, the SMTP door, the delivery, webhook, parse and
// retention workers, and /metrics, over one set of stores.
import { createServer, type Server } from 'node:http'
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { getRequestListener } from '@hono/node-server'
import type { SMTPServer } from 'smtp-server'
import type { Config } from './config.js'
import { openStores, StartupError, type Stores } from './db/open.js'
import { DbGate } from './db/gate.js'
import { createApp } from './http/app.js'
import type { Deps } from './deps.js'
import { systemClock, type Clock } from './lib/clock.js'
import { createLogger, type Logger } from './lib/log.js'
import { createSmtpServer } from './smtp/server.js'
import { RecipientPolicies } from './smtp/recipient-policy.js'
import { RecipientRouting } from './smtp/recipient-routing.js'
import { KeyMemory } from './apikeys/key-memory.js'
import { createRootTenant } from './tenancy/service.js'
import { keyringFromConfig } from './crypto/keyring.js'
import { TenantCrypto } from './crypto/service.js'
import { Hub } from './events/hub.js'
import { WaitRegistry } from './events/waits.js'
import { HeldRequests } from './events/held.js'
import { createParser, type MailParser } from './messages/parser.js'
import { AttachmentDecoder } from './messages/attachment-decoder.js'
import { Ingest } from './messages/ingest/index.js'
import { systemResolver, type DnsResolver } from './mail/sender-auth.js'
import { DeliveryWorker, type DeliveryOptions } from './delivery/worker.js'
import { relayTransport, type OutboundTransport } from './delivery/transport.js'
import { loadDkim } from './delivery/dkim.js'
import { mxTransport } from './delivery/mx.js'
import { handleFeedback, mayBeFeedback } from './delivery/feedback.js'
import { ApiRequestMeter } from './usage/service.js'
import { startRetention } from './retention/service.js'
import { startApprovalExpiry } from './approvals/service.js'
import { WebhookWorker, type WebhookWorkerOptions } from './webhooks/worker.js'
import { Metrics } from './lib/metrics.js'
import { consoleBanner } from './console/static.js'
import { ApiRateLimiter } from './limits/api-rate.js'
import { lookupWithoutTenant } from './db/scope.js'
import { sql } from 'drizzle-orm'

/** How long an idle HTTP connection is kept open for the client's next request. */
const KEEP_ALIVE_MS = 65_000

export interface Running {
  httpPort: number
  smtpPort: number
  /** The port of the metrics listener, when MAILROOM_METRICS_PORT is set. */
  metricsPort: number | null
  stores: Stores
  deps: Deps
  stop(): Promise<void>
}

function listen(server: Pick<Server, 'listen' | 'once' | 'address'>, port: number, host: string, what: string, env: string) {
  return new Promise<number>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new StartupError(`${what} port ${port} on ${host} is already in use (set ${env} to another port)`))
      else if (err.code === 'EACCES') reject(new StartupError(`${what} port ${port} on ${host} needs privileges (set ${env} above 1023)`))
      else if (err.code === 'EADDRNOTAVAIL') reject(new StartupError(`${what} cannot listen on ${host}: no such local address (check MAILROOM_HOST)`))
      else reject(err)
    })
    server.listen(port, host, () => {
      const addr = server.address()
      resolveListen(typeof addr === 'object' && addr ? addr.port : port)
    })
  })
}

/**
 * On the first embedded start: a `dev` tenant, its key printed once with a curl that works (and
 * mints the inbox an agent's key). Later starts say how to get keys while the server runs: over
 * HTTP, since the CLI cannot open the store a running server holds.
 */
async function bootstrapDevTenant(config: Config, stores: Stores, crypto: TenantCrypto, print: (s: string) => void, httpPort: number) {
  const marker = resolve(config.dataDir, 'dev-tenant.json')
  const base = `http://${config.host}:${httpPort}`
  if (existsSync(marker)) {
    const { tenantId } = JSON.parse(readFileSync(marker, 'utf8')) as { tenantId: string }
    print(
      [
        `Mailroom dev tenant ${tenantId} (its tenant key was printed on the first start). While the server runs, mint keys over HTTP with it:`,
        `  curl -s -X POST ${base}/v1/api-keys -H "Authorization: Bearer $TENANT_KEY" -H "Content-Type: application/json" -d '{"scope":"inbox","inboxId":"inb_..."}'`,
        `Lost it? Stop the server, then: pnpm mailroom key create --tenant ${tenantId}`,
      ].join('\n'),
    )
    return
  }
  const { tenant, apiKey } = await createRootTenant(stores.runtime, crypto, 'dev')
  const { toPublicId } = await import('./lib/ids.js')
  const tenantId = toPublicId('tenant', tenant.id)
  mkdirSync(config.dataDir, { recursive: true })
  writeFileSync(marker, JSON.stringify({ tenantId }) + '\n')
  print(
    [
      '',
      `Created the dev tenant ${tenantId}. Its tenant key (shown once, keep it):`,
      '',
      `  ${apiKey}`,
      '',
      'Try it: an inbox, with its own inbox key for an agent ("apiKey": mr_ik_..., shown once):',
      `  curl -s -X POST ${base}/v1/inboxes -H "Authorization: Bearer ${apiKey}" -H "Content-Type: application/json" -d '{"name":"hello","createKey":true}'`,
      '',
    ].join('\n'),
  )
}

/** The metrics listener of MAILROOM_METRICS_PORT: /metrics without a key, nothing else. */
function metricsListener(metrics: Metrics) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: GET /metrics\n')
      return
    }
    metrics.render().then(
      ({ contentType, body }) => res.writeHead(200, { 'Content-Type': contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
    )
  }
}

export interface StartOptions {
  config: Config
  /** Already-open stores (tests); the caller keeps ownership and closes them. */
  stores?: Stores
  clock?: Clock
  log?: Logger
  print?: (s: string) => void
  /** DNS for SPF/DKIM/DMARC checks of inbound mail (tests pass a fake). */
  resolver?: DnsResolver
  /** Lease of a parse job before another process may take it over (seconds). */
  ingestLeaseSeconds?: number
  /** Parses raw messages (tests pass one that fails); the caller keeps ownership. Default: mailparser in worker threads. */
  parser?: MailParser
  /** Outbound delivery tuning (tests: fast retries, small reputation windows, a custom transport). */
  delivery?: Partial<Omit<DeliveryOptions, 'database' | 'crypto' | 'ingest' | 'log' | 'transport'>> & {
    /** Replaces the relay transport built from MAILROOM_RELAY_URL (null: hold external mail). */
    transport?: OutboundTransport | null
    /** false: do not start the delivery workers (sends stay queued). */
    start?: boolean
  }
  /** Webhook delivery tuning (tests: fast retries, short timeouts, a fake DNS for targets). */
  webhooks?: Partial<Omit<WebhookWorkerOptions, 'database' | 'crypto' | 'log'>> & {
    /** false: do not start the webhook workers (deliveries stay pending). */
    start?: boolean
  }
}

export async function startMailroom(opts: StartOptions): Promise<Running> {
  const { config, stores: given, clock = systemClock, log, print = (s) => process.stdout.write(s + '\n') } = opts
  const logger = log ?? createLogger(config.logLevel)
  const keyring = keyringFromConfig(config)
  const stores = given ?? (await openStores(config, { log: logger }))
  const metrics = new Metrics({
    pool: () => {
      const g = stores.runtime.gate
      return { ...g.stats, shedDeadline: g.shed.deadline, shedQueueFull: g.shed.queue_full, up: stores.runtime.health.up }
    },
    held: () => ({ waits: held.total.wait, streams: held.total.stream }),
    waitLooks: () => waits.looks,
    parsesWaiting: () => ingest.parsesWaiting,
    memories: () => {
      const p = policies.counts
      const k = keys.counts
      return { routes: routes.counts, policies: p.policies, tenant_limits: p.tenantLimits, keys: k.keys, act_as: k.actAs }
    },
    queues: async () =>
      (await lookupWithoutTenant<{ queue: string; depth: string | number; oldest_seconds: number }>(stores.runtime, sql`select * from mailroom_queue_stats()`, 'metrics')).map((r) => ({
        queue: r.queue,
        depth: Number(r.depth),
        oldestSeconds: Number(r.oldest_seconds),
      })),
  })
  const crypto = new TenantCrypto(keyring)
  const hub = new Hub(logger)
  const parser = opts.parser ?? createParser()
  const attachments = new AttachmentDecoder()
  const ingest: Ingest = new Ingest({
    database: stores.runtime,
    crypto,
    clock,
    platformDomain: config.domain,
    parser,
    log: logger,
    resolver: config.inboundAuth ? (opts.resolver ?? systemResolver) : null,
    leaseSeconds: opts.ingestLeaseSeconds ?? config.ingestLeaseSeconds,
    gatherMs: config.ingestBatchWaitMs,
    // Waits on this node are answered from the committed rows, without reading them back.
    waiters: hub,
    // Bounce (RFC 3464) and complaint (RFC 5965) reports for mail this tenant sent.
    onParsed: (tx, cipher, tenantId, row, parsed, raw): Promise<void> => handleFeedback(tx, cipher, tenantId, row, parsed, raw, { reputation: delivery.reputation, log: logger }),
    onParsedWants: mayBeFeedback,
    metrics,
  })
  const { transport: givenTransport, start: startDelivery = true, ...deliveryTuning } = opts.delivery ?? {}
  const delivery: DeliveryWorker = new DeliveryWorker({
    database: stores.runtime,
    crypto,
    ingest,
    // The rules the SMTP door keeps (`policies`, made below; asked only once delivery runs).
    inboundRules: (tenantId, inboxId) => policies.get(tenantId, inboxId).then((p) => p.rules),
    log: logger,
    transport:
      givenTransport !== undefined
        ? givenTransport
        : config.deliveryMode === 'mx'
          ? mxTransport({ resolver: opts.resolver ?? systemResolver, port: config.mxPort, heloName: config.domain })
          : config.relayUrl
            ? relayTransport(config.relayUrl, { maxConnections: Math.min(config.deliveryConcurrency, 16) })
            : null,
    dkim: loadDkim(config, { persist: !given, log: logger }),
    ipPools: config.ipPools,
    concurrency: config.deliveryConcurrency,
    tenantInFlight: config.deliveryTenantInFlight,
    ...deliveryTuning,
  })
  const { start: startWebhooks = true, ...webhookTuning } = opts.webhooks ?? {}
  const webhooks = new WebhookWorker({
    database: stores.runtime,
    crypto,
    log: logger,
    clock,
    allowPrivate: config.webhookAllowPrivate,
    timeoutMs: config.webhookTimeoutSeconds * 1000,
    concurrency: config.webhookConcurrency,
    tenantInFlight: config.webhookTenantInFlight,
    disableAfterMs: config.webhookDisableAfterSeconds * 1000,
    disableAfterFailures: config.webhookDisableAfterFailures,
    ...webhookTuning,
  })
  const usage = new ApiRequestMeter(stores.runtime, logger)
  let stopRetention = () => {}
  let stopApprovalExpiry = () => {}
  const closeStores = async () => {
    stopRetention()
    stopApprovalExpiry()
    await usage.stop()
    await webhooks.stop()
    await delivery.stop()
    await ingest.stop()
    await hub.stop()
    await routes.stop()
    await policies.stop()
    await keys.stop()
    if (!opts.parser) await parser.close()
    await attachments.close()
    if (!given) await stores.close()
  }
  const held = new HeldRequests({ perTenant: config.maxHeldPerTenant, perInbox: config.maxHeldPerInbox }, (who) => metrics.rateLimited.inc({ limit: `held_${who}` }))
  const waits = new WaitRegistry({ database: stores.runtime, crypto, hub, log: logger }, held)
  const database = stores.runtime
  // An inbox's limits and its tenant's, kept until a change is announced (and at most as long as a
  // route): read at an RCPT for it, and for the rates of its key (an inbox key's; a tenant key's
  // from its tenant's limits, kept alike). An idle agent's re-poll (every 30 s or so) then costs no
  // read of them.
  const policies = new RecipientPolicies(database, { keepMs: config.smtpRouteCacheSeconds * 1000, log: logger })
  // Address -> inbox for the SMTP door's RCPT, kept until a change is announced.
  const routes = new RecipientRouting(database, { routeCacheMs: config.smtpRouteCacheSeconds * 1000, log: logger })
  // What each presented key stands for, kept until a change is announced: a request of a key seen
  // lately makes no database lookup to authenticate.
  const keys = new KeyMemory(database, { keepMs: config.keyCacheSeconds * 1000, log: logger })
  // A parked wait whose key is revoked (its inbox deleted, its tenant suspended or deleted) answers
  // the door's error, not the next message.
  keys.watch((change) => waits.keysChanged(change))
  const rateLimiter = new ApiRateLimiter(
    {
      load: (tenantId, inboxId) =>
        inboxId
          ? policies.get(tenantId, inboxId).then((p) => ({ tenant: p.limits, inbox: p.inbox }))
          : policies.tenantLimits(tenantId).then((tenant) => ({ tenant })),
      // A limit changed through Mailroom holds from the next request, not after the limiter's few seconds.
      version: () => policies.version,
    },
    { perSecond: config.apiRequestsPerSecond, burst: config.apiBurst },
    () => clock.now().getTime(),
  )
  // The tenants' API requests take turns (http/caller.ts tenantTurns), light tenants first.
  const requestTurns = new DbGate({ slots: Number.POSITIVE_INFINITY, perKey: Math.max(1, config.httpMaxInFlightPerTenant), lightFirst: { maxDelayMs: 100 } })
  const deps: Deps = { database, owner: stores.embedded ? undefined : stores.owner, config, clock, log: logger, crypto, hub, waits, held, ingest, attachments, delivery, usage, webhooks, rateLimiter, routes, policies, keys, requestTurns, metrics, resolver: opts.resolver ?? systemResolver }
  const app = createApp(deps)
  const http = createServer(getRequestListener(app.fetch))
  // Idle keep-alive connections stay open longer than clients keep them (Node's fetch: 4 s), so it
  // is always the client that closes one: with Node's 5 s a loaded client could send its next
  // request on a connection the server was closing at that moment, and get ECONNRESET.
  http.keepAliveTimeout = KEEP_ALIVE_MS
  http.headersTimeout = KEEP_ALIVE_MS + 1_000
  const metricsHttp = config.metricsPort !== undefined ? createServer(metricsListener(metrics)) : null
  let smtp: SMTPServer | undefined
  try {
    await hub.start(stores.runtime)
    routes.start()
    policies.start()
    keys.start()
    ingest.startSweeper()
    if (startDelivery) delivery.start()
    if (startWebhooks) await webhooks.start()
    usage.start()
    stopRetention = startRetention(stores.runtime, clock, logger, config.retentionIntervalSeconds * 1000)
    // Held mail nobody decided on expires (checked once a minute; the expiry is in hours).
    stopApprovalExpiry = startApprovalExpiry({ database: stores.runtime, crypto, clock, log: logger }, 60_000)
    const httpPort = await listen(http, config.httpPort, config.host, 'HTTP', 'MAILROOM_HTTP_PORT')
    smtp = createSmtpServer(deps)
    smtp.on('error', (err) => logger.error('smtp error', { err: String(err) }))
    const smtpPort = await listen(smtp.server as Server, config.smtpPort, config.host, 'SMTP', 'MAILROOM_SMTP_PORT')
    const metricsPort = metricsHttp ? await listen(metricsHttp, config.metricsPort!, config.metricsHost, 'Metrics', 'MAILROOM_METRICS_PORT') : null
    // Other processes that find the store locked are told where the API is.
    stores.lock?.announce({ http: `http://${config.host}:${httpPort}` })
    if (stores.embedded && !given) await bootstrapDevTenant(config, stores, crypto, print, httpPort)
    print(consoleBanner(`http://${config.host}:${httpPort}`))
    logger.info('mailroom started', { http: `${config.host}:${httpPort}`, smtp: `${config.host}:${smtpPort}`, database: stores.embedded ? 'embedded' : 'postgres' })
    let stopping: Promise<void> | undefined
    return {
      httpPort,
      smtpPort,
      metricsPort,
      stores,
      deps,
      stop() {
        stopping ??= (async () => {
          http.closeAllConnections?.()
          await Promise.all([
            new Promise<void>((r) => http.close(() => r())),
            new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r())),
            new Promise<void>((r) => (metricsHttp ? metricsHttp.close(() => r()) : r())),
          ])
          await closeStores()
        })()
        return stopping
      },
    }
  } catch (err) {
    http.close()
    metricsHttp?.close()
    smtp?.close()
    await closeStores()
    throw err
  }
}
