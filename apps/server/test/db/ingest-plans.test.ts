// The ingest transaction runs cached generic plans (db/scope.ts, genericPlans), which outlive the
// statistics they were made with. Its thread lookups must read message_refs and messages by their
// indexes, one (inbox, id) pair at a time, even when the plan is made while the statistics say the
// tables are tiny: such a plan once read every reference of the tenant on each batch, more with
// every message, until the next ANALYZE (bench/README, "Receiving", 2026-12-05 midday).
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, onCitus, type TestDb } from '@mailroom/testkit/db'
import { newUuid } from '../../src/lib/ids.js'
import { rawRows } from '../../src/db/client.js'
import { pipelined } from '../../src/db/pipeline.js'
import { tenantBinding } from '../../src/db/scope.js'
import { threadLookups } from '../../src/messages/threading.js'
import type { TextStatement } from '../../src/db/bulk.js'

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Index Cond'?: string
  Plans?: PlanNode[]
}
const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)]

let db: TestDb
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db?.close())

/** What each table is read by when `statement` runs as ingest runs it, under statistics that call the tables tiny. */
async function accessesOf(statement: TextStatement): Promise<PlanNode[]> {
  const tenantId = newUuid()
  const rolledBack = new Error('rolled back')
  let nodes: PlanNode[] = []
  await db.owner.db
    .transaction(async (tx) => {
      // As an ANALYZE of the first few messages leaves them, seen in this transaction only.
      await tx.execute(sql`update pg_class set reltuples = 50, relpages = 1 where oid in ('message_refs'::regclass, 'messages'::regclass)`)
      await tx.execute(sql`set local role mailroom_app`)
      await pipelined(tx, tenantBinding({ tenantId }, false, { genericPlans: true }))
      const name = `plan_probe_${newUuid().replaceAll('-', '')}`
      await tx.execute(sql.raw(`prepare ${name} as ${statement.text}`))
      const args = statement.params.map((p) => `'{${(p as string[]).map((v) => `"${v}"`).join(',')}}'`).join(', ')
      const [row] = await rawRows<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(tx, sql.raw(`explain (format json) execute ${name}(${args})`))
      const plan = row!['QUERY PLAN']
      nodes = nodesOf((typeof plan === 'string' ? (JSON.parse(plan) as [{ Plan: PlanNode }]) : plan)[0].Plan)
      throw rolledBack
    })
    .catch((err: unknown) => {
      if (err !== rolledBack) throw err
    })
  return nodes.filter((n) => n['Relation Name'])
}

describe.skipIf(onCitus)('the ingest thread lookups under stale statistics', () => {
  const entries = [
    { inboxId: newUuid(), h: { messageId: '<new-1@example.com>', inReplyTo: '<root@example.com>', references: ['<root@example.com>'], subject: 'Re: x' } },
    { inboxId: newUuid(), h: { messageId: '<new-2@example.com>', inReplyTo: null, references: [], subject: 'y' } },
  ]

  it('finds the stored messages that refer to a new one by message_refs_inbox_ref_idx, pair by pair, never by reading the table', async () => {
    const accesses = await accessesOf(threadLookups(newUuid(), entries, false).referring as TextStatement)
    const refs = accesses.filter((n) => n['Relation Name'] === 'message_refs')
    expect(refs).toHaveLength(1)
    expect(refs[0]!['Node Type']).toMatch(/^Index (Only )?Scan$/)
    expect(refs[0]!['Index Name']).toBe('message_refs_inbox_ref_idx')
    // Parameterized by the pair, not a range over the tenant's references.
    expect(refs[0]!['Index Cond']).toMatch(/inbox_id = q\.inbox_id/)
    expect(refs[0]!['Index Cond']).toMatch(/ref = q\.ref/)
    for (const n of accesses) expect(n['Node Type'], n['Relation Name']).not.toBe('Seq Scan')
  })

  it('finds the stored messages a new one refers to by an index, pair by pair, never by reading the table', async () => {
    const accesses = await accessesOf(threadLookups(newUuid(), entries, false).referred as TextStatement)
    expect(accesses).toHaveLength(1)
    expect(accesses[0]!['Relation Name']).toBe('messages')
    expect(accesses[0]!['Node Type']).toMatch(/^Index (Only )?Scan$/)
    // Within the pair's inbox at most. (With statistics this degenerate, every index that begins with
    // tenant and inbox costs the same to the planner; with the table's real size it takes
    // messages_inbox_msgid_idx, as the ingest bench's plans show.)
    expect(accesses[0]!['Index Cond']).toMatch(/inbox_id = q\.inbox_id/)
  })
})
