// What a message is before it is stored: parsed (mailparser in worker threads, time-limited,
// tenants taking turns at the threads) and its sender checked (SPF, DKIM, DMARC), side by side.
import { pgErrorCode } from '../../db/client.js'
import { FairQueue } from '../../lib/fair-queue.js'
import type { Logger } from '../../lib/log.js'
import { verifyMessage, type AuthResults, type DnsResolver } from '../../mail/sender-auth.js'
import type { MailParser } from '../parser.js'
import type { Analysis } from './types.js'

interface Sender {
  remoteIp: string | null
  helo: string | null
  mailFrom: string | null
}

/** When a message's parse started and ended (performance.now()), for the stage metrics. */
export interface ParseTiming {
  started?: number
  ended?: number
}

export class Analyzer {
  // Parses wait here, tenants taking turns, so one tenant's flood of (slow) mail cannot queue ahead
  // of another tenant's next message: the parse sits before the sender's 250.
  private readonly parseQueue: FairQueue

  constructor(private readonly o: { parser: MailParser; resolver: DnsResolver | null; log: Logger }) {
    // A parser that does not say how many parses it runs at once takes them all as they come; its
    // standby threads open only while parses stall.
    this.parseQueue = new FairQueue(o.parser.threads ?? Number.POSITIVE_INFINITY, { steady: o.parser.steadyThreads, slowMs: o.parser.standbyAfterMs })
  }

  /** Parses waiting for their tenant's turn at the parse threads. */
  get waiting(): number {
    return this.parseQueue.waiting
  }

  /**
   * Parses (in `key`'s turn) and verifies one message; never throws. `content`: whether to keep the
   * decoded attachment bytes (only large messages store them).
   */
  async analyse(key: string, bytes: Buffer, sender: Sender, content: boolean, timing?: ParseTiming): Promise<Analysis> {
    const [parseResult, auth] = await Promise.all([
      this.parseQueue
        .run(key, () => {
          if (timing) timing.started = performance.now()
          return this.o.parser.parse(bytes, { content }).finally(() => {
            if (timing) timing.ended = performance.now()
          })
        })
        .then(
          (p) => ({ ok: true as const, p }),
          (err: unknown) => ({ ok: false as const, err: String((err as Error)?.message ?? err) }),
        ),
      this.verify(bytes, sender).catch((err: unknown) => {
        this.o.log.warn('ingest: authentication checks failed', { err: String((err as Error)?.message ?? err) })
        return null
      }),
    ])
    return parseResult.ok ? { parsed: parseResult.p, parseError: null, auth } : { parsed: null, parseError: parseResult.err.slice(0, 500), auth }
  }

  private async verify(bytes: Buffer, s: Sender): Promise<AuthResults | null> {
    if (!this.o.resolver || !s.remoteIp) return null
    return verifyMessage(bytes, { ip: s.remoteIp, helo: s.helo ?? '', mailFrom: s.mailFrom ?? '', resolver: this.o.resolver })
  }

  /**
   * Parsed content the database refuses (a data error, not a lost connection) would fail the same
   * way on every retry: the analysis to store the message with instead, unparsed and flagged (null:
   * not that case, the error stands).
   */
  unparsedAfter(err: unknown, a: Analysis, rawId?: string): Analysis | null {
    if (!a.parsed || !isDataError(err)) return null
    const reason = String((err as { cause?: Error })?.cause?.message ?? (err as Error)?.message ?? err).slice(0, 300)
    this.o.log.warn('ingest: parsed content could not be stored, keeping the message unparsed', { rawId, err: reason })
    return { parsed: null, parseError: `parsed content could not be stored: ${reason}`, auth: a.auth }
  }
}

/** Postgres data exceptions (22xxx) and limits such as an index row too large (54xxx). */
function isDataError(err: unknown): boolean {
  return /^(22|54)/.test(pgErrorCode(err) ?? '')
}
