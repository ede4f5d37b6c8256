// Several statements of one transaction in one round trip. postgres.js pipelines queries queued on
// a connection: each is sent without waiting for the previous answer, and Postgres runs them in
// the order sent (so row locks are taken in that order). A failing statement fails the transaction.
// PGlite runs in-process and has no round trips to save: there the statements run one by one.
import { Placeholder, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { rawRows, type Db, type Tx } from './client.js'
import { BYTEA_ARRAY, ByteaArray, PARAMETER, TextStatement } from './bulk.js'

type Row = Record<string, unknown>
interface PostgresJsClient {
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): PromiseLike<Row[]> & { execute(): PromiseLike<Row[]> }
  typed(value: unknown, type: number): unknown
}
interface Internals {
  session?: { client?: Partial<PostgresJsClient> }
}

/**
 * The rows each statement returned (as Postgres names the columns), in order; a falsy entry is
 * skipped (and answers []). Only on a transaction (its connection is reserved): never on the shared
 * pool, where postgres.js 3.4.9 can mishandle a BEGIN pipelined behind other queries (db/scope.ts).
 * Statements are prepared: their plans stay on the connection (the texts repeat, batch by batch).
 */
export async function pipelined(tx: Tx, statements: (SQLWrapper | null | undefined | false)[]): Promise<Row[][]> {
  const sent = send(tx, statements)
  if (!sent) {
    const out: Row[][] = []
    for (const s of statements) {
      if (!s) {
        out.push([])
        continue
      }
      // A bytea[] parameter (bulkInsert's, maybe inside a chained statement) as the array it is:
      // PGlite takes arrays of Uint8Array.
      const q = queryOf(s)
      const arrays = q.params.some((p) => p instanceof ByteaArray)
      out.push(await rawRows<Row>(tx, arrays ? new TextStatement(q.sql, q.params.map((p) => (p instanceof ByteaArray ? p.values : p))).getSQL() : s.getSQL()))
    }
    return out
  }
  return answersOf(await sent)
}

/**
 * A statement whose text never changes, only its values: Drizzle compiles it once, each value a
 * named placeholder (a name may stand in several places), and each call gives a TextStatement of
 * that text with the values in placeholder order. For the statements every ingest batch sends:
 * Drizzle turning SQL objects into text and parameters anew for each batch was ~7% of the main
 * thread with one-message batches; the numbering's five statements took 40-61 µs a batch to build
 * that way, 2-4 µs from templates (bench/README, 2026-12-04 night). Each value is one parameter,
 * as `sql.param(value)` would be (an array too).
 */
export function textTemplate<K extends string>(build: (value: (name: K) => SQL) => SQLWrapper): (values: Record<K, unknown>) => TextStatement {
  let compiled: { text: string; names: K[] } | null = null
  return (values) => {
    if (!compiled) {
      const q = dialect.sqlToQuery(build((name) => sql`${sql.placeholder(name)}`).getSQL())
      const names = q.params.map((p) => {
        if (!(p instanceof Placeholder)) throw new Error('textTemplate: a value outside the placeholders')
        return p.name as K
      })
      compiled = { text: q.sql, names }
    }
    return new TextStatement(compiled.text, compiled.names.map((n) => values[n]))
  }
}

/**
 * One statement as a prepared statement, on a pool that never opens a transaction (the runtime's
 * `single` pool, db/scope.ts lookupWithoutTenant), where pipelined() is as safe as on a transaction.
 * Drizzle sends its queries unprepared (postgres.js `unsafe` without `prepare`), so Postgres parses
 * and plans them at every execution; a lookup that runs on every request or recipient with a constant
 * text keeps its plan on the connection instead. Elsewhere (PGlite) it runs as drizzle would.
 */
export async function preparedRows<T>(db: Db, statement: SQLWrapper): Promise<T[]> {
  return (await pipelined(db as unknown as Tx, [statement]))[0] as T[]
}

const dialect = new PgDialect()
const queryOf = (s: SQLWrapper): { sql: string; params: unknown[] } => (s instanceof TextStatement ? { sql: s.text, params: s.params } : dialect.sqlToQuery(s.getSQL()))

/** Queues the statements on the transaction's connection now, in order (null: not postgres.js). */
function send(tx: Tx, statements: (SQLWrapper | null | undefined | false)[]): Promise<PromiseSettledResult<Row[]>[]> | null {
  const client = (tx as unknown as Internals).session?.client
  if (typeof client?.unsafe !== 'function' || typeof client.typed !== 'function') return null
  const unsafe = client.unsafe.bind(client)
  const typed = client.typed.bind(client)
  const running = statements.map((s) => {
    if (!s) return []
    const q = queryOf(s)
    // A bytea[] parameter goes in binary (the postgres.js patch sends a Uint8Array parameter so).
    q.params = q.params.map((p) => (p instanceof ByteaArray ? typed(p.binary(), BYTEA_ARRAY) : p))
    // .execute() queues it on the connection now, in this order (awaiting alone would queue it later).
    return unsafe(q.sql, q.params, { prepare: true }).execute()
  })
  return Promise.allSettled(running)
}

function answersOf(settled: PromiseSettledResult<Row[]>[]): Row[][] {
  const failed = settled.find((r) => r.status === 'rejected')
  // The first failure is the cause; the ones after it only say the transaction is aborted.
  if (failed) throw (failed as PromiseRejectedResult).reason
  return settled.map((r) => [...(r as PromiseFulfilledResult<Row[]>).value])
}

