// Several statements of one transaction in one round trip. postgres.js pipelines queries queued on
// a connection: each is sent without waiting for the previous answer, and Postgres runs them in
// the order sent (so row locks are taken in that order). A failing statement fails the transaction.
// PGlite runs in-process and has no round trips to save: there the statements run one by one.
import type { SQL, SQLWrapper } from 'drizzle-orm'
import { rawRows, type Tx } from './client.js'
import { TextStatement } from './bulk.js'

type Row = Record<string, unknown>
interface PostgresJsClient {
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): PromiseLike<Row[]> & { execute(): PromiseLike<Row[]> }
}
interface Internals {
  session?: { client?: Partial<PostgresJsClient> }
  dialect?: { sqlToQuery(sql: SQL): { sql: string; params: unknown[] } }
}

/**
 * The rows each statement returned (as Postgres names the columns), in order; a falsy entry is
 * skipped (and answers []). Only on a transaction (its connection is reserved): never on the shared
 * pool, where postgres.js 3.4.9 can mishandle a BEGIN pipelined behind other queries (db/scope.ts).
 * Statements are prepared: their plans stay on the connection (the texts repeat, batch by batch).
 */
export async function pipelined(tx: Tx, statements: (SQLWrapper | null | undefined | false)[]): Promise<Row[][]> {
  const { session, dialect } = tx as unknown as Internals
  const client = session?.client
  if (!dialect || typeof client?.unsafe !== 'function') {
    const out: Row[][] = []
    for (const s of statements) out.push(s ? await rawRows<Row>(tx, s.getSQL()) : [])
    return out
  }
  const unsafe = client.unsafe.bind(client)
  const running = statements.map((s) => {
    if (!s) return []
    const q = s instanceof TextStatement ? { sql: s.text, params: s.params } : dialect.sqlToQuery(s.getSQL())
    // .execute() queues it on the connection now, in this order (awaiting alone would queue it later).
    return unsafe(q.sql, q.params, { prepare: true }).execute()
  })
  const settled = await Promise.allSettled(running)
  const failed = settled.find((r) => r.status === 'rejected')
  // The first failure is the cause; the ones after it only say the transaction is aborted.
  if (failed) throw (failed as PromiseRejectedResult).reason
  return settled.map((r) => [...(r as PromiseFulfilledResult<Row[]>).value])
}
