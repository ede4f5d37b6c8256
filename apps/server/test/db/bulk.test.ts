// bulkInsert's statement text is cached per shape: the same columns reuse it, other columns get
// their own, and the Drizzle form (for PGlite, which has no pipelining) says the same thing; the
// bytea values it sends apart from the JSON (binary bytea[] parameters) come back as they went.
// Hot statements over a list pass it as an array parameter, so their text does not vary either.
// Statements put together (fused reads, chained writes) are the text Drizzle would have built from
// their parts, parameters numbered in order, and each part answers with its own values.
import { PgDialect } from 'drizzle-orm/pg-core'
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { integer, pgTable } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createTestDb, onCitus, type TestDb } from '@mailroom/testkit/db'
import { bulkInsert, ByteaArray, TextStatement, useValuesInserts } from '../../src/db/bulk.js'
import { bytea } from '../../src/db/columns.js'
import { rawRows } from '../../src/db/client.js'
import { chained, fused, pipelined, textTemplate } from '../../src/db/pipeline.js'
import { withoutTenant } from '../../src/db/scope.js'
import { threads } from '../../src/messages/tables.js'
import { countStoredUnlimited } from '../../src/usage/service.js'

const row = (subject: Buffer | null | undefined) => ({
  tenantId: '00000000-0000-4000-8000-000000000001',
  id: '00000000-0000-4000-8000-000000000002',
  inboxId: '00000000-0000-4000-8000-000000000003',
  messageCount: 2,
  ...(subject === undefined ? {} : { subjectEnc: subject }),
})

/** This test's INSERT form, whatever the worker has on (a Citus run turns the VALUES form on for it). */
function insertForm(values: boolean): void {
  const was = useValuesInserts(values)
  onTestFinished(() => void useValuesInserts(was))
}

describe('bulkInsert', () => {
  it('keys the cached text by the columns the first row sets, the extras and RETURNING', () => {
    insertForm(false)
    const a = bulkInsert(threads, [row(Buffer.from('s'))])
    const b = bulkInsert(threads, [row(null)])
    const c = bulkInsert(threads, [row(undefined)])
    const d = bulkInsert(threads, [row(null)], { returning: 'id' })
    const e = bulkInsert(threads, [row(null)], { extra: [{ name: 'last_message_at', expr: 'clock_timestamp()' }] })
    expect(a.text).toBe(b.text)
    // bytea columns out of the JSON: one bytea[] parameter each, zipped with the rows.
    expect(a.text).toContain(`rows from (json_to_recordset($1::json) as (`)
    expect(a.text).toContain(`unnest($2::bytea[])) as x(`)
    expect(c.text).not.toContain('subject_enc')
    expect(c.text).not.toContain('rows from')
    expect(d.text).toBe(`${a.text} returning id`)
    expect(e.text).toContain('"last_message_at"')
    expect(e.text).toContain('clock_timestamp()')
    expect(JSON.parse(a.params[0] as string)).toEqual([{ tenant_id: row(null).tenantId, id: row(null).id, inbox_id: row(null).inboxId, message_count: 2 }])
    expect(a.params[1]).toEqual(new ByteaArray([Buffer.from('s')]))
    expect(b.params[1]).toEqual(new ByteaArray([null]))
  })

  it("encodes a bytea[] parameter in the binary format of Postgres's array_send", () => {
    const bin = Buffer.from(new ByteaArray([Buffer.from([0, 92]), null, Buffer.alloc(0)]).binary())
    // ndim 1, has nulls, element type bytea (17), 3 values from 1; then each length (-1: null) and bytes.
    expect([...bin]).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 17, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 92, 255, 255, 255, 255, 0, 0, 0, 0])
    expect([...Buffer.from(new ByteaArray([]).binary())]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17])
  })

  it('on Citus, the same rows as one multi-row INSERT ... VALUES, a typed parameter per value', () => {
    insertForm(true)
    const s = bulkInsert(threads, [row(Buffer.from('x')), row(null)], { extra: [{ name: 'last_message_at', expr: 'clock_timestamp()' }], returning: 'id' })
    expect(s.text).not.toContain('json_to_recordset')
    expect(s.text).toMatch(/^insert into "threads" \(.*"last_message_at"\) values \(\$1::uuid, .*clock_timestamp\(\)\), \(\$6::uuid, .*\) returning id$/)
    expect(s.params).toEqual([row(null).tenantId, row(null).id, row(null).inboxId, Buffer.from('x'), 2, row(null).tenantId, row(null).id, row(null).inboxId, null, 2])
  })

  it('as Drizzle SQL, renders the same text and parameters', () => {
    const s = bulkInsert(threads, [row(Buffer.from('x')), row(null)])
    const q = new PgDialect().sqlToQuery(s.getSQL())
    expect(q.sql).toBe(s.text)
    expect(q.params).toEqual(s.params)
  })
})

