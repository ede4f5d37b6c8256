// The SDK end to end: a real Mailroom (HTTP + SMTP on loopback, its own database), real mail sent
// over SMTP by nodemailer, and the SDK used exactly as an agent would use it.
import type * as contract from '@mailroom/contract'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { makeTenant, startTestServer, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { later } from '@mailroom/testkit'
import { deliver, settled } from '@mailroom/testkit/mail'
import { fromPublicId } from '../../../apps/server/src/lib/ids.js'
// Brings the helpers' `inject('templateDatabase')` typing into this program (tsc only).
import type {} from '@mailroom/testkit/global-setup'
import {
  Mailroom,
  MailroomAbortError,
  MailroomAuthError,
  MailroomNotFoundError,
  MailroomTimeoutError,
  isPendingApproval,
  type Inbox,
  type MailroomEvent,
  type MessageSummary,
  type SentMessage,
} from '../src/index.js'

let server: TestServer
let tenant: TenantFixture
/** The tenant's client and an agent's client that holds only its inbox key. */
let mailroom: Mailroom
let agent: Mailroom
let inbox: Inbox

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Resolves once the server holds more long-poll waits than `before` (a condition, not a sleep). */
const parkedBeyond = (before: number) => expect.poll(() => server.running.deps.waits.parked, { timeout: 30_000 }).toBeGreaterThan(before)
/** Resolves once the server holds more requests (waits, event streams) of the tenant than `before`. */
const heldBeyond = (tenantId: string, before: number) =>
  expect.poll(() => server.running.deps.held.heldBy(fromPublicId('tenant', tenantId)!), { timeout: 30_000 }).toBeGreaterThan(before)



beforeAll(async () => {
  server = await startTestServer()
  tenant = await makeTenant(server, 'sdk-e2e')
  mailroom = new Mailroom({ apiKey: tenant.key, baseUrl: server.baseUrl, maxRetries: 0 })
  const created = await mailroom.createInbox({ name: 'signup-bot', displayName: 'Signup bot', createKey: true })
  expect(created.address).toBe(`signup-bot@${server.config.domain}`)
  expect(created.apiKey).toMatch(/^mr_ik_/)
  agent = new Mailroom({ apiKey: created.apiKey!, baseUrl: server.baseUrl, maxRetries: 0 })
  inbox = await agent.inbox()
})
afterAll(() => server?.stop())

describe('an agent with only its inbox key', () => {
  it('finds its own inbox without any id', () => {
    expect(inbox.address).toBe(`signup-bot@${server.config.domain}`)
    expect(inbox.displayName).toBe('Signup bot')
    expect(inbox.id).toMatch(/^inb_/)
  })

  it('waits for a verification code that arrives over SMTP', async () => {
    const parked = server.running.deps.waits.parked
    const waiting = later(inbox.waitForMessage({ from: 'noreply@shop.example', subject: /code \d{6}/, timeout: 15_000 }))
    await parkedBeyond(parked) // the wait is in place on the server before the mail is sent
    // Decoys: another sender, and the right sender with a subject that does not match.
    await deliver(server, { from: 'someone@else.example', to: inbox.address, subject: 'Your code 111111', text: 'not this one' })
    await deliver(server, { from: 'noreply@shop.example', to: inbox.address, subject: 'Welcome!', text: 'hello' })
    await deliver(server, {
      from: 'Shop <noreply@shop.example>',
      to: inbox.address,
      subject: 'Your code 493021',
      text: 'Your sign-up code is 493021. It expires in 10 minutes.',
    })
    const msg = await waiting
    expect(msg.subject).toBe('Your code 493021')
    expect(msg.from).toEqual({ address: 'noreply@shop.example', name: 'Shop' })
    expect(msg.text).toContain('493021')
    expect(/\b(\d{6})\b/.exec(msg.text ?? '')?.[1]).toBe('493021')
    expect(msg.inboxId).toBe(inbox.id)
    expect(msg.direction).toBe('inbound')
    expect(typeof msg.cursor).toBe('string')
    expect(msg.cursor.length).toBeGreaterThan(0)
  })

  it('continues from a cursor without missing mail that arrived in between', async () => {
    const parked = server.running.deps.waits.parked
    const first = later(inbox.waitForMessage({ subject: 'cursor-one', timeout: 15_000 }))
    await parkedBeyond(parked)
    await deliver(server, { to: inbox.address, subject: 'cursor-one' })
    const one = await first
    // Arrives while nobody waits: the next wait from the cursor still gets it.
    await deliver(server, { to: inbox.address, subject: 'cursor-two' })
    await settled(server)
    const two = await inbox.waitForMessage({ since: one.cursor, timeout: 10_000 })
    expect(two.subject).toBe('cursor-two')
  })

  it('reads mail: list (async iteration and pages), get, raw bytes, attachments, threads', async () => {
    const csv = 'sku,qty\nA-1,3\n'
    const root = await deliver(server, {
      from: 'alice@customer.example',
      to: inbox.address,
      subject: 'Order question',
      text: 'Hello, see the attached order.',
      attachments: [{ filename: 'order.csv', content: csv, contentType: 'text/csv' }],
    })
    await deliver(server, {
      from: 'alice@customer.example',
      to: inbox.address,
      subject: 'Re: Order question',
      text: 'One more thing.',
      inReplyTo: root.messageId,
      references: root.messageId,
    })
    await settled(server)

    const all: MessageSummary[] = []
    for await (const m of inbox.messages.list({ from: 'alice@customer.example' })) all.push(m)
    expect(all.map((m) => m.subject)).toEqual(['Re: Order question', 'Order question']) // newest first
    // Paging with a small limit walks the same items.
    const paged: string[] = []
    for await (const m of inbox.messages.list({ from: 'alice@customer.example', limit: 1 })) paged.push(m.id)
    expect(paged).toEqual(all.map((m) => m.id))
    const firstPage = await inbox.messages.list({ from: 'alice@customer.example' }).page({ limit: 1 })
    expect(firstPage.data).toHaveLength(1)
    expect(firstPage.nextCursor).toBeTruthy()

    const summary = all.find((m) => m.subject === 'Order question')!
    expect(summary.attachments).toHaveLength(1)
    const full = await inbox.messages.get(summary.id)
    expect(full.text).toContain('see the attached order')
    expect(full.messageId).toBe(root.messageId)
    expect(full.headers.some((h) => h.name.toLowerCase() === 'subject')).toBe(true)

    const raw = await inbox.messages.raw(summary.id)
    expect(raw).toBeInstanceOf(Uint8Array)
    const rawText = new TextDecoder().decode(raw)
    expect(rawText).toMatch(/^Subject: Order question\r$/m)
    expect(rawText).toContain(root.messageId)
    expect(raw.length).toBe(full.size)

    const att = full.attachments[0]!
    expect(att).toMatchObject({ filename: 'order.csv', contentType: 'text/csv' })
    const bytes = await inbox.messages.attachment(full.id, att.id)
    expect(new TextDecoder().decode(bytes)).toBe(csv)

    // Both messages are one thread.
    const reply = all.find((m) => m.subject === 'Re: Order question')!
    expect(reply.threadId).toBe(full.threadId)
    const threads: string[] = []
    for await (const t of inbox.threads.list()) threads.push(t.id)
    expect(threads).toContain(full.threadId)
    const thread = await inbox.threads.get(full.threadId!)
    expect(thread.messageCount).toBe(2)
    expect(thread.messages.map((m) => m.id).sort()).toEqual([full.id, reply.id].sort())
  })

  it('throws MailroomTimeoutError when nothing matches in time', async () => {
    const started = Date.now()
    const err = await inbox.waitForMessage({ subject: 'never-sent-subject', timeout: 1_200 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomTimeoutError)
    expect((err as MailroomTimeoutError).code).toBe('timeout')
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(1_100)
    expect(took).toBeLessThan(15_000) // its own deadline, not the wait's 20 s-plus alternatives
  })

  it('throws MailroomAbortError when its signal aborts', async () => {
    const controller = new AbortController()
    const waiting = inbox.waitForMessage({ subject: 'never-sent-either', timeout: 20_000, signal: controller.signal })
    setTimeout(() => controller.abort(), 300)
    const started = Date.now()
    const err = await waiting.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomAbortError)
    expect(err).not.toBeInstanceOf(MailroomTimeoutError)
    expect(Date.now() - started).toBeLessThan(15_000) // the abort, not the 20 s timeout
  })

  it('cannot see another inbox: MailroomNotFoundError, exactly like a missing one', async () => {
    const other = await mailroom.createInbox({ name: 'other-agent' })
    await deliver(server, { to: other.address, subject: 'for the other agent only' })
    await settled(server)
    const otherMsgs: string[] = []
    for await (const m of other.messages.list()) otherMsgs.push(m.id)
    expect(otherMsgs).toHaveLength(1)

    await expect(agent.inbox(other.id)).rejects.toBeInstanceOf(MailroomNotFoundError)
    await expect(agent.inbox('inb_doesnotexist')).rejects.toBeInstanceOf(MailroomNotFoundError)
    // The other inbox's message, even through the agent's own inbox path.
    await expect(inbox.messages.get(otherMsgs[0]!)).rejects.toBeInstanceOf(MailroomNotFoundError)
    const err = await agent.inbox(other.id).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 404, code: 'not_found' })
    expect((err as MailroomNotFoundError).requestId).toBeTruthy()
    // And its own list never shows the other inbox's mail.
    for await (const m of inbox.messages.list()) expect(m.inboxId).toBe(inbox.id)
  })

  it('sends and replies (delivered inside Mailroom), answering SentMessage with deliveries', async () => {
    expectTypeOf<{ [K in keyof SentMessage]: SentMessage[K] }>().toEqualTypeOf<contract.SentMessage>()
    const colleague = await mailroom.createInbox({ name: 'colleague' })
    const colleagueSince = await colleague.cursor()
    const sent = await inbox.send({ to: colleague.address, subject: 'Status', text: 'All done.' })
    const arriving = colleague.waitForMessage({ since: colleagueSince, from: inbox.address, timeout: 15_000 })
    expect(sent).toMatchObject({ direction: 'outbound', subject: 'Status', from: { address: inbox.address } })
    expect(sent.deliveries).toEqual([expect.objectContaining({ recipient: colleague.address })])
    const got = await arriving
    expect(got.text).toContain('All done.')

    const since = await inbox.cursor()
    const reply = await colleague.reply(got, { text: 'Thanks!' })
    const back = inbox.waitForMessage({ since, from: colleague.address, subject: 'Re: Status', timeout: 15_000 })
    expect(reply.subject).toBe('Re: Status')
    const answer = await back
    expect(answer.inReplyTo).toBe(sent.messageId)
    expect(answer.threadId).toBe(sent.threadId)
  })

  it('a bad key gives MailroomAuthError', async () => {
    const bad = new Mailroom({ apiKey: 'mr_ik_notarealkey0000000000000000', baseUrl: server.baseUrl, maxRetries: 0 })
    const err = await bad.inbox().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomAuthError)
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' })
    await expect(new Mailroom({ apiKey: 'not-even-a-key', baseUrl: server.baseUrl }).me()).rejects.toBeInstanceOf(MailroomAuthError)
  })
})

