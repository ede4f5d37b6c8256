// The one place that reads the environment. Everything else receives a Config.
import { availableParallelism } from 'node:os'
import { z } from 'zod'

const port = z.coerce.number().int().min(0).max(65535)

const postgresUrl = z
  .string()
  .refine((s) => {
    try {
      const u = new URL(s)
      return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.pathname.length > 1
    } catch {
      return false
    }
  }, 'must be a postgres:// URL with a database name, e.g. postgres://user@127.0.0.1:5432/mailroom')

const domain = z
  .string()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a domain name')

const EnvSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  MAILROOM_RUNTIME_DATABASE_URL: postgresUrl.optional(),
  MAILROOM_RUNTIME_DB_PASSWORD: z.string().min(1).optional(),
  MAILROOM_DATA_DIR: z.string().min(1).default('./.mailroom'),
  MAILROOM_HTTP_PORT: port.default(3000),
  MAILROOM_SMTP_PORT: port.default(2525),
  MAILROOM_HOST: z.string().min(1).default('127.0.0.1'),
  MAILROOM_DOMAIN: domain.default('mailroom.localhost'),
  MAILROOM_MASTER_KEY: z.string().optional(),
  MAILROOM_OPERATOR_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  MAILROOM_MASTER_KEY_OLD: z.string().optional(),
  MAILROOM_RELAY_URL: z.string().url().optional(),
  MAILROOM_DELIVERY_MODE: z.enum(['relay', 'mx']).optional(),
  MAILROOM_MX_PORT: port.default(25),
  MAILROOM_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).max(200 * 1024 * 1024).default(25 * 1024 * 1024),
  MAILROOM_SMTP_TLS_KEY: z.string().optional(),
  MAILROOM_SMTP_TLS_CERT: z.string().optional(),
  MAILROOM_SMTP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(100),
  MAILROOM_SMTP_MAX_RECIPIENTS: z.coerce.number().int().min(1).max(10_000).default(100),
  MAILROOM_SMTP_ROUTE_CACHE_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  MAILROOM_KEY_CACHE_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  MAILROOM_SMTP_IDLE_SECONDS: z.coerce.number().min(1).max(3600).default(60),
  MAILROOM_SMTP_SESSION_SECONDS: z.coerce.number().min(1).max(86_400).default(600),
  MAILROOM_SMTP_MAX_COMMANDS: z.coerce.number().int().min(10).default(1000),
  MAILROOM_SMTP_MAX_ERRORS: z.coerce.number().int().min(1).default(20),
  MAILROOM_API_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).default(100),
  MAILROOM_API_BURST: z.coerce.number().int().min(1).default(200),
  MAILROOM_DB_POOL_SIZE: z.coerce.number().int().min(2).max(1000).default(10),
  MAILROOM_DB_MAX_PER_TENANT: z.coerce.number().int().min(1).optional(),
  MAILROOM_DB_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(2000),
  MAILROOM_INGEST_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(20),
  // One request per core per tenant at a time (bench/README, "HTTP flood"): more in flight adds no
  // throughput on a CPU-bound server, only turns on the event loop that others wait behind.
  MAILROOM_HTTP_MAX_IN_FLIGHT_PER_TENANT: z.coerce.number().int().min(0).max(10_000).default(() => availableParallelism()),
  MAILROOM_METRICS_PORT: port.optional(),
  MAILROOM_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  MAILROOM_MAX_HELD_PER_TENANT: z.coerce.number().int().min(1).default(5000),
  MAILROOM_MAX_HELD_PER_INBOX: z.coerce.number().int().min(1).default(100),
  MAILROOM_INBOUND_AUTH: z.enum(['on', 'off']).default('on'),
  MAILROOM_RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(3600),
  MAILROOM_INGEST_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  MAILROOM_DKIM_SELECTOR: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/i, 'must be a DNS label').default('mailroom'),
  MAILROOM_DKIM_PRIVATE_KEY: z.string().optional(),
  MAILROOM_IP_POOLS: z
    .string()
    .regex(/^\s*[a-z0-9_-]+=[0-9a-f.:,\s]+(;\s*[a-z0-9_-]+=[0-9a-f.:,\s]+)*;?\s*$/i, 'must look like shared=192.0.2.10;premium=192.0.2.20,192.0.2.21')
    .optional(),
  MAILROOM_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  MAILROOM_DELIVERY_TENANT_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(8),
  MAILROOM_WEBHOOK_ALLOW_PRIVATE: z.enum(['none', 'loopback', 'private']).default('none'),
  MAILROOM_WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(10),
  MAILROOM_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  MAILROOM_WEBHOOK_TENANT_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(4),
  MAILROOM_WEBHOOK_DISABLE_AFTER_SECONDS: z.coerce.number().int().min(60).default(3 * 86400),
  MAILROOM_WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(0).default(0),
  MAILROOM_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
})

