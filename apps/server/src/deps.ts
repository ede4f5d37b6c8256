// The dependency bag of one Mailroom process: stores, configuration, clock, logger and the
// long-lived parts (event hub, waits, ingest, workers, limiters, metrics). Built once by server.ts and
// handed to both doors (HTTP routes, the SMTP server) and the services they call.
import type { DbGate } from './db/gate.js'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import type { Clock } from './lib/clock.js'
import type { Logger } from './lib/log.js'
import type { TenantCrypto } from './crypto/service.js'
import type { Hub } from './events/hub.js'
import type { WaitRegistry } from './events/waits.js'
import type { HeldRequests } from './events/held.js'
import type { Ingest } from './messages/ingest/index.js'
import type { AttachmentDecoder } from './messages/attachment-decoder.js'
import type { ApiRequestMeter } from './usage/service.js'
import type { DeliveryWorker } from './delivery/worker.js'
import type { WebhookWorker } from './webhooks/worker.js'
import type { DnsResolver } from './mail/sender-auth.js'
import type { ApiRateLimiter } from './limits/api-rate.js'
import type { RecipientPolicies } from './smtp/recipient-policy.js'
import type { RecipientRouting } from './smtp/recipient-routing.js'
import type { KeyMemory } from './apikeys/key-memory.js'
import type { Metrics } from './lib/metrics.js'

export interface Deps {
  database: Database
  /** The owner connection (real Postgres): operator-only reads of the cluster (tenant placement). */
  owner?: Database
  config: Config
  clock: Clock
  log: Logger
  crypto: TenantCrypto
  hub: Hub
  /** Long-poll waits parked outside the HTTP framework until a match or their deadline. */
  waits: WaitRegistry
  /** Open waits and event streams per tenant and inbox (events/held.ts). */
  held: HeldRequests
  ingest: Ingest
  /** Decodes received attachments from the raw copy on read (its own thread, tenants taking turns). */
  attachments: AttachmentDecoder
  /** Counts API requests per tenant/inbox/day for usage metering. */
  usage: ApiRequestMeter
  /** Request-rate limits of the HTTP API per tenant and inbox key (limits/api-rate.ts). */
  rateLimiter: ApiRateLimiter
  /** Address -> inbox for the SMTP door's RCPT, kept until a change is announced (smtp/recipient-routing.ts). */
  routes: RecipientRouting
  /**
   * An inbox's limits, its tenant's and its sender rules, kept until they change
   * (smtp/recipient-policy.ts): what the SMTP door checks at RCPT, and the rates of API keys.
   */
  policies: RecipientPolicies
  /** What each presented API key stands for, kept until a change is announced (apikeys/key-memory.ts). */
  keys: KeyMemory
  /** Turns of the tenants' API requests (http/caller.ts tenantTurns; at most httpMaxInFlightPerTenant each). */
  requestTurns: DbGate
  /** Prometheus metrics of this process (lib/metrics.ts). */
  metrics: Metrics
  /** Outbound delivery workers (absent: sends stay queued until a worker runs). */
  delivery?: DeliveryWorker
  /** Webhook delivery workers (absent: deliveries stay pending until a worker runs). */
  webhooks?: WebhookWorker
  /** DNS for custom-domain verification (`node:dns` in production, a fake in tests). */
  resolver?: DnsResolver
}