describe('approval of what agents send, through the SDK', () => {
  it('the agent learns its mail awaits a person (PendingApproval); a tenant key lists, approves and rejects; waitForStatus sees the decision', async () => {
    const created = await mailroom.createInbox({ name: 'careful-bot', createKey: true, policies: { outboundApproval: 'all' } })
    const careful = await new Mailroom({ apiKey: created.apiKey!, baseUrl: server.baseUrl, maxRetries: 0 }).inbox()
    const sent = await careful.send({ to: 'customer@example.com', subject: 'Offer', text: 'Ten percent off' })
    expect(sent.status).toBe('pending_approval')
    expect(isPendingApproval(sent)).toBe(true)
    if (!isPendingApproval(sent)) throw new Error('unreachable')
    expectTypeOf(sent.approval.reasons).toEqualTypeOf<string[]>()
    expect(sent.deliveries).toEqual([])
    const other = await careful.send({ to: 'someone@example.com', subject: 'Other', text: 'x' })

    // The agent's key cannot decide.
    const agentClient = new Mailroom({ apiKey: created.apiKey!, baseUrl: server.baseUrl, maxRetries: 0 })
    await expect(agentClient.approvals.approve(careful.id, sent.id)).rejects.toMatchObject({ status: 403, code: 'forbidden' })
    await expect(agentClient.approvals.list().page()).rejects.toMatchObject({ status: 403 })

    const waiting = (await mailroom.approvals.list({ inboxId: careful.id }).page()).data
    expect(waiting.map((a) => [a.messageId, a.subject])).toEqual([
      [sent.id, 'Offer'],
      [other.id, 'Other'],
    ])
    const decided = later(careful.messages.waitForStatus(sent.id, { timeout: 30_000, interval: 50 }))
    const approved = await mailroom.approvals.approve(careful.id, sent.id, { text: 'Five percent off' })
    expect(approved.approval?.status).toBe('approved')
    expect((await decided).status).not.toBe('pending_approval')
    expect((await careful.messages.get(sent.id)).text).toBe('Five percent off')
    const rejected = await mailroom.approvals.reject(careful.id, other.id, 'not now')
    expect(rejected.status).toBe('rejected')
    expect((await careful.messages.waitForStatus(other.id, { status: 'rejected', timeout: 5_000 })).status).toBe('rejected')
    await expect(careful.messages.waitForStatus(other.id, { status: 'sent', timeout: 100, interval: 50 })).rejects.toBeInstanceOf(MailroomTimeoutError)

    // A draft, sent under the same policy, is held like any send.
    const draft = await careful.drafts.create({ to: 'later@example.com', subject: 'Draft' })
    await careful.drafts.update(draft.id, { text: 'written later' })
    expect((await careful.drafts.list().page()).data.map((d) => [d.id, d.text])).toEqual([[draft.id, 'written later']])
    expect((await careful.drafts.get(draft.id)).subject).toBe('Draft')
    const fromDraft = await careful.drafts.send(draft.id)
    expect(isPendingApproval(fromDraft)).toBe(true)
    const doomed = await careful.drafts.create({ subject: 'scrap' })
    await careful.drafts.delete(doomed.id)
    expect((await careful.drafts.list().page()).data).toEqual([])
  })
})

