// Read state and labels, end to end: new mail is unread, marking it read or unread and labelling it
// show in the message, in list and wait filters, in the thread and in the inbox counts, which are
// kept by triggers (never a scan) and stay exact under concurrent changes; quarantined mail is
// never counted; deleting mail, an inbox or a tenant, and retention, leave no count behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { makeChild, makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { listAll, sendMail, settled } from '@mailroom/testkit/mail'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { purgeExpired } from '../../src/retention/service.js'
import { silentLogger } from '../../src/lib/log.js'

let server: TestServer
let offsetDays = 0
const clock = { now: () => new Date(Date.now() + offsetDays * 86_400_000) }
beforeAll(async () => {
  server = await startTestServer({ clock })
})
afterAll(() => server?.stop())

const owner = <T>(q: ReturnType<typeof sql>) => rawRows<T>(server.db.owner.db, q)

async function fill(inbox: InboxFixture, subjects: string[]) {
  for (const subject of subjects) await sendMail(server, { to: inbox.address, subject, text: `body of ${subject}` })
  await settled(server)
  const list = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
  return new Map(list.map((m: any) => [m.subject as string, m.id as string]))
}

/** What the counts should be, by reading the whole inbox (what the counters spare the server). */
async function scanned(inbox: InboxFixture) {
  const all = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
  const labels = new Map<string, { label: string; total: number; unread: number }>()
  const unread = (m: any) => m.direction === 'inbound' && m.seenAt === null
  for (const m of all) {
    for (const l of m.labels) {
      const c = labels.get(l) ?? { label: l, total: 0, unread: 0 }
      c.total++
      if (unread(m)) c.unread++
      labels.set(l, c)
    }
  }
  return { total: all.length, unread: all.filter(unread).length, labels: [...labels.values()].sort((a, b) => a.label.localeCompare(b.label)) }
}