export interface Config {
  /** Owner connection (migrations). Unset: embedded PGlite under dataDir. */
  databaseUrl: string | undefined
  /** Connection the server runs its queries on, as the runtime role. */
  runtimeDatabaseUrl: string | undefined
  /** Password `migrate` sets on the runtime role (and the derived runtime URL uses). */
  runtimeDbPassword: string | undefined
  dataDir: string
  httpPort: number
  smtpPort: number
  host: string
  domain: string
  masterKey: string | undefined
  /** Older master keys (comma-separated in the env), still accepted for unwrapping during rotation. */
  masterKeyOld: string[]
  /** Hard cap on one message's size; tenants may set lower. */
  maxMessageBytes: number
  smtpTls: { keyPath: string; certPath: string } | null
  smtpMaxConnectionsPerIp: number
  /** Recipients one message may have (more get `452 4.5.3`). */
  smtpMaxRecipients: number
  /**
   * How long the SMTP door keeps an address's route in memory (0: looked up at every RCPT). A
   * change of routes is announced to every process at once (smtp/recipient-routing.ts): this
   * bounds how long one missed notification could matter.
   */
  smtpRouteCacheSeconds: number
  /**
   * How long the HTTP door keeps what a presented API key stands for (0: looked up at every
   * request). A key revoked, an inbox deleted, a tenant suspended, resumed or deleted is announced
   * to every process at once (apikeys/key-memory.ts): this bounds how long one missed notification
   * could matter.
   */
  keyCacheSeconds: number
  /** A connection that completes no command (nor sends message data) for this long is closed. */
  smtpIdleSeconds: number
  /** The longest one SMTP connection may stay open, whatever it does. */
  smtpSessionSeconds: number
  /** Commands one SMTP connection may send; past it, it is closed. */
  smtpMaxCommands: number
  /** Refused commands (4xx/5xx answers) one SMTP connection may collect before it is closed. */
  smtpMaxErrors: number
  /** Deployment defaults of the API request rate (per tenant), when its limits set none. */
  apiRequestsPerSecond: number
  apiBurst: number
  /** Connections of the runtime pool (real Postgres). */
  dbPoolSize: number
  /** Transactions one tenant may hold at once of that pool; the others wait their turn. */
  dbMaxPerTenant: number
  /** How long a request may wait for a database connection before it is refused with 503. */
  dbQueueTimeoutMs: number
  /** How long an ingest batch may wait for the same tenant's messages still being parsed (0: never). */
  ingestBatchWaitMs: number
  /** API requests of one tenant handled at once on this server (0: no cap); the rest wait their turn. */
  httpMaxInFlightPerTenant: number
  /** Serve /metrics without a key on this port of its own (unset: /metrics on the API port, operator key). */
  metricsPort: number | undefined
  metricsHost: string
  /** Requests held open at once on this server (long-poll waits, event streams), per tenant and per inbox. */
  maxHeldPerTenant: number
  maxHeldPerInbox: number
  /** Verify SPF/DKIM/DMARC of inbound mail (needs DNS). */
  inboundAuth: boolean
  /** How often the retention purge runs. */
  retentionIntervalSeconds: number
  /** How long a parse job stays leased to the process that took the message before another may take it over. */
  ingestLeaseSeconds: number
  operatorKey: string | undefined
  relayUrl: string | undefined
  /**
   * How external mail leaves: `relay` through relayUrl (held when none is set), `mx` directly to the
   * recipient domain's MX hosts (A record when there is no MX; a null MX bounces).
   */
  deliveryMode: 'relay' | 'mx'
  /** Port of the MX hosts in `mx` mode (25; tests point it at a local sink). */
  mxPort: number
  /** DKIM selector of the deployment key that signs mail from the default domain. */
  dkimSelector: string
  /** The deployment DKIM key: a PEM, or a path to one. Unset: generated into dataDir on first start. */
  dkimPrivateKey: string | undefined
  /** Source addresses external delivery binds to, by pool name (`shared` is the default pool). */
  ipPools: Record<string, string[]>
  /** Deliveries in flight per process, and per tenant across the deployment. */
  deliveryConcurrency: number
  deliveryTenantInFlight: number
  /** Webhook targets on loopback (`loopback`) or also private ranges (`private`); link-local and metadata addresses never. */
  webhookAllowPrivate: 'none' | 'loopback' | 'private'
  webhookTimeoutSeconds: number
  /** Webhook requests in flight per process, and per tenant across the deployment. */
  webhookConcurrency: number
  webhookTenantInFlight: number
  /** An endpoint failing without a success for this long is disabled (and a delivery older than this stops retrying). */
  webhookDisableAfterSeconds: number
  /** ... or after this many consecutive failures (0: only the time window). */
  webhookDisableAfterFailures: number
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
}