/** Every operation of the server's OpenAPI document, and the SDK method that calls it. */
const OPERATIONS: Record<string, string> = {
  getMe: 'mailroom.me',
  createTenant: 'mailroom.tenants.create',
  listTenants: 'mailroom.tenants.list',
  getTenant: 'mailroom.tenants.get',
  updateTenant: 'mailroom.tenants.update',
  deleteTenant: 'mailroom.tenants.delete',
  getSendingState: 'mailroom.tenants.sending',
  updateSending: 'mailroom.tenants.updateSending',
  resumeSending: 'mailroom.tenants.resumeSending',
  createApiKey: 'mailroom.apiKeys.create',
  listApiKeys: 'mailroom.apiKeys.list',
  revokeApiKey: 'mailroom.apiKeys.revoke',
  createInbox: 'mailroom.inboxes.create',
  listInboxes: 'mailroom.inboxes.list',
  getInbox: 'mailroom.inboxes.get',
  updateInbox: 'mailroom.inboxes.update',
  deleteInbox: 'mailroom.inboxes.delete',
  getInboxLimits: 'inbox.getLimits',
  setInboxLimits: 'inbox.setLimits',
  waitForMessage: 'inbox.waitForMessage',
  sendMessage: 'inbox.send',
  replyToMessage: 'inbox.reply',
  forwardMessage: 'inbox.forward',
  listMessages: 'inbox.messages.list',
  getMessage: 'inbox.messages.get',
  getRawMessage: 'inbox.messages.raw',
  getAttachment: 'inbox.messages.attachment',
  deleteMessage: 'inbox.messages.delete',
  releaseMessage: 'inbox.messages.release',
  cancelMessage: 'inbox.messages.cancel',
  approveMessage: 'mailroom.approvals.approve',
  rejectMessage: 'mailroom.approvals.reject',
  listApprovals: 'mailroom.approvals.list',
  createDraft: 'inbox.drafts.create',
  listDrafts: 'inbox.drafts.list',
  getDraft: 'inbox.drafts.get',
  updateDraft: 'inbox.drafts.update',
  deleteDraft: 'inbox.drafts.delete',
  sendDraft: 'inbox.drafts.send',
  listDeliveries: 'inbox.messages.deliveries',
  listThreads: 'inbox.threads.list',
  getThread: 'inbox.threads.get',
  streamEvents: 'mailroom.events.stream',
  getUsage: 'mailroom.usage.get',
  listAuditLog: 'mailroom.auditLog.list',
  createSenderRule: 'mailroom.senderRules.create',
  listSenderRules: 'mailroom.senderRules.list',
  deleteSenderRule: 'mailroom.senderRules.delete',
  listSuppressions: 'mailroom.suppressions.list',
  createSuppression: 'mailroom.suppressions.create',
  deleteSuppression: 'mailroom.suppressions.delete',
  createDomain: 'mailroom.domains.create',
  listDomains: 'mailroom.domains.list',
  getDomain: 'mailroom.domains.get',
  verifyDomain: 'mailroom.domains.verify',
  updateDomain: 'mailroom.domains.update',
  deleteDomain: 'mailroom.domains.delete',
  createWebhook: 'mailroom.webhooks.create',
  listWebhooks: 'mailroom.webhooks.list',
  getWebhook: 'mailroom.webhooks.get',
  updateWebhook: 'mailroom.webhooks.update',
  deleteWebhook: 'mailroom.webhooks.delete',
  listWebhookDeliveries: 'mailroom.webhooks.deliveries',
  replayWebhookDelivery: 'mailroom.webhooks.replay',
  updateMessage: 'inbox.messages.update',
  getInboxCounts: 'inbox.counts',
  searchMessages: 'inbox.messages.search',
  listContacts: 'inbox.contacts.list',
  getContact: 'inbox.contacts.get',
  updateContact: 'inbox.contacts.update',
  deleteContact: 'inbox.contacts.delete',
}