describe('read state and labels', () => {
  it('marks read and unread, labels, and filters lists by label and unread; counts and threads follow', async () => {
    const tenant = await makeTenant(server)
    const inbox = await makeInbox(server, tenant)
    const ids = await fill(inbox, ['alpha', 'beta', 'gamma'])
    const path = (s: string) => `/v1/inboxes/${inbox.id}/messages/${ids.get(s)}`
    const counts = async () => (await inbox.api.get(`/v1/inboxes/${inbox.id}/counts`)).body

    const fresh = (await inbox.api.get(path('alpha'))).body
    expect(fresh.seenAt).toBeNull()
    expect(fresh.labels).toEqual([])
    expect(await counts()).toEqual({ total: 3, unread: 3, labels: [] })

    const read = await inbox.api.patch(path('alpha'), { seen: true, addLabels: ['Needs_Reply', 'clients/acme'] })
    expect(read.status).toBe(200)
    expect(read.body.seenAt).not.toBeNull()
    expect(read.body.labels).toEqual(['clients/acme', 'needs_reply'])
    // Marking read again keeps the first time.
    expect((await inbox.api.patch(path('alpha'), { seen: true })).body.seenAt).toBe(read.body.seenAt)
    await inbox.api.patch(path('beta'), { addLabels: ['needs_reply'] })
    expect(await counts()).toEqual({
      total: 3,
      unread: 2,
      labels: [
        { label: 'clients/acme', total: 1, unread: 0 },
        { label: 'needs_reply', total: 2, unread: 1 },
      ],
    })

    const subjects = async (q: string) => (await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages?${q}`)).map((m: any) => m.subject).sort()
    expect(await subjects('label=needs_reply')).toEqual(['alpha', 'beta'])
    expect(await subjects('unread=true')).toEqual(['beta', 'gamma'])
    expect(await subjects('unread=false')).toEqual(['alpha'])
    expect(await subjects('label=needs_reply&unread=true')).toEqual(['beta'])
    expect(await subjects('label=handled')).toEqual([])

    // Handled: the label swapped, unread again.
    const swapped = await inbox.api.patch(path('alpha'), { seen: false, addLabels: ['handled'], removeLabels: ['needs_reply'] })
    expect(swapped.body).toMatchObject({ seenAt: null, labels: ['clients/acme', 'handled'] })
    expect(await counts()).toEqual(await scanned(inbox))
    expect((await counts()).unread).toBe(3)

    // Threads say whether they hold unread mail.
    const threads = async () => (await inbox.api.get(`/v1/inboxes/${inbox.id}/threads`)).body.data as { unread: boolean; subject: string; id: string }[]
    expect((await threads()).every((t) => t.unread)).toBe(true)
    await inbox.api.patch(path('gamma'), { seen: true })
    const gamma = (await threads()).find((t) => t.subject === 'gamma')!
    expect(gamma.unread).toBe(false)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/threads/${gamma.id}`)).body.unread).toBe(false)
    expect((await threads()).find((t) => t.subject === 'beta')!.unread).toBe(true)
  })

  it('refuses malformed labels, too many labels and empty changes; another inbox key gets 404', async () => {
    const tenant = await makeTenant(server)
    const inbox = await makeInbox(server, tenant)
    const other = await makeInbox(server, tenant)
    const ids = await fill(inbox, ['one'])
    const path = `/v1/inboxes/${inbox.id}/messages/${ids.get('one')}`
    for (const bad of [{ addLabels: ['two words'] }, { addLabels: ['x'.repeat(41)] }, { addLabels: [''] }, {}, { seen: 'yes' }, { labels: ['a'] }]) {
      const res = await inbox.api.patch(path, bad)
      expect(res.status, JSON.stringify(bad)).toBe(400)
      expect(res.body.error.code).toBe('validation_error')
    }
    expect((await inbox.api.patch(path, { addLabels: Array.from({ length: 20 }, (_, i) => `l${i}`) })).status).toBe(200)
    const tooMany = await inbox.api.patch(path, { addLabels: ['one-more'] })
    expect(tooMany.status).toBe(400)
    expect((await inbox.api.get(path)).body.labels).toHaveLength(20)
    expect((await other.api.patch(`/v1/inboxes/${inbox.id}/messages/${ids.get('one')}`, { seen: true })).status).toBe(404)
    expect((await other.api.patch(`/v1/inboxes/${other.id}/messages/${ids.get('one')}`, { seen: true })).status).toBe(404)
    expect((await inbox.api.get(path)).body.seenAt).toBeNull()
  })

  it('counts stay exact under concurrent changes of the same inbox', async () => {
    const tenant = await makeTenant(server)
    const inbox = await makeInbox(server, tenant)
    const subjects = Array.from({ length: 12 }, (_, i) => `c${i}`)
    const ids = [...(await fill(inbox, subjects)).values()]
    // Many requests at once: each message read, unread, labelled and unlabelled by racing requests,
    // some of them on the same message.
    const changes = [
      { seen: true },
      { seen: false },
      { addLabels: ['handled'] },
      { addLabels: ['needs_reply', 'handled'] },
      { removeLabels: ['handled'] },
      { seen: true, addLabels: ['needs_reply'] },
    ]
    const requests: Promise<{ status: number }>[] = []
    for (let round = 0; round < 3; round++) {
      ids.forEach((id, i) => {
        requests.push(inbox.api.patch(`/v1/inboxes/${inbox.id}/messages/${id}`, changes[(i + round) % changes.length]))
        requests.push(tenant.api.patch(`/v1/inboxes/${inbox.id}/messages/${id}`, changes[(i * 5 + round + 1) % changes.length]))
      })
    }
    const statuses = (await Promise.all(requests)).map((r) => r.status)
    expect(statuses.every((s) => s === 200)).toBe(true)
    // New mail arriving in the middle of it all counts too.
    await sendMail(server, { to: inbox.address, subject: 'late' })
    await settled(server)
    const counts = (await inbox.api.get(`/v1/inboxes/${inbox.id}/counts`)).body
    expect(counts).toEqual(await scanned(inbox))
    expect(counts.total).toBe(13)
  })

  it('waits filter by label and unread', async () => {
    const tenant = await makeTenant(server)
    const inbox = await makeInbox(server, tenant)
    const start = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0`)
    const cursor = start.headers.get('mailroom-cursor')!
    const ids = await fill(inbox, ['first', 'second'])
    await inbox.api.patch(`/v1/inboxes/${inbox.id}/messages/${ids.get('first')}`, { seen: true, addLabels: ['handled'] })
    const wait = (q: string) => inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0&cursor=${cursor}&${q}`)
    expect((await wait('unread=true')).body.message.subject).toBe('second')
    expect((await wait('label=handled')).body.message.subject).toBe('first')
    expect((await wait('label=handled&unread=true')).status).toBe(204)
    expect((await wait('label=Not%20a%20label')).status).toBe(400)
  })

  it('quarantined mail is never counted; releasing it counts it once', async () => {
    const tenant = await makeTenant(server)
    const held = await tenant.api.post('/v1/inboxes', { name: 'held-counts', createKey: true, policies: { quarantine: { minScore: 0 } } })
    const inbox = { id: held.body.id, address: held.body.address, api: (await import('@mailroom/testkit/server')).client(server.baseUrl, held.body.apiKey) }
    await sendMail(server, { to: inbox.address, subject: 'held', text: 'x' })
    await settled(server)
    const empty = { total: 0, unread: 0, labels: [] }
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/counts`)).body).toEqual(empty)
    expect((await tenant.api.get(`/v1/inboxes/${inbox.id}/counts`)).body).toEqual(empty)
    const [m] = (await tenant.api.get(`/v1/inboxes/${inbox.id}/messages?quarantined=true`)).body.data
    // A person may label it while it is held: still not counted, and the agent cannot touch it.
    expect((await tenant.api.patch(`/v1/inboxes/${inbox.id}/messages/${m.id}`, { addLabels: ['needs_reply'] })).status).toBe(200)
    expect((await inbox.api.patch(`/v1/inboxes/${inbox.id}/messages/${m.id}`, { seen: true })).status).toBe(404)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/counts`)).body).toEqual(empty)
    expect((await tenant.api.post(`/v1/inboxes/${inbox.id}/messages/${m.id}/release`)).status).toBe(200)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/counts`)).body).toEqual({ total: 1, unread: 1, labels: [{ label: 'needs_reply', total: 1, unread: 1 }] })
  })
})

describe('deleting mail removes its labels, counts and index entries', () => {
  const rowsOf = async (inboxUuid: string) => {
    const [r] = await owner<{ counts: number; total: number; search: number }>(sql`
      select (select count(*)::int from mailbox_counts where inbox_id = ${inboxUuid}::uuid) as counts,
             (select coalesce(sum(total), 0)::int from mailbox_counts where inbox_id = ${inboxUuid}::uuid) as total,
             (select count(*)::int from message_search where inbox_id = ${inboxUuid}::uuid) as search`)
    return r!
  }

  it('a message, then its inbox, then its tenant', async () => {
    const parent = await makeTenant(server)
    const tenant = await makeChild(parent, server)
    const inbox = await makeInbox(server, tenant)
    const ids = await fill(inbox, ['keep', 'drop'])
    await inbox.api.patch(`/v1/inboxes/${inbox.id}/messages/${ids.get('drop')}`, { addLabels: ['handled'] })
    const uuid = fromPublicId('inbox', inbox.id)!
    expect(await rowsOf(uuid)).toEqual({ counts: 2, total: 3, search: 2 })
    expect((await inbox.api.delete(`/v1/inboxes/${inbox.id}/messages/${ids.get('drop')}`)).status).toBe(204)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/counts`)).body).toEqual({ total: 1, unread: 1, labels: [] })
    expect(await rowsOf(uuid)).toMatchObject({ total: 1, search: 1 })
    expect((await tenant.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    expect(await rowsOf(uuid)).toEqual({ counts: 0, total: 0, search: 0 })

    const inbox2 = await makeInbox(server, tenant)
    await fill(inbox2, ['t'])
    const uuid2 = fromPublicId('inbox', inbox2.id)!
    expect((await rowsOf(uuid2)).search).toBe(1)
    expect((await parent.api.delete(`/v1/tenants/${tenant.id}`)).status).toBe(204)
    expect(await rowsOf(uuid2)).toEqual({ counts: 0, total: 0, search: 0 })
  })

  it('retention', async () => {
    const tenant = await makeTenant(server)
    const inbox = await makeInbox(server, tenant)
    expect((await tenant.api.call('PUT', `/v1/inboxes/${inbox.id}/limits`, { retentionDays: 5 })).status).toBe(200)
    const ids = await fill(inbox, ['old'])
    await inbox.api.patch(`/v1/inboxes/${inbox.id}/messages/${ids.get('old')}`, { addLabels: ['handled'] })
    offsetDays = 10
    try {
      await purgeExpired(server.running.deps.database, clock, silentLogger)
    } finally {
      offsetDays = 0
    }
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/counts`)).body).toEqual({ total: 0, unread: 0, labels: [] })
    expect(await rowsOf(fromPublicId('inbox', inbox.id)!)).toMatchObject({ total: 0, search: 0 })
  })
})