/**
 * pipelined() for the last statements of a transaction: sent now, and their answers handed back in
 * a box, not awaited, so the transaction function can return at once and its COMMIT goes in the
 * same round trip. Await `answers` once the transaction is over; a statement that failed aborted
 * the transaction (its COMMIT rolled back) and rejects it. On PGlite (no round trips) they have
 * run when this resolves.
 */
export async function answeredAfterCommit(tx: Tx, statements: (SQLWrapper | null | undefined | false)[]): Promise<{ answers: Promise<Row[][]> }> {
  const sent = send(tx, statements)
  if (!sent) return { answers: Promise.resolve(await pipelined(tx, statements)) }
  const answers = sent.then(answersOf)
  // Rejected only with what the caller gets when it awaits it after the transaction.
  answers.catch(() => {})
  return { answers }
}

const unanswered = new WeakMap<object, Promise<PromiseSettledResult<Row[]>[]>[]>()

/**
 * Writes whose answers the transaction does not need: sent now, and not waited for, so the COMMIT
 * goes right behind them in the same round trip (on PGlite, which has no round trips, they run
 * before this resolves). If one fails, Postgres aborts the transaction and answers the COMMIT with
 * ROLLBACK: the door that opened the transaction (db/scope.ts) then throws that statement's error,
 * as it would have thrown had the writes been awaited. Only inside that door.
 */
export async function beforeCommit(tx: Tx, statements: (SQLWrapper | null | undefined | false)[]): Promise<void> {
  const sent = send(tx, statements)
  if (!sent) {
    await pipelined(tx, statements)
    return
  }
  const list = unanswered.get(tx) ?? []
  list.push(sent)
  unanswered.set(tx, list)
}

/**
 * The first failure among the transaction's beforeCommit() writes, once they are answered (undefined:
 * none failed). Called by the door after COMMIT (the writes were answered before it) or after fn
 * threw (a statement after a failed write only says the transaction is aborted: this is the cause).
 */
export async function unansweredFailure(tx: Tx): Promise<unknown> {
  for (const sent of unanswered.get(tx) ?? []) {
    const failed = (await sent).find((r) => r.status === 'rejected')
    if (failed) return (failed as PromiseRejectedResult).reason
  }
  return undefined
}

/**
 * Several read-only statements as one (one parse, plan and execution on the server instead of one
 * each): each statement's rows come back as a JSON array in a column of the single row, `split`
 * turns them back into the rows each would have returned (as Postgres names the columns; values
 * as JSON has them, so only for rows of text, numbers, booleans, arrays and json). A falsy entry
 * answers []. Not on Citus, which plans sub-queries over distributed tables one by one anyway:
 * there the statements go as they are (pipelined()).
 */
export function fused(statements: (SQLWrapper | null | undefined | false)[], citus: boolean): { statements: (SQLWrapper | null | undefined | false)[]; split(results: Row[][]): Row[][] } {
  if (citus) return { statements, split: (results) => results }
  const present = statements.flatMap((s, i) => (s ? [{ s, i }] : []))
  if (present.length < 2) return { statements, split: (results) => results }
  const one = composed(
    present.map(({ s }) => s),
    (texts) => `select ${texts.map((t, k) => `(select coalesce(json_agg(t), '[]'::json) from (${t}) t) as r${k}`).join(', ')}`,
  )
  return {
    statements: [one],
    split(results) {
      const row = results[0]?.[0] ?? {}
      const out: Row[][] = statements.map(() => [])
      for (const [k, { i }] of present.entries()) out[i] = (row[`r${k}`] as Row[] | undefined) ?? []
      return out
    },
  }
}

/**
 * Several writes as one statement: every one but `main` becomes a data-modifying WITH query of
 * `main`, which gives the statement its rows (the others' RETURNING is dropped). They run in one
 * execution, so only for writes that need no order among themselves: new rows, whose foreign keys
 * Postgres checks at the end of the statement. On Citus (which routes such statements row by row
 * only in simpler forms) they go as they are, in the order given. `rowsOf` picks `main`'s rows from
 * what pipelined() returned.
 */
export function chained(statements: (SQLWrapper | null | undefined | false)[], main: number, citus: boolean): { statements: SQLWrapper[]; rowsOf(results: Row[][]): Row[] } {
  const head = statements[main]
  if (!head) throw new Error('chained: the main statement is missing')
  const present = statements.filter((s): s is SQLWrapper => !!s)
  if (citus || present.length < 2) return { statements: present, rowsOf: (results) => results[present.indexOf(head)] ?? [] }
  const one = composed([...present.filter((s) => s !== head), head], (texts) => `with ${texts.slice(0, -1).map((t, k) => `w${k} as (${t})`).join(', ')} ${texts.at(-1)!}`)
  return { statements: [one], rowsOf: (results) => results[0] ?? [] }
}

/**
 * One statement made of several: each part's text (a TextStatement's as it is, Drizzle SQL compiled)
 * with its parameters numbered after the previous parts' ones, put together by `join`. Text work
 * only: the parts are not turned back into Drizzle SQL and compiled again as a whole, which cost
 * the batch's statements most of Drizzle's share of the main thread (bench/README, 2026-12-05
 * morning). The texts must hold `$n` only as parameters (no `$` in literals or dollar quotes).
 */
function composed(parts: SQLWrapper[], join: (texts: string[]) => string): TextStatement {
  const params: unknown[] = []
  const texts = parts.map((part) => {
    const q = queryOf(part)
    const offset = params.length
    params.push(...q.params)
    return offset === 0 ? q.sql : q.sql.replace(PARAMETER, (_, n: string) => `$${Number(n) + offset}`)
  })
  return new TextStatement(join(texts), params)
}