describe('statements put together (fused reads, chained writes)', () => {
  const dialect = new PgDialect()
  const template = textTemplate<'a' | 'b'>((v) => sql`select ${v('a')}::int as x, ${v('b')}::text as y`)
  // A template, Drizzle SQL with parameters, a statement with none, the template again.
  const parts = () => [
    template({ a: 1, b: 'one' }),
    sql`select ${2}::int as x, ${'two'}::text as y`,
    new TextStatement('select 3 as x', []),
    template({ a: 4, b: 'four' }),
  ]

  it('fused: the text and parameters Drizzle built from the parts, numbered in order, without compiling them again', () => {
    const one = fused(parts(), false).statements[0] as TextStatement
    const columns = parts().map((s, k) => sql`(select coalesce(json_agg(t), '[]'::json) from (${s.getSQL()}) t) as ${sql.raw(`r${k}`)}`)
    const drizzle = dialect.sqlToQuery(sql`select ${sql.join(columns, sql`, `)}`)
    expect(one).toBeInstanceOf(TextStatement)
    expect(one.text).toBe(drizzle.sql)
    expect(one.params).toEqual(drizzle.params)
    expect(one.params).toEqual([1, 'one', 2, 'two', 4, 'four'])
    expect(one.text).toContain('$5::int as x, $6::text as y')
  })

  it('chained: the other writes as WITH queries of the main one, parameters numbered in the order they appear', () => {
    insertForm(false)
    const insert = bulkInsert(threads, [row(Buffer.from('s'))], { returning: 'id' })
    const one = chained([template({ a: 1, b: 'one' }), insert, sql`select ${7}::int`], 1, false).statements[0] as TextStatement
    expect(one.text).toBe(`with w0 as (select $1::int as x, $2::text as y), w1 as (select $3::int) ${insert.text.replace('$1::json', '$4::json').replace('$2::bytea[]', '$5::bytea[]')}`)
    expect(one.params).toEqual([1, 'one', 7, ...insert.params])
    // On Citus, each as it is.
    expect(chained([template({ a: 1, b: 'one' }), insert], 1, true).statements).toHaveLength(2)
  })
})

