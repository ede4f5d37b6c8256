// waitForMessage on the server: a long-poll with cursor semantics. The cursor is the inbox's
// commit-ordered arrival counter (inboxes.last_seq), so a message that arrives between two polls
// is never missed and one from before the wait is never returned.
import { and, asc, eq, gt, gte, lte } from 'drizzle-orm'
import { sql } from 'drizzle-orm'
import { RE2JS } from 're2js'
import { WaitResponse, type MatchMode, type WaitQuery } from '@mailroom/contract'
import type { Database } from '../db/client.js'
import { rawRows } from '../db/client.js'
import { withTenant, type TenantScope } from '../db/scope.js'
import type { Cipher, TenantCrypto } from '../crypto/service.js'
import type { Hub } from '../events/hub.js'
import { risksUpTo } from '../policies/service.js'
import type { Logger } from '../lib/log.js'
import { ServiceError, notFound } from '../errors.js'
import { messages, type MessageRow } from './tables.js'
import { attachmentsOf, ctx, messageToWire, type AttachmentMeta } from './service.js'

export interface WaitCursor {
  /** inbox seq already looked at */
  seq: number
  /** received_at lower bound (ms), from the moment the first wait began */
  notBefore: number
}

export function encodeWaitCursor(c: WaitCursor): string {
  return `w1.${c.seq.toString(36)}.${c.notBefore.toString(36)}`
}

export function decodeWaitCursor(s: string): WaitCursor | null {
  const m = /^w1\.([0-9a-z]{1,13})\.([0-9a-z]{1,13})$/.exec(s)
  if (!m) return null
  return { seq: parseInt(m[1]!, 36), notBefore: parseInt(m[2]!, 36) }
}

type Test = (value: string) => boolean

const MAX_PATTERN = 500
const MAX_SUBJECT_SCAN = 4096

/** One matcher per field. Regular expressions run on RE2 (linear time): no pattern can burn CPU. */
function compile(field: string, value: string, mode: MatchMode): Test {
  if (mode === 'exact') {
    const v = value.toLowerCase()
    return (s) => s.toLowerCase() === v
  }
  if (mode === 'contains') {
    const v = value.toLowerCase()
    return (s) => s.toLowerCase().includes(v)
  }
  if (value.length > MAX_PATTERN) throw new ServiceError('validation_error', `${field}: pattern longer than ${MAX_PATTERN} characters`)
  let re: RE2JS
  try {
    re = RE2JS.compile(value, RE2JS.CASE_INSENSITIVE)
  } catch (err) {
    throw new ServiceError('validation_error', `${field}: not a supported regular expression (${(err as Error).message})`, [
      { path: `query.${field}`, message: 'invalid regular expression' },
    ])
  }
  return (s) => re.matcher(s.slice(0, MAX_SUBJECT_SCAN)).find()
}

export interface Matcher {
  needsSubject: boolean
  test(m: {
    from: string | null
    to: string[]
    subject: string | null
    hasAttachments: boolean
    risk?: string | null
    labels?: string[]
    /** Received mail not yet marked read. */
    unread?: boolean
  }): boolean
}

export function compileMatcher(
  q: Pick<WaitQuery, 'from' | 'fromMatch' | 'to' | 'toMatch' | 'subject' | 'subjectMatch' | 'hasAttachments' | 'maxRisk' | 'label' | 'unread'>,
): Matcher {
  const from = q.from !== undefined ? compile('from', q.from, q.fromMatch ?? 'exact') : null
  const to = q.to !== undefined ? compile('to', q.to, q.toMatch ?? 'exact') : null
  const subject = q.subject !== undefined ? compile('subject', q.subject, q.subjectMatch ?? 'contains') : null
  const hasAttachments = q.hasAttachments as boolean | undefined
  const risks = q.maxRisk ? new Set<string>(risksUpTo(q.maxRisk)) : null
  const label = q.label?.trim().toLowerCase()
  const unread = q.unread as boolean | undefined
  return {
    needsSubject: subject !== null,
    test(m) {
      if (from && !(m.from !== null && from(m.from))) return false
      if (to && !m.to.some((a) => to(a))) return false
      if (subject && !(m.subject !== null && subject(m.subject))) return false
      if (hasAttachments !== undefined && m.hasAttachments !== hasAttachments) return false
      // Mail without a verdict (sent mail, mail that could not be parsed) passes a risk filter.
      if (risks && m.risk != null && !risks.has(m.risk)) return false
      if (label !== undefined && !(m.labels ?? []).includes(label)) return false
      if (unread !== undefined && (m.unread ?? false) !== unread) return false
      return true
    },
  }
}

export interface WaitDeps {
  database: Database
  crypto: TenantCrypto
  hub: Hub
  log: Logger
}

const SCAN_BATCH = 100

