// One LISTEN connection per process, fanned out in memory: a commit on any node wakes the waiters
// and stream subscribers of this node whose inbox or tenant it concerns.
import type { Database } from '../db/client.js'
import type { Logger } from '../lib/log.js'
import type { Cipher } from '../crypto/service.js'
import type { MessageRow } from '../messages/tables.js'
import type { AttachmentMeta } from '../messages/service.js'

export const MAIL_CHANNEL = 'mailroom_mail'

export interface Arrival {
  tenantId: string
  inboxId: string
  /** inbox seq of the message that became visible */
  seq: number
  /** tenant event seq of its event */
  eventSeq: number
  /**
   * Set only on arrivals committed by this process (`arrivedHere`): the message as it was stored,
   * so a wait can be answered without reading it back. Never on notifications from the database.
   */
  stored?: StoredArrival
}

/** A committed message as its transaction wrote it: the row, its attachments, its tenant's cipher. */
export interface StoredArrival {
  row: MessageRow
  atts: AttachmentMeta[]
  cipher: Cipher
}

type Listener = (a: Arrival) => void

/** Arrivals of a transaction of this process about to commit (Hub.committing): how it ended. */
export interface Committing {
  /** It committed: its inboxes' waiters hear of it now, with the stored messages. */
  committed(): void
  /** It failed (or its outcome is unknown): a notification held for it meanwhile goes out as it came. */
  failed(): void
}

/** A pending arrival of this process, and the database's notification of it if that came first. */
interface Pending {
  held: Arrival | null
}

/** Inboxes whose highest heard seq is kept (the least recently heard are forgotten past this). */
const HEARD_INBOXES = 100_000

export class Hub {
  private readonly byInbox = new Map<string, Set<Listener>>()
  private readonly byTenant = new Map<string, Set<Listener>>()
  /** Per inbox, the highest seq heard of while listening (a notification or a commit of this process). */
  private readonly heard = new Map<string, { tenantId: string; seq: number }>()
  /** Arrivals of this process's transactions between their last statement and their COMMIT's answer, by inbox and seq. */
  private readonly pending = new Map<string, Pending>()
  private stopListening: (() => Promise<void>) | null = null
  /**
   * Moves whenever listening starts, stops or resumes after a lost connection: a look that began
   * at one value and ended at the same one ran while this process listened throughout (`looked`).
   */
  private generation = 0

  constructor(private readonly log: Logger) {}

  async start(database: Database): Promise<void> {
    this.stopListening = await database.listen(
      MAIL_CHANNEL,
      (payload) => this.dispatch(payload),
      () => this.resync(),
    )
    this.generation++
  }

  /**
   * The listening connection was lost and is back: arrivals notified meanwhile were not heard, so
   * every waiter and stream of this process looks again from its cursor (a look finds nothing new
   * when nothing came).
   */
  resync(): void {
    this.log.info('listening again after a lost database connection: waiters look again')
    this.generation++
    this.heard.clear()
    for (const [inboxId, set] of this.byInbox) for (const l of [...set]) l({ tenantId: '', inboxId, seq: Number.MAX_SAFE_INTEGER, eventSeq: Number.MAX_SAFE_INTEGER })
    for (const [tenantId, set] of this.byTenant) for (const l of [...set]) l({ tenantId, inboxId: '', seq: Number.MAX_SAFE_INTEGER, eventSeq: Number.MAX_SAFE_INTEGER })
  }

  async stop(): Promise<void> {
    await this.stopListening?.()
    this.stopListening = null
    this.generation++
    this.heard.clear()
  }

  /**
   * The highest seq of the tenant's inbox this process has heard of while listening, or null (none
   * heard, or not listening). Every arrival past it is still to be heard: a listener added now hears
   * it, so a wait whose cursor is at or past this seq has nothing to look for yet.
   */
  heardUpTo(tenantId: string, inboxId: string): number | null {
    const h = this.stopListening ? this.heard.get(inboxId) : undefined
    return h && h.tenantId === tenantId ? h.seq : null
  }

  /** Taken before a look reads an inbox's counter, for `looked`: null when not listening. */
  lookBegins(): number | null {
    return this.stopListening ? this.generation : null
  }

  /**
   * A look read the tenant's inbox's counter at `seq`, under the tenant's row-level security (so the
   * inbox is the tenant's), having begun at `begun` (lookBegins). When this process listened
   * throughout, every arrival past `seq` commits after that read and is still to be heard, as if
   * `seq` had been heard: a re-poll whose cursor is there needs no look, also in an inbox that has
   * had no mail since this process started (the usual idle agent's).
   */
  looked(begun: number | null, tenantId: string, inboxId: string, seq: number): void {
    // Listening when it began (not null), and neither stopped nor lost since (the same generation).
    if (begun === null || begun !== this.generation) return
    this.remember(tenantId, inboxId, seq)
  }

