// The check helpers/tenant-statements.ts makes without Citus (db/citus-routing.test.ts runs an
// agent's day through it): a statement of a tenant transaction that reads a tenant table without
// naming its tenant is reported; one that names it, or carries it through a join on tenant_id, or
// reads a table every node holds, is not; statements outside tenant transactions are not looked at.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, onCitus, onPostgres, type TestDb } from '@mailroom/testkit/db'
import { newUuid } from '../../src/lib/ids.js'
import { TenantStatements } from '../helpers/tenant-statements.js'

let db: TestDb
beforeAll(async () => {
  if (onPostgres && !onCitus) db = await createTestDb()
})
afterAll(() => db?.close())

/** One transaction bound to `tenant`, as the runtime pool sends it, on connection 1. */
function transaction(log: TenantStatements, tenant: string, statements: [string, unknown[]][]) {
  log.onStatement(1, 'begin ', [], [])
  log.onStatement(1, 'set local role mailroom_app', [], [])
  log.onStatement(1, "select set_config('app.tenant_id', $1, true), set_config('app.inbox_id', $2, true)", [tenant, ''], [0, 0])
  for (const [text, params] of statements) log.onStatement(1, text, params, params.map(() => 0))
  log.onStatement(1, 'commit', [], [])
}

describe.skipIf(!onPostgres || onCitus)("the check of a tenant's statements without Citus", () => {
  it('reports a read of a tenant table that leaves its tenant out, and only that', async () => {
    const log = new TenantStatements()
    const tenant = newUuid()
    transaction(log, tenant, [
      ['select id from contacts where tenant_id = $1 and id = $2', [tenant, newUuid()]],
      ['select id from contacts where id = $1', [newUuid()]],
      ['update contacts set notes_enc = null where id = $1', [newUuid()]],
      ['select m.id from messages m join threads t on t.tenant_id = m.tenant_id and t.id = m.thread_id where m.tenant_id = $1', [tenant]],
      ['select m.id from messages m join threads t on t.id = m.thread_id where m.tenant_id = $1', [tenant]],
      ['select id from messages where tenant_id = any($1::uuid[])', [`{${tenant},${newUuid()}}`]],
      ['select id from tenants where id = $1', [tenant]],
      ['insert into suppressions (tenant_id, id, address, reason) values ($1, $2, $3, $4)', [tenant, newUuid(), 'gone@example.com', 'manual']],
    ])
    // Outside a tenant transaction (a lookup without a tenant): not looked at.
    log.onStatement(2, 'begin ', [], [])
    log.onStatement(2, 'select id from contacts', [], [])
    log.onStatement(2, 'commit', [], [])
    expect(log.size).toBe(8)
    const found = await log.unpinned(db.ownerUrl!)
    expect(found, found.join("\n")).toHaveLength(3)
    expect(found[0]).toMatch(/^contacts .* read without its tenant by: select id from contacts where id = \$1$/)
    expect(found[1]).toMatch(/^contacts .* read without its tenant by: update contacts/)
    // A join on the thread alone: the threads are read without their tenant.
    expect(found[2]).toMatch(/^threads .* read without its tenant by: select m\.id from messages m join threads t on t\.id = m\.thread_id/)
    // What was checked is let go.
    expect(log.size).toBe(0)
  })

  it('reports a statement it cannot plan again rather than passing it', async () => {
    const log = new TenantStatements()
    transaction(log, newUuid(), [['select nothing from no_such_table', []]])
    expect(await log.unpinned(db.ownerUrl!)).toEqual([expect.stringMatching(/^could not be planned again \(.*no_such_table.*\): select nothing/)])
  })
})
