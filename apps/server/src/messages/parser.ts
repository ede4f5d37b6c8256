// Parsing off the accept path: mailparser runs in worker threads with a time limit, so one slow
// or hostile message cannot hold up the rest (or the event loop).
import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import type { StoredAddress } from './tables.js'
import type { ContentScore } from '../safety/score.js'
import { parseWorkerFile } from './worker-file.js'

export interface ParsedAttachment {
  filename: string | null
  contentType: string
  size: number
  contentId: string | null
  inline: boolean
  /** MD5 (hex) of the decoded content, as mailparser computes it. */
  checksum: string
  /** The decoded bytes; absent when parsed with `{ content: false }`. */
  content?: Uint8Array
}

export interface ParsedMessage {
  headers: { name: string; value: string }[]
  subject: string | null
  from: StoredAddress | null
  to: StoredAddress[]
  cc: StoredAddress[]
  replyTo: StoredAddress[]
  date: string | null
  text: string | null
  html: string | null
  messageId: string | null
  inReplyTo: string | null
  references: string[]
  attachments: ParsedAttachment[]
  /** What the inbound-safety scorer read in the content (phase one, done in the parse thread). */
  safety?: ContentScore
}

export interface ParseOptions {
  /** false: attachments come back without their bytes (size and checksum only). Default true. */
  content?: boolean
  /** false: skip the safety scorer (re-parsing a stored message to decode its attachments). Default true. */
  score?: boolean
}

export interface MailParser {
  parse(raw: Buffer, opts?: ParseOptions): Promise<ParsedMessage>
  close(): Promise<void>
  /** How many parses it runs at once (its threads); callers queue the rest themselves. */
  readonly threads?: number
  /**
   * Of those, how many to run at once while parses move (default: all); the rest are for when parses
   * stall (a message slow to parse), so callers open them only then (FairQueue's `steady`).
   */
  readonly steadyThreads?: number
  /** A parse running longer than this opens a standby thread (default 50 ms; a 15 KB message parses in 1-3). */
  readonly standbyAfterMs?: number
}

/**
 * By default one parse thread fewer than the machine has cores (at least one, at most four) run
 * at once, the main thread and Postgres keeping a core, plus one thread standing by for slow parses.
 * On 2 cores: one parse at a time, on one warm thread, against two before: 7.4 -> 6.6 ms of the
 * machine's CPU per message in the ingest bench at the same messages/s; alternated, the wake-up
 * bench could not tell the two apart (bench/README, 2026-12-04, evening). After the threads idle
 * out (five minutes), the first parse's cold start runs past 50 ms and opens the standby, so both
 * threads warm up then, as both always did before.
 */
export function createParser(opts: { threads?: number; steadyThreads?: number; timeoutMs?: number } = {}): MailParser {
  const steadyDefault = Math.max(1, Math.min(4, availableParallelism() - 1))
  const threads = opts.threads ?? steadyDefault + 1
  const steadyThreads = Math.min(threads, opts.steadyThreads ?? (opts.threads ? threads : steadyDefault))
  const timeoutMs = opts.timeoutMs ?? 15_000
  // atomics 'disabled': tasks reach the threads as plain messages. With Piscina's default ('sync':
  // threads block in Atomics.wait between tasks) 16 concurrent parses of the bench's messages took
  // 5.6 ms each instead of 1.7 ms on this 2-core machine.
  // No thread until mail arrives (an idle one holds about 14 MB); once started, a thread stays five
  // minutes after its last parse, because parsing is on the accept path and a cold start costs
  // the next sender about 0.4 s.
  // The pool is made on the first parse: its worker file may have to be bundled first (worker-file.ts).
  let pool: Promise<Piscina> | null = null
  const poolOf = () =>
    (pool ??= parseWorkerFile().then((filename) => new Piscina({ filename, minThreads: 0, maxThreads: threads, idleTimeout: 300_000, atomics: 'disabled' })))
  return {
    threads,
    steadyThreads,
    async parse(raw, opts) {
      const p = await poolOf()
      // A timer cleared when the parse ends. AbortSignal.timeout() would leave one running per
      // message for the whole timeout, each firing (and building a DOMException) long after its parse.
      const abort = new AbortController()
      const timer = setTimeout(() => abort.abort(), timeoutMs)
      try {
        const task = opts?.content === false || opts?.score === false ? { raw, content: opts.content !== false, score: opts.score !== false } : raw
        return (await p.run(task, { signal: abort.signal })) as ParsedMessage
      } catch (err) {
        if (abort.signal.aborted) throw new Error(`parsing took longer than ${timeoutMs} ms`)
        throw err
      } finally {
        clearTimeout(timer)
      }
    },
    async close() {
      if (pool) await (await pool).destroy()
    },
  }
}
