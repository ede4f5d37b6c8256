// The driver's row counter (postgres.js, patched): a result that ended without CommandComplete (an
// error after some rows, or the backend terminated while rows were coming) left the count of rows
// it had, and the next query on that connection placed its rows after as many holes. Seen as "Cannot
// read properties of undefined" in the SMTP recipient lookup after pg_terminate_backend, and it could
// as well have turned a found row into "not found". Real Postgres, one connection, both ways.
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { onPostgres, TEST_URL } from '@mailroom/testkit/db'

describe.runIf(onPostgres)('the driver after a result cut short', () => {
  const admin = onPostgres ? postgres(TEST_URL!, { max: 1, onnotice: () => {} }) : null
  afterAll(() => admin?.end())

  it('a query failing after two rows leaves no holes in the next result', async () => {
    const sql = postgres(TEST_URL!, { max: 1, onnotice: () => {} })
    try {
      // Rows for 1 and 2 are sent, then the division by zero ends the statement.
      await expect(sql`select case when g < 3 then g else 1 / (g - g) end as v from generate_series(1, 5) g`).rejects.toThrow(/division by zero/)
      const rows = await sql`select 1 as one`
      expect(rows.length).toBe(1)
      expect(rows[0]).toEqual({ one: 1 })
    } finally {
      await sql.end()
    }
  })

  it('a backend terminated while its rows come leaves no holes on the connection opened next', async () => {
    const sql = postgres(TEST_URL!, { max: 1, onnotice: () => {} })
    try {
      const [me] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`
      const pid = me!.pid
      // Rows come at once, then the statement sleeps until this test terminates its backend.
      const cut = sql`select g, case when g = 3 then pg_sleep(30)::text end as s from generate_series(1, 3) g`.execute()
      const settled = cut.then(
        () => null,
        (err: Error) => err,
      )
      for (;;) {
        const [a] = await admin!<{ waiting: boolean }[]>`select wait_event = 'PgSleep' as waiting from pg_stat_activity where pid = ${pid}`
        if (a?.waiting) break
        await new Promise((r) => setTimeout(r, 20))
      }
      await admin!`select pg_terminate_backend(${pid}::int)` // (typed: Citus adds an overload)
      expect(await settled).toBeInstanceOf(Error)
      const rows = await sql`select 1 as one, 2 as two`
      expect(rows.length).toBe(1)
      expect(rows[0]).toEqual({ one: 1, two: 2 })
    } finally {
      await sql.end()
    }
  })
})