describe("an agent's own bookkeeping: read state, labels, counts, search, contacts", () => {
  it('marks read and unread, labels, counts, filters lists and waits, and searches by whole words', async () => {
    const own = await mailroom.createInbox({ name: 'bookkeeper', createKey: true })
    const box = await new Mailroom({ apiKey: own.apiKey!, baseUrl: server.baseUrl, maxRetries: 0 }).inbox()
    await deliver(server, { from: 'Vera Vendor <vera@vendor.example>', to: box.address, subject: 'Invoice 88 overdue', text: 'Please settle the invoice.' })
    await deliver(server, { from: 'friend@pals.example', to: box.address, subject: 'Picnic', text: 'Sandwiches on Saturday?' })
    await settled(server)
    const all = await box.messages.list().page()
    const invoice = all.data.find((m) => m.subject === 'Invoice 88 overdue')!
    expect(invoice).toMatchObject({ seenAt: null, labels: [] })
    expect(await box.counts()).toEqual({ total: 2, unread: 2, labels: [] })

    expect((await box.messages.markRead(invoice.id)).seenAt).not.toBeNull()
    expect((await box.messages.label(invoice.id, ['needs_reply', 'finance'])).labels).toEqual(['finance', 'needs_reply'])
    expect(await box.counts()).toEqual({
      total: 2,
      unread: 1,
      labels: [
        { label: 'finance', total: 1, unread: 0 },
        { label: 'needs_reply', total: 1, unread: 0 },
      ],
    })
    expect((await box.messages.list({ label: 'needs_reply' }).page()).data.map((m) => m.id)).toEqual([invoice.id])
    expect((await box.messages.list({ unread: true }).page()).data.map((m) => m.subject)).toEqual(['Picnic'])
    expect((await box.messages.unlabel(invoice.id, 'needs_reply')).labels).toEqual(['finance'])
    expect((await box.messages.markUnread(invoice.id)).seenAt).toBeNull()
    expect((await box.messages.update(invoice.id, { seen: true, addLabels: ['handled'] })).labels).toEqual(['finance', 'handled'])
    const threads = await box.threads.list().page()
    expect(threads.data.find((t) => t.subject === 'Picnic')?.unread).toBe(true)

    const since = await box.cursor()
    await deliver(server, { from: 'vera@vendor.example', to: box.address, subject: 'Reminder', text: 'Still waiting on invoice 88.' })
    const next = await box.waitForMessage({ since, unread: true, timeout: 15_000 })
    expect(next.subject).toBe('Reminder')

    const found: string[] = []
    for await (const m of box.messages.search({ q: 'invoice', limit: 1 })) found.push(m.subject ?? '')
    expect(found).toEqual(['Reminder', 'Invoice 88 overdue'])
    expect((await box.messages.search({ q: 'vera vendor', label: 'handled' }).page()).data.map((m) => m.subject)).toEqual(['Invoice 88 overdue'])
    expect((await box.messages.search({ q: 'invoi' }).page()).data).toEqual([])
  })

  it('lists, edits and deletes contacts', async () => {
    const own = await mailroom.createInbox({ name: 'networker', createKey: true })
    const box = await new Mailroom({ apiKey: own.apiKey!, baseUrl: server.baseUrl, maxRetries: 0 }).inbox()
    await deliver(server, { from: 'ada@engines.example', to: box.address, subject: 'Hello', text: 'hi' })
    await settled(server)
    const [ada] = (await box.contacts.list({ q: 'engines' }).page()).data
    expect(ada).toMatchObject({ address: 'ada@engines.example', receivedCount: 1, sentCount: 0 })
    const edited = await box.contacts.update(ada!.id, { name: 'Ada', notes: 'Likes short replies.', tags: ['vip'] })
    expect(edited).toMatchObject({ name: 'Ada', notes: 'Likes short replies.', tags: ['vip'], blocked: false })
    expect(await box.contacts.get(ada!.id)).toEqual(edited)
    expect((await box.contacts.list({ tag: 'vip' }).page()).data.map((c) => c.id)).toEqual([ada!.id])
    await box.contacts.delete(ada!.id)
    await expect(box.contacts.get(ada!.id)).rejects.toBeInstanceOf(MailroomNotFoundError)
  })
})