describe('bulkInsert in the database', () => {
  const probe = pgTable('bulk_probe', { n: integer('n').notNull(), data: bytea('data'), more: bytea('more') })
  let db: TestDb
  beforeAll(async () => {
    db = await createTestDb()
  })
  afterAll(() => db?.close())

  it('stores every bytea value as it was sent: nulls, empty, every byte value, large, in row order', async () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const large = randomBytes(300_000)
    const rows = [
      { n: 1, data: every, more: null },
      { n: 2, data: null, more: Buffer.alloc(0) },
      { n: 3, data: large, more: Buffer.from('\\x41"{},') },
      { n: 4, data: Buffer.alloc(0), more: every },
    ]
    const back = await withoutTenant(db.runtime, async (tx) => {
      await tx.execute(sql`create temp table bulk_probe (n int not null, data bytea, more bytea) on commit drop`)
      const [inserted] = await pipelined(tx, [bulkInsert(probe, rows, { returning: 'n' })])
      expect(inserted!.map((r) => r.n)).toEqual([1, 2, 3, 4])
      return rawRows<{ n: number; data: Uint8Array | null; more: Uint8Array | null }>(tx, sql`select n, data, more from bulk_probe order by n`)
    })
    const asBuffer = (b: Uint8Array | null) => (b == null ? null : Buffer.from(b))
    expect(back.map((r) => ({ n: r.n, data: asBuffer(r.data), more: asBuffer(r.more) }))).toEqual(rows)
  })

  it.skipIf(onCitus)('fused reads: each part answers with its own parameters', async () => {
    const template = textTemplate<'a' | 'b'>((v) => sql`select ${v('a')}::int as x, ${v('b')}::text as y`)
    const statements = [template({ a: 1, b: 'one' }), null, sql`select ${2}::int as x, ${'two'}::text as y`, template({ a: 4, b: 'four' }), sql`select 1 as x where false`]
    const reads = fused(statements, false)
    expect(reads.statements).toHaveLength(1)
    const answers = await withoutTenant(db.runtime, (tx) => pipelined(tx, reads.statements))
    expect(reads.split(answers)).toEqual([[{ x: 1, y: 'one' }], [], [{ x: 2, y: 'two' }], [{ x: 4, y: 'four' }], []])
  })

  it.skipIf(onCitus)("inputs: per-row values that are no column, for extra expressions; each call's own (the cached shape keeps none)", async () => {
    const computed = pgTable('bulk_computed', { n: integer('n').notNull(), m: integer('m') })
    const insert = (k: (i: number) => number | null) =>
      bulkInsert(computed, [{ n: 1 }, { n: 2 }, { n: 3 }], { extra: [{ name: 'm', expr: 'x.n * 10 + x.k' }], inputs: [{ name: 'k', type: 'int', of: k }], returning: 'n, m' })
    const [first, second] = [insert((i) => i), insert((i) => (i === 1 ? null : 100 + i))]
    expect(first.text).toBe(second.text)
    const answers = await withoutTenant(db.runtime, async (tx) => {
      await tx.execute(sql`create temp table bulk_computed (n int not null, m int) on commit drop`)
      return pipelined(tx, [first, second])
    })
    expect(answers).toEqual([
      [
        { n: 1, m: 10 },
        { n: 2, m: 21 },
        { n: 3, m: 32 },
      ],
      [
        { n: 1, m: 110 },
        { n: 2, m: null },
        { n: 3, m: 132 },
      ],
    ])
  })
})

describe('statements with a list', () => {
  it('keep one text for any length (array parameters), so each is one prepared statement per connection', () => {
    const dialect = new PgDialect()
    const usage = (n: number) =>
      dialect.sqlToQuery(
        countStoredUnlimited(
          row(null).tenantId,
          new Map(Array.from({ length: n }, (_, i) => [`00000000-0000-4000-8000-00000000010${i}`, { bytes: 100 * (i + 1), messages: 1 }])),
          100 * n,
          '2026-11-28',
        ).getSQL(),
      )
    const [one, three] = [usage(1), usage(3)]
    expect(three.sql).toBe(one.sql)
    // The tenant's own row (the nil inbox) leads, then the inboxes in id order: the lock order.
    expect(three.params).toContainEqual(['00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000100', '00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000102'])
  })
  it('textTemplate: the text Drizzle would build, compiled once, the values in placeholder order (a name may repeat)', () => {
    const dialect = new PgDialect()
    const built = (tenantId: string, ids: string[]) =>
      sql`select id from ${threads} where tenant_id = ${tenantId}::uuid and id = any(${sql.param(ids)}::uuid[]) and ${tenantId}::uuid is not null`
    let compiles = 0
    const template = textTemplate<'tenantId' | 'ids'>((v) => {
      compiles++
      return sql`select id from ${threads} where tenant_id = ${v('tenantId')}::uuid and id = any(${v('ids')}::uuid[]) and ${v('tenantId')}::uuid is not null`
    })
    const a = template({ tenantId: 't1', ids: ['a', 'b'] })
    const b = template({ tenantId: 't2', ids: ['c'] })
    const drizzle = dialect.sqlToQuery(built('t2', ['c']))
    expect(b.text).toBe(drizzle.sql)
    expect(b.params).toEqual(drizzle.params)
    expect(a.params).toEqual(['t1', ['a', 'b'], 't1'])
    expect(compiles).toBe(1)
    // As Drizzle SQL again (PGlite's road), the same text and values.
    expect(dialect.sqlToQuery(b.getSQL())).toEqual({ sql: drizzle.sql, params: drizzle.params, typings: expect.anything() })
    // A value given outside the placeholders would be frozen into every call: refused.
    expect(() => textTemplate<'x'>(() => sql`select ${1}`)({ x: 2 })).toThrow(/outside the placeholders/)
  })
})