export const RUNTIME_ROLE = 'mailroom_app'

/** The runtime URL: the owner URL with the runtime role as user (password from the env, if any). */
export function deriveRuntimeUrl(ownerUrl: string, password?: string): string {
  const u = new URL(ownerUrl)
  u.username = RUNTIME_ROLE
  u.password = password ?? ''
  return u.toString()
}

export class ConfigError extends Error {}

/** `shared=192.0.2.10;premium=192.0.2.20,192.0.2.21` -> { shared: [...], premium: [...] } */
export function parseIpPools(value: string | undefined): Record<string, string[]> {
  const pools: Record<string, string[]> = {}
  for (const part of (value ?? '').split(';')) {
    const [name, addrs] = part.split('=')
    if (!name?.trim() || !addrs) continue
    pools[name.trim().toLowerCase()] = addrs.split(',').map((a) => a.trim()).filter(Boolean)
  }
  return pools
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = EnvSchema.safeParse(cleaned)
  if (parsed.success && Boolean(parsed.data.MAILROOM_SMTP_TLS_KEY) !== Boolean(parsed.data.MAILROOM_SMTP_TLS_CERT)) {
    throw new ConfigError('invalid configuration: MAILROOM_SMTP_TLS_KEY and MAILROOM_SMTP_TLS_CERT go together')
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`invalid configuration: ${issue.path.join('.')} ${issue.message}`)
  }
  const e = parsed.data
  return {
    databaseUrl: e.DATABASE_URL,
    runtimeDatabaseUrl:
      e.MAILROOM_RUNTIME_DATABASE_URL ??
      (e.DATABASE_URL ? deriveRuntimeUrl(e.DATABASE_URL, e.MAILROOM_RUNTIME_DB_PASSWORD) : undefined),
    runtimeDbPassword: e.MAILROOM_RUNTIME_DB_PASSWORD,
    dataDir: e.MAILROOM_DATA_DIR,
    httpPort: e.MAILROOM_HTTP_PORT,
    smtpPort: e.MAILROOM_SMTP_PORT,
    host: e.MAILROOM_HOST,
    domain: e.MAILROOM_DOMAIN,
    masterKey: e.MAILROOM_MASTER_KEY,
    masterKeyOld: (e.MAILROOM_MASTER_KEY_OLD ?? '').split(',').map((k) => k.trim()).filter(Boolean),
    maxMessageBytes: e.MAILROOM_MAX_MESSAGE_BYTES,
    smtpTls: e.MAILROOM_SMTP_TLS_KEY && e.MAILROOM_SMTP_TLS_CERT ? { keyPath: e.MAILROOM_SMTP_TLS_KEY, certPath: e.MAILROOM_SMTP_TLS_CERT } : null,
    smtpMaxConnectionsPerIp: e.MAILROOM_SMTP_MAX_CONNECTIONS_PER_IP,
    smtpMaxRecipients: e.MAILROOM_SMTP_MAX_RECIPIENTS,
    smtpRouteCacheSeconds: e.MAILROOM_SMTP_ROUTE_CACHE_SECONDS,
    keyCacheSeconds: e.MAILROOM_KEY_CACHE_SECONDS,
    smtpIdleSeconds: e.MAILROOM_SMTP_IDLE_SECONDS,
    smtpSessionSeconds: e.MAILROOM_SMTP_SESSION_SECONDS,
    smtpMaxCommands: e.MAILROOM_SMTP_MAX_COMMANDS,
    smtpMaxErrors: e.MAILROOM_SMTP_MAX_ERRORS,
    apiRequestsPerSecond: e.MAILROOM_API_REQUESTS_PER_SECOND,
    apiBurst: e.MAILROOM_API_BURST,
    dbPoolSize: e.MAILROOM_DB_POOL_SIZE,
    dbMaxPerTenant: Math.min(e.MAILROOM_DB_POOL_SIZE, e.MAILROOM_DB_MAX_PER_TENANT ?? Math.max(1, Math.ceil(e.MAILROOM_DB_POOL_SIZE / 2))),
    dbQueueTimeoutMs: e.MAILROOM_DB_QUEUE_TIMEOUT_MS,
    ingestBatchWaitMs: e.MAILROOM_INGEST_BATCH_WAIT_MS,
    httpMaxInFlightPerTenant: e.MAILROOM_HTTP_MAX_IN_FLIGHT_PER_TENANT,
    metricsPort: e.MAILROOM_METRICS_PORT,
    metricsHost: e.MAILROOM_METRICS_HOST,
    maxHeldPerTenant: e.MAILROOM_MAX_HELD_PER_TENANT,
    maxHeldPerInbox: e.MAILROOM_MAX_HELD_PER_INBOX,
    inboundAuth: e.MAILROOM_INBOUND_AUTH === 'on',
    retentionIntervalSeconds: e.MAILROOM_RETENTION_INTERVAL_SECONDS,
    ingestLeaseSeconds: e.MAILROOM_INGEST_LEASE_SECONDS,
    operatorKey: e.MAILROOM_OPERATOR_KEY,
    relayUrl: e.MAILROOM_RELAY_URL,
    deliveryMode: e.MAILROOM_DELIVERY_MODE ?? 'relay',
    mxPort: e.MAILROOM_MX_PORT,
    dkimSelector: e.MAILROOM_DKIM_SELECTOR,
    dkimPrivateKey: e.MAILROOM_DKIM_PRIVATE_KEY,
    ipPools: parseIpPools(e.MAILROOM_IP_POOLS),
    deliveryConcurrency: e.MAILROOM_DELIVERY_CONCURRENCY,
    deliveryTenantInFlight: e.MAILROOM_DELIVERY_TENANT_IN_FLIGHT,
    webhookAllowPrivate: e.MAILROOM_WEBHOOK_ALLOW_PRIVATE,
    webhookTimeoutSeconds: e.MAILROOM_WEBHOOK_TIMEOUT_SECONDS,
    webhookConcurrency: e.MAILROOM_WEBHOOK_CONCURRENCY,
    webhookTenantInFlight: e.MAILROOM_WEBHOOK_TENANT_IN_FLIGHT,
    webhookDisableAfterSeconds: e.MAILROOM_WEBHOOK_DISABLE_AFTER_SECONDS,
    webhookDisableAfterFailures: e.MAILROOM_WEBHOOK_DISABLE_AFTER_FAILURES,
    logLevel: e.MAILROOM_LOG_LEVEL,
  }
}
