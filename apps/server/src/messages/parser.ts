// Parsing off the accept path: mailparser runs in worker threads with a time limit, so one slow
// or hostile message cannot hold up the rest (or the event loop).
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import type { StoredAddress } from './tables.js'

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
}

export interface ParseOptions {
  /** false: attachments come back without their bytes (size and checksum only). Default true. */
  content?: boolean
}

export interface MailParser {
  parse(raw: Buffer, opts?: ParseOptions): Promise<ParsedMessage>
  close(): Promise<void>
  /** How many parses it runs at once (its threads); callers queue the rest themselves. */
  readonly threads?: number
}

const WORKER = fileURLToPath(new URL('./parse-worker.mjs', import.meta.url))

export function createParser(opts: { threads?: number; timeoutMs?: number } = {}): MailParser {
  const threads = opts.threads ?? Math.max(1, Math.min(4, availableParallelism()))
  const timeoutMs = opts.timeoutMs ?? 15_000
  // atomics 'disabled': tasks reach the threads as plain messages. With Piscina's default ('sync':
  // threads block in Atomics.wait between tasks) 16 concurrent parses of the bench's messages took
  // 5.6 ms each instead of 1.7 ms on this 2-core machine.
  // No thread until mail arrives (an idle one holds about 14 MB); once started, a thread stays five
  // minutes after its last parse, because parsing is on the accept path and a cold start costs
  // the next sender about 0.4 s.
  const pool = new Piscina({ filename: WORKER, minThreads: 0, maxThreads: threads, idleTimeout: 300_000, atomics: 'disabled' })
  return {
    threads,
    async parse(raw, opts) {
      // A timer cleared when the parse ends. AbortSignal.timeout() would leave one running per
      // message for the whole timeout, each firing (and building a DOMException) long after its parse.
      const abort = new AbortController()
      const timer = setTimeout(() => abort.abort(), timeoutMs)
      try {
        return (await pool.run(opts?.content === false ? { raw, content: false } : raw, { signal: abort.signal })) as ParsedMessage
      } catch (err) {
        if (abort.signal.aborted) throw new Error(`parsing took longer than ${timeoutMs} ms`)
        throw err
      } finally {
        clearTimeout(timer)
      }
    },
    async close() {
      await pool.destroy()
    },
  }
}
