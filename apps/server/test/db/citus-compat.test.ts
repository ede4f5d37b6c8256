// The schema stays distributable on Citus (issue 20), checked in CI without Citus, on real Postgres
// and on PGlite: the catalog scan of src/db/citus.ts finds nothing in the migrated schema (tables
// added later included), and finds each construct Citus refuses when one is added.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { randomBytes } from 'node:crypto'
import { rawRows } from '../../src/db/client.js'
import { LOCAL_ONLY_TRIGGERS, classifyTables, findCitusIncompatibilities, type SqlRunner } from '../../src/db/citus.js'
import { createTestDb, onCitus, type TestDb } from '@mailroom/testkit/db'

let db: TestDb
let run: SqlRunner
beforeAll(async () => {
  db = await createTestDb()
  run = (text) => rawRows<Record<string, unknown>>(db.owner.db, sql.raw(text))
})
afterAll(() => db?.close())

describe('Citus compatibility of the schema (catalog scan, no Citus needed)', () => {
  it('the migrated schema holds nothing Citus refuses', async () => {
    expect(await findCitusIncompatibilities(run)).toEqual([])
  })

  it('every table with tenant_id is distributed by it, except the routing tables; the rest are reference tables', async () => {
    const tables = await classifyTables(run)
    const byName = Object.fromEntries(tables.map((t) => [t.name, t.kind]))
    expect(byName).toMatchObject({
      tenants: 'reference',
      address_routes: 'reference',
      domain_claims: 'reference',
      key_routes: 'reference',
      console_operator_sessions: 'reference',
      inboxes: 'distributed',
      messages: 'distributed',
      raw_messages: 'distributed',
      outbox: 'distributed',
      audit_log: 'distributed',
    })
    expect(tables.filter((t) => t.kind === 'distributed').length).toBeGreaterThan(20)
  })

  it("the routing tables' checks into tenant tables: every one on plain Postgres; none left on a cluster, after an upgrade too", async () => {
    const rows = await run(`select c.relname as "table", t.tgname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where not t.tgisinternal and c.relnamespace = 'public'::regnamespace`)
    const present = LOCAL_ONLY_TRIGGERS.filter((l) => rows.some((r) => r.table === l.table && r.name === l.name))
    expect(present).toEqual(onCitus ? [] : LOCAL_ONLY_TRIGGERS)
  })

  describe('finds each construct Citus refuses', () => {
    const schema = `citus_probe_${randomBytes(4).toString('hex')}`
    const tenantRead = `nullif(current_setting('app.tenant_id', true), '')::uuid`
    beforeAll(async () => {
      // A small tenant model in its own schema: clean to begin with.
      await run(`create schema ${schema}`)
      await run(`create table ${schema}.tenants (id uuid primary key, parent_id uuid references ${schema}.tenants (id))`)
      await run(`create table ${schema}.inboxes (tenant_id uuid not null references ${schema}.tenants (id) on delete cascade, id uuid not null,
                   address text not null, primary key (tenant_id, id), unique (tenant_id, address))`)
      await run(`create table ${schema}.threads (tenant_id uuid not null, id uuid not null, primary key (tenant_id, id))`)
      await run(`create table ${schema}.messages (tenant_id uuid not null, id uuid not null, inbox_id uuid not null, thread_id uuid,
                   primary key (tenant_id, id), foreign key (tenant_id, inbox_id) references ${schema}.inboxes (tenant_id, id) on delete cascade)`)
      await run(`create table ${schema}.address_routes (address text primary key, tenant_id uuid not null, inbox_id uuid not null)`)
      await run(`alter table ${schema}.messages enable row level security`)
      await run(`create policy messages_isolation on ${schema}.messages using (tenant_id = ${tenantRead}
                   and (coalesce(current_setting('app.inbox_id', true), '') = '' or inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))`)
      expect(await findCitusIncompatibilities(run, schema)).toEqual([])
    })
    afterAll(() => run(`drop schema if exists ${schema} cascade`))

    async function found(add: string, undo: string): Promise<string[]> {
      await run(add)
      try {
        return await findCitusIncompatibilities(run, schema)
      } finally {
        await run(undo)
        expect(await findCitusIncompatibilities(run, schema)).toEqual([])
      }
    }

    it('a foreign key that sets tenant_id to null (even SET NULL of one column of a key holding it)', async () => {
      const add = (action: string) =>
        `alter table ${schema}.messages add constraint m_thread foreign key (tenant_id, thread_id) references ${schema}.threads (tenant_id, id) ${action}`
      const undo = `alter table ${schema}.messages drop constraint m_thread`
      expect(await found(add('on delete set null'), undo)).toEqual([expect.stringMatching(/m_thread.*ON DELETE SET NULL\/DEFAULT over tenant_id/)])
      expect(await found(add('on delete set null (thread_id)'), undo)).toEqual([expect.stringMatching(/m_thread.*ON DELETE SET NULL/)])
      expect(await found(add('on update cascade'), undo)).toEqual([expect.stringMatching(/m_thread.*ON UPDATE/)])
      expect(await found(add('on delete cascade'), undo)).toEqual([])
    })

    it('a foreign key from a global table into a tenant table', async () => {
      const problems = await found(
        `alter table ${schema}.address_routes add constraint r_inbox foreign key (tenant_id, inbox_id) references ${schema}.inboxes (tenant_id, id)`,
        `alter table ${schema}.address_routes drop constraint r_inbox`,
      )
      expect(problems).toEqual([expect.stringMatching(/r_inbox.*from a global \(reference\) table into a tenant table/)])
    })

    it('a foreign key between tenant tables without tenant_id at the same position', async () => {
      const problems = await found(
        `alter table ${schema}.messages add constraint m_swapped foreign key (thread_id, tenant_id) references ${schema}.threads (tenant_id, id)`,
        `alter table ${schema}.messages drop constraint m_swapped`,
      )
      expect(problems).toEqual([expect.stringMatching(/m_swapped.*same position/)])
    })

    it('a policy with a sub-query', async () => {
      const problems = await found(
        `create policy sub on ${schema}.messages for select using (exists (select 1 from ${schema}.tenants t where t.id = tenant_id))`,
        `drop policy sub on ${schema}.messages`,
      )
      expect(problems).toEqual([expect.stringMatching(/policy sub has a sub-query/)])
    })

    it('a policy Citus cannot re-parse: IS NULL over an expression (the old app.inbox_id form)', async () => {
      const problems = await found(
        `create policy old_inbox on ${schema}.messages for select using (tenant_id = ${tenantRead}
           and (nullif(current_setting('app.inbox_id', true), '') is null or inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))`,
        `drop policy old_inbox on ${schema}.messages`,
      )
      expect(problems).toEqual([expect.stringMatching(/policy old_inbox tests IS \[NOT\] NULL.*NULLIFEXPR/)])
      // A column tested for null re-parses fine.
      expect(await found(`create policy col on ${schema}.messages for select using (thread_id is null)`, `drop policy col on ${schema}.messages`)).toEqual([])
    })

    it('a unique index or primary key without tenant_id on a tenant table', async () => {
      const problems = await found(`create unique index m_id on ${schema}.messages (id)`, `drop index ${schema}.m_id`)
      expect(problems).toEqual([expect.stringMatching(/messages: unique index m_id without tenant_id/)])
    })

    it('a LANGUAGE sql function with parameters (Citus cannot plan its queries); the same in PL/pgSQL passes', async () => {
      const sqlFn = await found(
        `create function ${schema}.count_inbox(p uuid) returns bigint language sql stable as $$ select count(*) from ${schema}.messages where inbox_id = p $$`,
        `drop function ${schema}.count_inbox(uuid)`,
      )
      expect(sqlFn).toEqual([expect.stringMatching(/function count_inbox: LANGUAGE sql with parameters/)])
      const plpgsql = await found(
        `create function ${schema}.count_inbox(p uuid) returns bigint language plpgsql stable as $$ begin return (select count(*) from ${schema}.messages where inbox_id = p); end $$`,
        `drop function ${schema}.count_inbox(uuid)`,
      )
      expect(plpgsql).toEqual([])
    })

    it('a tenant table whose primary key does not start with tenant_id, or without one', async () => {
      const swapped = await found(
        `create table ${schema}.events (tenant_id uuid not null, seq bigint not null, primary key (seq, tenant_id))`,
        `drop table ${schema}.events`,
      )
      expect(swapped).toEqual([expect.stringMatching(/events: primary key events_pkey does not start with tenant_id/)])
      const none = await found(`create table ${schema}.events (tenant_id uuid not null, seq bigint not null)`, `drop table ${schema}.events`)
      expect(none).toEqual([expect.stringMatching(/events: a tenant table without a primary key/)])
    })
  })
})