/** Starts a wait: the cursor is "now", taken by the server (the inbox's counter and clock), in one statement. */
export async function startCursor(deps: WaitDeps, scope: TenantScope, inboxId: string): Promise<WaitCursor> {
  const begun = deps.hub.lookBegins()
  return withTenant(deps.database, scope, async (tx) => {
    const [now] = await rawRows<{ last_seq: string | number; ms: string | number }>(
      tx,
      sql`select last_seq, (extract(epoch from now()) * 1000)::bigint as ms from inboxes where tenant_id = ${scope.tenantId} and id = ${inboxId}`,
    )
    if (!now) throw notFound('inbox')
    const seq = Number(now.last_seq)
    deps.hub.looked(begun, scope.tenantId, inboxId, seq)
    return { seq, notBefore: Number(now.ms) }
  })
}

/**
 * One look past the cursor: the first matching message, or how far the cursor may move. An inbox
 * the caller cannot see is the same 404 as a missing one (row-level security hides it).
 *
 * The inbox's counter is read first: when nothing arrived since the cursor (the usual re-poll),
 * that is the only statement. Messages are then read up to that counter only. Each statement sees
 * its own snapshot, and every message up to a visible counter value is committed (seq and counter
 * are set in one transaction, in commit order), so a message committed between the two statements
 * is left for the next look instead of being skipped by the cursor.
 */
export async function scan(deps: WaitDeps, scope: TenantScope, inboxId: string, cursor: WaitCursor, matcher: Matcher) {
  const begun = deps.hub.lookBegins()
  return withTenant(deps.database, scope, async (tx) => {
    // The tenant named, as in every statement here: on Citus the look goes to the tenant's shard only.
    const [top] = await rawRows<{ last_seq: string | number }>(tx, sql`select last_seq from inboxes where tenant_id = ${scope.tenantId} and id = ${inboxId}`)
    if (top === undefined) throw notFound('inbox')
    const lastSeq = Number(top.last_seq)
    // The next re-poll at this counter needs no look (events/hub.ts, looked).
    deps.hub.looked(begun, scope.tenantId, inboxId, lastSeq)
    if (lastSeq <= cursor.seq) return { match: null, upTo: cursor.seq, more: false }
    const rows = await tx
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.tenantId, scope.tenantId),
          eq(messages.inboxId, inboxId),
          gt(messages.seq, cursor.seq),
          lte(messages.seq, lastSeq),
          // Rows below notBefore are skipped by the query but still advance the cursor.
          gte(messages.receivedAt, new Date(cursor.notBefore)),
          eq(messages.hidden, false),
          // Quarantined mail has no seq until it is released; said again, so no change can let it through.
          eq(messages.quarantined, false),
        ),
      )
      .orderBy(asc(messages.seq))
      .limit(SCAN_BATCH)
    const cipher = rows.length > 0 ? await deps.crypto.cipher(tx, scope.tenantId) : null
    for (const row of rows) {
      if (matcher.test(factsOf(row, cipher, matcher.needsSubject))) {
        // What the 200 shows, read in this same transaction (no second one to build it).
        const atts = await attachmentsOf(tx, [row.id])
        const match: WaitMatch = { row, atts: atts.get(row.id) ?? [], cipher: cipher! }
        return { match, upTo: row.seq!, more: false }
      }
    }
    const more = rows.length === SCAN_BATCH
    return { match: null, upTo: more ? rows[rows.length - 1]!.seq! : lastSeq, more }
  })
}

/** What a matcher looks at in a stored message (the subject is opened only when a filter needs it). */
function factsOf(row: MessageRow, cipher: Cipher | null, needsSubject: boolean): Parameters<Matcher['test']>[0] {
  return {
    from: row.fromAddress,
    to: row.toAddresses,
    subject: needsSubject && cipher ? cipher.openNullable(ctx.subject(row.id), row.subjectEnc) : null,
    hasAttachments: row.hasAttachments,
    risk: row.risk,
    labels: row.labels,
    unread: row.seenAt === null && row.direction === 'inbound',
  }
}

/**
 * The look `scan` would take at one message, done on the message as this process just committed it
 * (no read): only for the message right after the cursor, so nothing between them can be skipped.
 * The same conditions as the scan's query, then the matcher.
 */
export function lookAtStored(stored: WaitMatch, cursor: WaitCursor, matcher: Matcher): boolean {
  const row = stored.row
  if (row.seq !== cursor.seq + 1 || row.hidden || row.quarantined) return false
  if (row.receivedAt.getTime() < cursor.notBefore) return false
  return matcher.test(factsOf(row, stored.cipher, matcher.needsSubject))
}

/** A message a wait matched, with what its answer needs: its attachments and the tenant's cipher. */
export interface WaitMatch {
  row: MessageRow
  atts: AttachmentMeta[]
  cipher: Cipher
}

/** The 200 body of a wait that matched: the message as the API shows it and the cursor to continue from. */
export function waitAnswer(match: WaitMatch, cursor: WaitCursor): WaitResponse {
  return WaitResponse.parse({ message: messageToWire(match.row, match.atts, match.cipher), cursor: encodeWaitCursor(cursor) })
}

export { attachmentsOf }