  private hear(a: Arrival) {
    // seq 0: a notification about the inbox that is no arrival (a sent message's status).
    if (a.seq <= 0 || !a.tenantId) return
    this.remember(a.tenantId, a.inboxId, a.seq)
  }

  private remember(tenantId: string, inboxId: string, seq: number) {
    const h = this.heard.get(inboxId)
    if (h && h.seq >= seq) return
    // Re-inserted, so the map's order is the order heard: the first entry is the one to forget.
    this.heard.delete(inboxId)
    this.heard.set(inboxId, { tenantId, seq })
    if (this.heard.size > HEARD_INBOXES) this.heard.delete(this.heard.keys().next().value!)
  }

  get waiterCount(): number {
    let n = 0
    for (const s of this.byInbox.values()) n += s.size
    return n
  }

  private dispatch(payload: string) {
    let a: Arrival
    try {
      const v = JSON.parse(payload) as { t: string; i: string; s: number; e: number }
      a = { tenantId: v.t, inboxId: v.i, seq: v.s, eventSeq: v.e }
    } catch {
      this.log.warn('bad notification payload', { payload })
      return
    }
    this.hear(a)
    // This process committed it and is about to tell its waiters with the stored message: the
    // notification (which can overtake the COMMIT's answer) waits for that, or goes out if it fails.
    const pending = this.pending.get(pendingKey(a.inboxId, a.seq))
    if (pending) pending.held = a
    else this.toInbox(a)
    for (const l of this.byTenant.get(a.tenantId) ?? []) l(a)
  }

  private toInbox(a: Arrival) {
    for (const l of this.byInbox.get(a.inboxId) ?? []) l(a)
  }

  /**
   * A transaction of this process is about to commit these arrivals. Postgres delivers the
   * notifications of a commit at the moment it answers the COMMIT, and this process may read the
   * listening connection first: the inbox's waiters would then hear of the message without it and
   * read it back. Until the returned handle is settled, such a notification is held: `committed()`
   * tells the waiters with the stored messages (arrivedHere) and drops it; `failed()` lets it go
   * out as it came (a commit whose answer was lost still reaches its waiters). Settle it in every case.
   */
  committing(arrivals: Arrival[]): Committing {
    const mine = arrivals.map((a) => {
      const key = pendingKey(a.inboxId, a.seq)
      const entry: Pending = { held: null }
      this.pending.set(key, entry)
      return { key, entry }
    })
    let settled = false
    const release = (): Arrival[] => {
      settled = true
      const held: Arrival[] = []
      for (const { key, entry } of mine) {
        if (this.pending.get(key) === entry) this.pending.delete(key)
        if (entry.held) held.push(entry.held)
      }
      return held
    }
    return {
      committed: () => {
        if (settled) return
        const held = release()
        try {
          this.arrivedHere(arrivals)
        } catch (err) {
          // Told nobody: what the database said goes out instead (the waiters read the message).
          for (const a of held) this.toInbox(a)
          throw err
        }
      },
      failed: () => {
        if (settled) return
        for (const a of release()) this.toInbox(a)
      },
    }
  }

  /**
   * Messages this process has just committed: their inboxes' waiters hear of them at once, with the
   * stored message, instead of after the notification's trip through the database and a read. The
   * notification still comes (for every other node, and for streams); a waiter that already moved
   * past that seq ignores it.
   */
  arrivedHere(arrivals: Arrival[]): void {
    for (const a of arrivals) {
      this.hear(a)
      for (const l of this.byInbox.get(a.inboxId) ?? []) l(a)
    }
  }

  onInbox(inboxId: string, l: Listener): () => void {
    return add(this.byInbox, inboxId, l)
  }

  onTenant(tenantId: string, l: Listener): () => void {
    return add(this.byTenant, tenantId, l)
  }
}

const pendingKey = (inboxId: string, seq: number) => `${inboxId}:${seq}`

function add(map: Map<string, Set<Listener>>, key: string, l: Listener): () => void {
  let set = map.get(key)
  if (!set) map.set(key, (set = new Set()))
  set.add(l)
  return () => {
    set!.delete(l)
    if (set!.size === 0 && map.get(key) === set) map.delete(key)
  }
}

/** The payload an ingest transaction sends with pg_notify (delivered on commit). */
export const arrivalPayload = (a: Arrival) => JSON.stringify({ t: a.tenantId, i: a.inboxId, s: a.seq, e: a.eventSeq })
