// What the ingest path passes between its parts: recipients, envelopes, a message waiting for its
// commit, its analysis (parse + sender authentication), and the rows it becomes.
import type { Database, Tx } from '../../db/client.js'
import type { TenantCrypto, Cipher } from '../../crypto/service.js'
import type { Clock } from '../../lib/clock.js'
import type { Logger } from '../../lib/log.js'
import type { Arrival, Committing } from '../../events/hub.js'
import type { Metrics } from '../../lib/metrics.js'
import type { DnsResolver, AuthResults } from '../../mail/sender-auth.js'
import type { MailParser, ParsedMessage } from '../parser.js'
import type { attachments, MessageRow } from '../tables.js'
import type { SearchRow } from '../search.js'

export interface Recipient {
  tenantId: string
  inboxId: string
  address: string
  /** From a sender blocked with blockMode `hide`: stored, but kept out of lists, waits and events. */
  hidden?: boolean
  /**
   * The allow list the envelope sender passed at RCPT (rules/service.ts allowListOf): the message's
   * From must pass it too, verified, or the copy is quarantined (verdicts.ts).
   */
  allowList?: string[]
  /**
   * The block rules' patterns (rules/service.ts blockListOf), which the envelope sender did not
   * match: a copy whose From matches one is kept hidden (verdicts.ts).
   */
  blockList?: string[]
}

/** A tenant's storage or daily quota refused the message (nothing was stored for anyone). */
export class QuotaError extends Error {
  constructor(
    readonly kind: 'storage' | 'daily',
    readonly tenantId: string,
  ) {
    super(kind === 'storage' ? 'storage quota exceeded' : 'daily message quota reached')
  }
}

export interface Envelope {
  mailFrom: string | null
  remoteIp: string | null
  helo: string | null
  /** Outbound copies delivered internally are stored as sent by the platform itself. */
  direction?: 'inbound' | 'outbound'
}

export interface IngestOptions {
  database: Database
  crypto: TenantCrypto
  parser: MailParser
  log: Logger
  /** Business time (usage days); default: the system clock. */
  clock?: Clock
  /** The deployment's own domain (MAILROOM_DOMAIN): a tenant's own too, for the safety verdict's sender checks. */
  platformDomain?: string
  /** null: skip SPF/DKIM/DMARC (results stay null). */
  resolver: DnsResolver | null
  /** How long a claimed parse job is leased before another worker may take it over. */
  leaseSeconds?: number
  /** Parallel background parses (large messages) in this process. */
  concurrency?: number
  /**
   * Messages up to this size are parsed before they are stored and become visible in the
   * transaction that stores them; larger ones are stored pending and parsed afterwards. Default 1 MiB.
   */
  inlineMaxBytes?: number
  /** At most this many messages share one transaction (default 64). */
  maxBatch?: number
  /**
   * How long a batch may wait for messages of the same tenant still being parsed, so they share its
   * transaction (default 20 ms; 0: never wait).
   */
  gatherMs?: number
  /** Transactions committing batches at the same time, each for another tenant (default 4). */
  committers?: number
  /**
   * Called for each parsed inbound copy inside the transaction that commits it (after it is stored),
   * in a savepoint: a throw is logged and rolled back on its own, the message is stored regardless.
   */
  onParsed?: (tx: Tx, cipher: Cipher, tenantId: string, row: MessageRow, parsed: ParsedMessage, raw: Buffer) => Promise<void>
  /** Which parsed messages onParsed wants (others skip the savepoint). Default: all. */
  onParsedWants?: (parsed: ParsedMessage) => boolean
  /**
   * This process's waiters (the Hub): told of the messages each transaction makes visible (in seq
   * order per inbox) just before its COMMIT, and of its outcome once answered (Hub.committing). A
   * throw is logged: the messages are stored regardless.
   */
  waiters?: { committing(arrivals: Arrival[]): Committing }
  /** Counts messages accepted and parsed, and times the stages of each before its 250. */
  metrics?: Pick<Metrics, 'messagesAccepted' | 'messagesParsed' | 'ingestStages' | 'ingestBatchSteps' | 'ingestBatchMessages'>
}

export type Stored = { tenantId: string; rawId: string; messageIds: string[] }

/** What parsing and verification made of a message before it is stored. */
export interface Analysis {
  parsed: ParsedMessage | null
  parseError: string | null
  auth: AuthResults | null
}

/** One accepted message waiting for the group commit. */
export interface Item {
  /** Recipients by tenant, tenants in id order (concurrent multi-tenant messages lock rows in one order). */
  tenants: [string, Recipient[]][]
  raw: Buffer
  sha256: string
  env: Envelope
  /** null: too large to parse first, stored pending for the background parse. */
  analysis: Analysis | null
  resolve: (stored: Stored[]) => void
  reject: (err: unknown) => void
  /** When a committer took it into a batch (performance.now()), for the stage metrics. */
  takenAt?: number
}

/** One tenant's recipients of one item. */
export type Part = { item: Item; recipients: Recipient[] }
export type AttachmentInsert = typeof attachments.$inferInsert

/** A message row about to become visible, with what to write into it. */
export interface Visible {
  row: MessageRow
  analysis: Analysis
  attachments: AttachmentInsert[]
  /** Its blind-index row (null: no words to index). */
  search: SearchRow | null
  /** Why the quarantine policy held it back from the agent (when it did). */
  quarantineReason?: string
  /**
   * Received mail that puts the inbox in conversation with its sender (judge, verdicts.ts): a
   * verified sender, not quarantined, not hidden.
   */
  verifiedSender?: boolean
}
