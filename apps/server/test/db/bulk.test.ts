// bulkInsert's statement text is cached per shape: the same columns reuse it, other columns get
// their own, and the Drizzle form (for PGlite, which has no pipelining) says the same thing. Hot
// statements over a list pass it as an array parameter, so their text does not vary either.
import { PgDialect } from 'drizzle-orm/pg-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { bulkInsert, useValuesInserts } from '../../src/db/bulk.js'
import { threads } from '../../src/messages/tables.js'
import { countStoredUnlimited } from '../../src/usage/service.js'

const row = (subject: Buffer | null | undefined) => ({
  tenantId: '00000000-0000-4000-8000-000000000001',
  id: '00000000-0000-4000-8000-000000000002',
  inboxId: '00000000-0000-4000-8000-000000000003',
  messageCount: 2,
  ...(subject === undefined ? {} : { subjectEnc: subject }),
})

describe('bulkInsert', () => {
  it('keys the cached text by the columns the first row sets, the extras and RETURNING', () => {
    const was = useValuesInserts(false)
    onTestFinished(() => void useValuesInserts(was))
    const a = bulkInsert(threads, [row(Buffer.from('s'))])
    const b = bulkInsert(threads, [row(null)])
    const c = bulkInsert(threads, [row(undefined)])
    const d = bulkInsert(threads, [row(null)], { returning: 'id' })
    const e = bulkInsert(threads, [row(null)], { extra: [{ name: 'last_message_at', expr: 'clock_timestamp()' }] })
    expect(a.text).toBe(b.text)
    expect(a.text).toContain(`decode(x."subject_enc", 'base64')`)
    expect(c.text).not.toContain('subject_enc')
    expect(d.text).toBe(`${a.text} returning id`)
    expect(e.text).toContain('"last_message_at"')
    expect(e.text).toContain('clock_timestamp()')
    expect(JSON.parse(a.params[0] as string)).toEqual([
      { tenant_id: row(null).tenantId, id: row(null).id, inbox_id: row(null).inboxId, subject_enc: Buffer.from('s').toString('base64'), message_count: 2 },
    ])
  })

  it('on Citus, the same rows as one multi-row INSERT ... VALUES, a typed parameter per value', () => {
    const was = useValuesInserts(true)
    onTestFinished(() => void useValuesInserts(was))
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
        ),
      )
    const [one, three] = [usage(1), usage(3)]
    expect(three.sql).toBe(one.sql)
    // The tenant's own row (the nil inbox) leads, then the inboxes in id order: the lock order.
    expect(three.params).toContainEqual(['00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000100', '00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000102'])
  })
})