describe('coverage', () => {
  it('the SDK has a method for every operation of the OpenAPI document', async () => {
    const spec = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId?: string }>> }
    const operations = Object.values(spec.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId ?? '(no operationId)'))
    // A new route fails here until the SDK (and this table) has it.
    expect(operations.filter((op) => !(op in OPERATIONS)), 'operations the SDK lacks').toEqual([])
    expect(Object.keys(OPERATIONS).filter((op) => !operations.includes(op)), 'SDK methods whose route is gone').toEqual([])
    const roots: Record<string, unknown> = { mailroom, inbox }
    for (const [op, path] of Object.entries(OPERATIONS)) {
      const [root, ...rest] = path.split('.')
      const fn = rest.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], roots[root!])
      expect(typeof fn, `${op} -> ${path}`).toBe('function')
    }
  })
})

describe('administration, sending state and events, through the SDK', () => {
  /** The UTC day of `offset` days from now, as the usage report wants it. */
  const day = (offset = 0) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)

  it('inbox.cursor() taken before the trigger: waitForMessage({ since }) gets mail that arrived before the wait began', async () => {
    const since = await inbox.cursor()
    // The "sign-up" happens, and its mail is in, before anyone waits.
    await deliver(server, { from: 'noreply@app.example', to: inbox.address, subject: 'Confirm your e-mail: 774411' })
    await settled(server)
    const msg = await inbox.waitForMessage({ since, from: 'noreply@app.example', timeout: 10_000 })
    expect(msg.subject).toBe('Confirm your e-mail: 774411')
  })

  it('usage counts received mail (JSON per inbox, and CSV)', async () => {
    const counted = await mailroom.createInbox({ name: 'usage-counted' })
    await deliver(server, { to: counted.address, subject: 'usage 1' })
    await deliver(server, { to: counted.address, subject: 'usage 2' })
    await settled(server)
    const report = await mailroom.usage.get({ from: day(-1), to: new Date(), groupBy: 'inbox' })
    expect(report).toMatchObject({ from: day(-1), to: day(), groupBy: 'inbox' })
    expect(report.data.find((r) => r.inboxId === counted.id)).toMatchObject({ messagesReceived: 2 })
    expect(report.total.messagesReceived).toBeGreaterThanOrEqual(2)
    const csv = await mailroom.usage.csv({ from: day(-1), to: day() })
    expect(csv.split('\r\n')[0]).toBe('tenantId,inboxId,day,messagesReceived,messagesSent,apiRequests,bytesStored')
    expect(csv).toMatch(/\r\ntotal,/)
  })

  it('the audit log shows the inbox just created, newest first', async () => {
    const created = await mailroom.createInbox({ name: 'audited' })
    const { data } = await mailroom.auditLog.list().page({ limit: 10 })
    expect(data[0]).toMatchObject({ action: 'inbox.created', targetId: created.id, tenantId: tenant.id, actor: { kind: 'tenant' } })
    const only = await mailroom.auditLog.list({ tenantId: tenant.id }).page({ limit: 1 })
    expect(only.data[0]?.id).toBe(data[0]!.id)
  })

  it('a hide rule keeps a sender\'s mail out of the list unless includeHidden; the rule lists and deletes', async () => {
    const rule = await mailroom.senderRules.create({ inboxId: inbox.id, direction: 'inbound', action: 'block', pattern: 'hidden-sender.example', blockMode: 'hide' })
    expect(rule).toMatchObject({ inboxId: inbox.id, pattern: 'hidden-sender.example', blockMode: 'hide', setByTenantId: tenant.id })
    await deliver(server, { from: 'bot@hidden-sender.example', to: inbox.address, subject: 'you should not see me' })
    await settled(server)
    const visible: string[] = []
    for await (const m of inbox.messages.list({ from: 'bot@hidden-sender.example' })) visible.push(m.id)
    expect(visible).toEqual([])
    const hidden: string[] = []
    for await (const m of inbox.messages.list({ from: 'bot@hidden-sender.example', includeHidden: true })) hidden.push(m.id)
    expect(hidden).toHaveLength(1)
    const rules: string[] = []
    for await (const r of mailroom.senderRules.list()) rules.push(r.id)
    expect(rules).toContain(rule.id)
    await mailroom.senderRules.delete(rule.id)
    await expect(mailroom.senderRules.delete(rule.id)).rejects.toBeInstanceOf(MailroomNotFoundError)
  })

  it('inbox limits, suppressions and the tenant\'s sending state', async () => {
    const target = await mailroom.inbox(inbox.id)
    const set = await target.setLimits({ sendPerMinute: 7 })
    expect(set).toMatchObject({ inboxId: inbox.id, limits: { sendPerMinute: 7 }, effective: { sendPerMinute: 7 } })
    expect((await inbox.getLimits()).limits).toEqual({ sendPerMinute: 7 }) // the agent reads its own
    await mailroom.inboxes.setLimits(inbox.id, {})
    expect((await mailroom.inboxes.getLimits(inbox.id)).limits).toEqual({})

    const s = await mailroom.suppressions.create({ address: 'Gone+Tag@Example.com', detail: 'test' })
    expect(s).toMatchObject({ address: 'gone+tag@example.com', reason: 'manual', detail: 'test' })
    const listed: string[] = []
    for await (const x of mailroom.suppressions.list()) listed.push(x.address)
    expect(listed).toContain('gone+tag@example.com')
    await mailroom.suppressions.delete('gone+tag@example.com')
    await expect(mailroom.suppressions.delete('gone+tag@example.com')).rejects.toBeInstanceOf(MailroomNotFoundError)

    expect(await mailroom.tenants.sending(tenant.id)).toMatchObject({ tenantId: tenant.id, paused: false, ipPool: 'shared' })
  })

  it('deliveries of a sent message, per recipient', async () => {
    const peer = await mailroom.createInbox({ name: 'delivery-peer' })
    const sent = await inbox.send({ to: peer.address, subject: 'deliveries?', text: 'hi' })
    expect(await inbox.messages.deliveries(sent.id)).toEqual([expect.objectContaining({ recipient: peer.address })])
    // Polled until the outbox has handed it to the other inbox, on this platform.
    let deliveries = await inbox.messages.deliveries(sent.id)
    for (let i = 0; i < 50 && deliveries[0]?.status !== 'delivered'; i++) {
      await sleep(100)
      deliveries = await inbox.messages.deliveries(sent.id)
    }
    expect(deliveries).toEqual([expect.objectContaining({ recipient: peer.address, status: 'delivered', route: 'internal' })])
  })

  it('events.stream gets message.received for mail sent over SMTP, then resumes after the last id', async () => {
    const mine = (e: MailroomEvent) => e.type === 'message.received' && e.inboxId === inbox.id
    const subjectOf = (e: MailroomEvent) => (e.data as { message?: { subject?: string } }).message?.subject
    const controller = new AbortController()
    const events = agent.events.stream({ signal: controller.signal })[Symbol.asyncIterator]()
    const next = async (): Promise<MailroomEvent> => {
      for (;;) {
        const r = await events.next()
        if (r.done) throw new Error('the stream ended')
        if (mine(r.value)) return r.value
      }
    }
    const held = server.running.deps.held.heldBy(fromPublicId('tenant', inbox.tenantId)!)
    const first = later(next()) // connects now: only events from here on
    await heldBeyond(inbox.tenantId, held) // the stream is open on the server
    await deliver(server, { to: inbox.address, subject: 'event one' })
    const one = await first
    expect(subjectOf(one)).toBe('event one')
    controller.abort()
    expect((await events.next()).done).toBe(true)

    // Mail arrives while nobody listens; a new stream from the last id still gets it.
    await deliver(server, { to: inbox.address, subject: 'event two' })
    await settled(server)
    const resumed = new AbortController()
    for await (const e of agent.events.stream({ after: one.id, signal: resumed.signal })) {
      if (!mine(e)) continue
      expect(subjectOf(e)).toBe('event two')
      expect(BigInt(e.id)).toBeGreaterThan(BigInt(one.id))
      break
    }
  })
})
