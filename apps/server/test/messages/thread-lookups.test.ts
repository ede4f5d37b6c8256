// The thread lookups of ingest (threading.ts): each (inbox, Message-ID) pair is matched where its
// table is read, whatever the planner believed of the tables' sizes when it cached the plan. A plan
// cached while an inbox was young once read the tenant's every reference and joined each to its
// message before matching any pair, for as long as the plan lived; the lookups still find what they should.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRows, type Tx } from '../../src/db/client.js'
import { withTenant } from '../../src/db/scope.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { threadLookups } from '../../src/messages/threading.js'
import { onCitus } from '@mailroom/testkit/db'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server?.stop()
})

const owner = <T>(query: ReturnType<typeof sql>) => rawRows<T>(server.db.owner.db as never, query)

interface Scan {
  relation: string
  how: string
  /** The scan's own conditions (index and filter). */
  conditions: string
}

/** Every relation a plan reads, how, and on what conditions (EXPLAIN's JSON, walked). */
function scans(plan: unknown, out: Scan[] = []): Scan[] {
  if (Array.isArray(plan)) for (const p of plan) scans(p, out)
  else if (plan && typeof plan === 'object') {
    const node = plan as Record<string, unknown>
    // On Citus the plan of the shard the tenant lives on: its tables carry the shard's number.
    if (typeof node['Relation Name'] === 'string') out.push({ relation: node['Relation Name'].replace(/_\d+$/, ''), how: String(node['Node Type']), conditions: `${node['Index Cond'] ?? ''} ${node['Filter'] ?? ''}` })
    for (const v of Object.values(node)) if (typeof v === 'object') scans(v, out)
  }
  return out
}

const plan = async (tx: Tx, statement: ReturnType<typeof sql>) => scans((await rawRows<{ 'QUERY PLAN': unknown }>(tx, sql`explain (format json) ${statement}`))[0]!['QUERY PLAN'])

describe('thread lookups', () => {
  it('match each pair where the table is read, in a plan cached while the inbox was young and after it grew', async () => {
    const t = await makeTenant(server, 'lookups')
    const box = await makeInbox(server, t)
    const tenantId = fromPublicId('tenant', t.id)!
    const inboxId = fromPublicId('inbox', box.id)!
    const database = server.running.deps.database
    const threadId = '00000000-0000-4000-8000-000000000001'
    const messageId = '00000000-0000-4000-8000-000000000002'
    const rawId = '00000000-0000-4000-8000-000000000003'
    await owner(sql`insert into raw_messages (tenant_id, id, data_enc, size, sha256) values (${tenantId}, ${rawId}, '\\x00', 1, 'x')`)
    await owner(sql`insert into threads (tenant_id, id, inbox_id, message_count) values (${tenantId}, ${threadId}, ${inboxId}, 1)`)
    await owner(sql`insert into messages (tenant_id, id, inbox_id, raw_id, thread_id, direction, status, size, message_id_header)
                    values (${tenantId}, ${messageId}, ${inboxId}, ${rawId}, ${threadId}, 'inbound', 'received', 1, '<original@example.com>')`)
    await owner(sql`insert into message_refs (tenant_id, message_id, ref, inbox_id) values (${tenantId}, ${messageId}, '<only@example.com>', ${inboxId})`)
    await owner(sql`analyze message_refs`)
    await owner(sql`analyze messages`)
    const entry = { inboxId, h: { messageId: '<only@example.com>', inReplyTo: '<original@example.com>', references: [], subject: 'x' } }
    const lookup = threadLookups(tenantId, [entry])

    // The plan a prepared statement caches (planned without its values) while the inbox is young. (On
    // Citus the statement is planned again on the tenant's shard: this is plain Postgres's cached plan.)
    if (!onCitus) {
      const young = await withTenant(database, { tenantId }, async (tx) => {
        await tx.execute(sql`set local plan_cache_mode = force_generic_plan`)
        return [...(await plan(tx, lookup.referred!)), ...(await plan(tx, lookup.referring!))]
      })
      expect(young.map((s) => s.relation).sort()).toEqual(['message_refs', 'messages', 'messages'])
      // Each table is read for one pair (or one hit) at a time: the pair's values are in the scan's own
      // conditions, not in a join filter applied after reading the tenant's every row.
      for (const s of young) expect(s.conditions, `${s.how} on ${s.relation}`).toMatch(s.relation === 'message_refs' ? /q\.ref/ : /q\.ref|r\.message_id/)
    }

    // A busy inbox the statistics have not seen: 3,000 more messages and references.
    await owner(sql`insert into messages (tenant_id, id, inbox_id, raw_id, thread_id, direction, status, size, message_id_header)
                    select ${tenantId}::uuid, gen_random_uuid(), ${inboxId}::uuid, ${rawId}::uuid, ${threadId}::uuid, 'inbound', 'received', 1, '<m-' || g || '@example.com>'
                    from generate_series(1, 3000) g`)
    await owner(sql`insert into message_refs (tenant_id, message_id, ref, inbox_id)
                    select tenant_id, id, '<ref-' || substr(message_id_header, 4), inbox_id from messages where tenant_id = ${tenantId} and message_id_header like '<m-%'`)
    const [grown, refHits, idHits] = await withTenant(database, { tenantId }, async (tx) => [
      [...(await plan(tx, lookup.referred!)), ...(await plan(tx, lookup.referring!))],
      await rawRows<{ thread_id: string }>(tx, lookup.referred!),
      await rawRows<{ thread_id: string }>(tx, lookup.referring!),
    ])
    // Through the tenant-led indexes now: one probe per pair, then one per hit.
    expect(grown.filter((s) => s.how === 'Seq Scan')).toEqual([])
    expect(refHits.map((r) => r.thread_id)).toEqual([threadId])
    expect(idHits.map((r) => r.thread_id)).toEqual([threadId])
  })
})
