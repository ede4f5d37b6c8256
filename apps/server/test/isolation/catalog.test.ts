// Catalog checks on real Postgres: the schema rules of DESIGN section 3 hold for every table,
// including tables added later, and the runtime role cannot escape row-level security.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { pgErrorCode, rawRows } from '../../src/db/client.js'
import { createTestDb, onPostgres, type TestDb } from '@mailroom/testkit/db'

/** Global lookup tables: unique by something other than tenant_id on purpose (DESIGN §3). */
const GLOBAL_TABLES = new Set(['address_routes', 'domain_claims', 'key_routes'])

let db: TestDb
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db?.close())

const q = <T>(query: ReturnType<typeof sql>) => rawRows<T>(db.owner.db, query)

describe.skipIf(!onPostgres)('catalog (real Postgres)', () => {
  it('every table holding tenant_id has RLS enabled and forced, and policies for the runtime role', async () => {
    const rows = await q<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean; policies: number }>(sql`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid
                and (select oid from pg_roles where rolname = 'mailroom_app') = any(p.polroles)) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')
        and (exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
             or c.relname = 'tenants')`)
    expect(rows.length).toBeGreaterThanOrEqual(4)
    for (const r of rows) {
      expect({ table: r.relname, rls: r.relrowsecurity, forced: r.relforcerowsecurity }).toEqual({ table: r.relname, rls: true, forced: true })
      expect(r.policies, `${r.relname} has no policy for mailroom_app`).toBeGreaterThan(0)
    }
  })

  it('every policy for the runtime role reads the tenant with the nullif recipe', async () => {
    const rows = await q<{ table: string; name: string; qual: string | null; check: string | null }>(sql`
      select c.relname as table, p.polname as name, pg_get_expr(p.polqual, p.polrelid) as qual, pg_get_expr(p.polwithcheck, p.polrelid) as check
      from pg_policy p join pg_class c on c.oid = p.polrelid
      where (select oid from pg_roles where rolname = 'mailroom_app') = any(p.polroles)`)
    for (const r of rows) {
      for (const expr of [r.qual, r.check]) {
        if (expr === null) continue
        expect(expr, `${r.table}.${r.name}`).toContain("NULLIF(current_setting('app.tenant_id'::text, true), ''::text)")
      }
    }
  })

  it('tenant_id leads every primary key and unique index of tenant-owned tables', async () => {
    const rows = await q<{ table: string; index: string; first: string }>(sql`
      select c.relname as table, i.relname as index, a.attname as first
      from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum = x.indkey[0]
      where n.nspname = 'public' and (x.indisunique or x.indisprimary)
        and exists (select 1 from pg_attribute t where t.attrelid = c.oid and t.attname = 'tenant_id')`)
    const offending = rows.filter((r) => !GLOBAL_TABLES.has(r.table) && r.first !== 'tenant_id')
    expect(offending).toEqual([])
    expect(rows.length).toBeGreaterThan(0)
  })

  it('every foreign key between tenant-owned tables includes tenant_id', async () => {
    const rows = await q<{ name: string; from: string; to: string; cols: string[] }>(sql`
      select con.conname as name, src.relname as from, dst.relname as to,
             array(select a.attname from unnest(con.conkey) k join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k)::text[] as cols
      from pg_constraint con join pg_class src on src.oid = con.conrelid join pg_class dst on dst.oid = con.confrelid
      where con.contype = 'f' and dst.relname <> 'tenants'
        and exists (select 1 from pg_attribute t where t.attrelid = dst.oid and t.attname = 'tenant_id')`)
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(r.cols, `${r.name} (${r.from} -> ${r.to})`).toContain('tenant_id')
  })

  it('every tenant table reaches tenants through keys: its own, or a NOT NULL composite key (with tenant_id) to a table that does, deleting with its parent', async () => {
    const tables = await q<{ table: string }>(sql`
      select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')
        and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)`)
    const keys = await q<{ from: string; to: string; cols: string[]; refs: string[]; nullable: boolean; cascades: boolean }>(sql`
      select src.relname as from, dst.relname as to,
             array(select a.attname from unnest(con.conkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i)::text[] as cols,
             array(select a.attname from unnest(con.confkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i)::text[] as refs,
             exists (select 1 from unnest(con.conkey) k join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k where not a.attnotnull) as nullable,
             con.confdeltype = 'c' as cascades
      from pg_constraint con join pg_class src on src.oid = con.conrelid join pg_class dst on dst.oid = con.confrelid
      where con.contype = 'f' and con.connamespace = 'public'::regnamespace`)
    // A table reaches tenants when it has a key into tenants, or a key that proves the tenant (NOT
    // NULL, holding tenant_id) and deletes the row with its parent, into a table that reaches it.
    const reaching = new Set(['tenants'])
    for (let grew = true; grew; ) {
      grew = false
      for (const k of keys) {
        if (reaching.has(k.from) || !reaching.has(k.to) || !k.cascades) continue
        // Its tenant_id must be the parent's tenant_id (the same place in both column lists).
        const holdsTenant = k.cols.includes('tenant_id') && k.refs[k.cols.indexOf('tenant_id')] === 'tenant_id'
        if (k.to === 'tenants' || (!k.nullable && holdsTenant)) {
          reaching.add(k.from)
          grew = true
        }
      }
    }
    expect(tables.length).toBeGreaterThan(10)
    expect(tables.map((t) => t.table).filter((t) => !reaching.has(t))).toEqual([])
    // The tables that rely on their parent's key (migration 0028) do, and have no key of their own into tenants.
    for (const t of ['messages', 'attachments', 'message_search', 'message_refs', 'threads', 'contacts', 'mailbox_counts']) {
      expect(keys.some((k) => k.from === t && k.to === 'tenants'), t).toBe(false)
    }
  })

  it('every foreign key is served by an index on its columns, so deleting a parent row never scans the child table', async () => {
    const rows = await q<{ name: string; table: string }>(sql`
      select con.conname as name, con.conrelid::regclass::text as table
      from pg_constraint con
      where con.contype = 'f' and con.connamespace = 'public'::regnamespace
        and not exists (
          select 1 from pg_index i
          where i.indrelid = con.conrelid
            and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
            and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey)`)
    expect(rows.map((r) => `${r.table}: ${r.name}`)).toEqual([])
  })

  it('the runtime role is not superuser, cannot bypass RLS, owns nothing and cannot become an owner', async () => {
    const [role] = await q<{ rolsuper: boolean; rolbypassrls: boolean; rolcreaterole: boolean; rolcreatedb: boolean }>(
      sql`select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles where rolname = 'mailroom_app'`,
    )
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false })
    const owned = await q<{ relname: string }>(sql`
      select c.relname from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = 'mailroom_app'`)
    expect(owned).toEqual([])
    // Membership in any role that owns a table or is privileged would let it SET ROLE out.
    const escapes = await q<{ rolname: string }>(sql`
      select r.rolname from pg_roles r
      where r.rolname <> 'mailroom_app' and pg_has_role('mailroom_app', r.oid, 'MEMBER')`)
    expect(escapes).toEqual([])
  })

  it('as the runtime role itself: SET ROLE to the owner fails, RLS cannot be switched off', async () => {
    const [owner] = await q<{ owner: string }>(sql`select pg_get_userbyid(relowner) as owner from pg_class where relname = 'inboxes'`)
    const runtime = db.runtime.db
    await expect(runtime.execute(sql.raw(`set role ${owner!.owner}`))).rejects.toThrow()
    await expect(runtime.execute(sql`set row_security = off`).then(() => runtime.execute(sql`select count(*) from inboxes`))).rejects.toThrow()
    await expect(runtime.execute(sql`alter table inboxes disable row level security`)).rejects.toThrow()
    await expect(runtime.execute(sql`select * from mailroom_admin_tenants()`)).rejects.toSatisfy((e) => pgErrorCode(e) === '42501')
    const [me] = await rawRows<{ u: string }>(runtime, sql`select current_user as u`)
    expect(me!.u).toBe('mailroom_app')
  })

  it('large encrypted columns skip compression (STORAGE EXTERNAL): AES-GCM output does not compress', async () => {
    const rows = await q<{ col: string; storage: string }>(sql`
      select a.attrelid::regclass::text || '.' || a.attname as col, a.attstorage as storage
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and a.attname like '%\_enc' and a.atttypid = 'bytea'::regtype and not a.attisdropped`)
    // Small fields (subjects, previews, secrets, keys) stay inline and are never compressed anyway.
    const small = new Set(['threads.subject_enc', 'messages.subject_enc', 'messages.preview_enc', 'webhooks.secret_enc', 'domains.dkim_private_enc'])
    const compressible = rows.filter((r) => !small.has(r.col) && r.storage !== 'e').map((r) => r.col)
    expect(rows.length).toBeGreaterThan(8)
    expect(compressible).toEqual([])
  })
})
