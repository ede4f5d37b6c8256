// Shared test setup: an msw server that fails on any unhandled request, a client factory and fixtures
// shaped like the contract (test/contract.test.ts parses them with the contract's schemas).
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { Mailroom, type MailroomOptions } from '../src/index.js'
import type {
  ApiKey,
  AuditEntry,
  Delivery,
  Domain,
  InboxData,
  InboxLimitsState,
  MailroomEvent,
  Message,
  MessageSummary,
  SenderRule,
  SendingState,
  SentMessage,
  Suppression,
  Tenant,
  ThreadWithMessages,
  UsageReport,
  Webhook,
  WebhookDelivery,
} from '../src/types.js'

export const BASE = 'http://mailroom.test'
export const server = setupServer()

/** Starts msw for the file; every request must be handled by the test that makes it. */
export function useMsw() {
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())
}

/** A client for tests: no retries unless asked, so error tests stay fast. */
export const client = (options: MailroomOptions = {}) => new Mailroom({ apiKey: 'mr_tk_test', baseUrl: BASE, maxRetries: 0, ...options })

let seq = 0
export const id = (prefix: string) => `${prefix}_${(++seq).toString(16).padStart(32, '0')}`
const NOW = '2025-01-01T00:00:00.000Z'

export const tenantFixture = (over: Partial<Tenant> = {}): Tenant => ({
  id: id('tnt'),
  parentId: null,
  name: 'Acme',
  status: 'active',
  limits: {},
  policies: {},
  parentPolicies: {},
  metadata: {},
  createdAt: NOW,
  updatedAt: NOW,
  ...over,
})

export const inboxFixture = (over: Partial<InboxData> = {}): InboxData => ({
  id: id('inb'),
  tenantId: id('tnt'),
  address: 'support@agents.test',
  displayName: 'Support',
  metadata: { team: 'a' },
  policies: {},
  createdAt: NOW,
  updatedAt: NOW,
  ...over,
})

export const apiKeyFixture = (over: Partial<ApiKey> = {}): ApiKey => ({
  id: id('key'),
  tenantId: id('tnt'),
  scope: 'tenant',
  inboxId: null,
  name: null,
  prefix: 'mr_tk_abcd',
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  createdAt: NOW,
  ...over,
})

export const messageFixture = (over: Partial<Message> = {}): Message => ({
  id: id('msg'),
  inboxId: id('inb'),
  threadId: id('thr'),
  direction: 'inbound',
  status: 'received',
  from: { address: 'alice@example.com', name: 'Alice' },
  to: [{ address: 'support@agents.test', name: null }],
  cc: [],
  subject: 'Hello',
  date: NOW,
  messageId: '<abc@example.com>',
  attachments: [{ id: id('att'), filename: 'a.pdf', contentType: 'application/pdf', size: 4, contentId: null, inline: false }],
  size: 1234,
  parseStatus: 'parsed',
  security: { risk: 'low', injectionScore: 0, signals: [], auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass', aligned: true }, autoReply: false, bulk: false, quarantined: false },
  seenAt: null,
  labels: [],
  receivedAt: NOW,
  replyTo: [],
  inReplyTo: null,
  references: [],
  text: 'Hi there',
  html: null,
  headers: [{ name: 'Subject', value: 'Hello' }],
  authentication: { spf: 'pass', dkim: 'pass', dmarc: 'pass' },
  parseError: null,
  ...over,
})

export const summaryFixture = (over: Partial<MessageSummary> = {}): MessageSummary => {
  const { replyTo: _r, inReplyTo: _i, references: _f, text: _t, html: _h, headers: _hd, authentication: _a, parseError: _p, ...base } = messageFixture()
  return { ...base, preview: 'Hi there', ...over }
}

export const threadFixture = (over: Partial<ThreadWithMessages> = {}): ThreadWithMessages => ({
  id: id('thr'),
  inboxId: id('inb'),
  subject: 'Hello',
  unread: true,
  messageCount: 1,
  lastMessageAt: NOW,
  createdAt: NOW,
  messages: [summaryFixture()],
  ...over,
})

export const deliveryFixture = (over: Partial<Delivery> = {}): Delivery => ({
  recipient: 'alice@example.com',
  status: 'queued',
  route: 'external',
  attempts: 0,
  lastError: null,
  nextAttemptAt: NOW,
  updatedAt: NOW,
  ...over,
})

export const sentFixture = (over: Partial<SentMessage> = {}): SentMessage => ({
  ...summaryFixture({ direction: 'outbound', status: 'queued' }),
  deliveries: [deliveryFixture()],
  ...over,
})

export const suppressionFixture = (over: Partial<Suppression> = {}): Suppression => ({
  address: 'gone@example.com',
  reason: 'hard_bounce',
  detail: '550 no such user',
  createdAt: NOW,
  ...over,
})

export const inboxLimitsFixture = (over: Partial<InboxLimitsState> = {}): InboxLimitsState => ({
  inboxId: id('inb'),
  limits: { sendPerDay: 100 },
  effective: { sendPerMinute: 60, sendPerDay: 100, receivePerMinute: null },
  ...over,
})

export const sendingStateFixture = (over: Partial<SendingState> = {}): SendingState => ({
  tenantId: id('tnt'),
  paused: false,
  pausedReason: null,
  pausedAt: null,
  ipPool: 'shared',
  bounceRate: 0,
  complaintRate: 0,
  windowSends: 12,
  ...over,
})

export const usageFixture = (over: Partial<UsageReport> = {}): UsageReport => ({
  from: '2025-01-01',
  to: '2025-01-31',
  groupBy: 'tenant',
  data: [{ tenantId: id('tnt'), inboxId: null, day: null, messagesReceived: 3, messagesSent: 1, apiRequests: 20, bytesStored: 4096 }],
  total: { messagesReceived: 3, messagesSent: 1, apiRequests: 20, bytesStored: 4096 },
  ...over,
})

export const auditFixture = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: id('aud'),
  tenantId: id('tnt'),
  actor: { kind: 'tenant', tenantId: id('tnt'), keyId: id('key') },
  action: 'inbox.created',
  targetType: 'inbox',
  targetId: id('inb'),
  details: { name: 'support' },
  createdAt: NOW,
  ...over,
})

export const senderRuleFixture = (over: Partial<SenderRule> = {}): SenderRule => ({
  id: id('rul'),
  inboxId: null,
  setByTenantId: id('tnt'),
  direction: 'inbound',
  action: 'block',
  pattern: 'spam.example',
  blockMode: 'reject',
  createdAt: NOW,
  ...over,
})

export const eventFixture = (over: Partial<MailroomEvent> = {}): MailroomEvent => ({
  id: '1',
  type: 'message.received',
  createdAt: NOW,
  inboxId: id('inb'),
  data: { messageId: id('msg') },
  ...over,
})

export const domainFixture = (over: Partial<Domain> = {}): Domain => ({
  id: id('dom'),
  name: 'mail.example.com',
  status: 'pending',
  records: [
    { purpose: 'verification', type: 'TXT', name: '_mailroom.mail.example.com', value: 'mailroom-verify=abc', required: true, state: 'unchecked', detail: null },
    { purpose: 'mx', type: 'MX', name: 'mail.example.com', value: 'mx.agents.test', priority: 10, required: true, state: 'unchecked', detail: null },
  ],
  catchAllInboxId: null,
  verifiedAt: null,
  lastCheckedAt: null,
  createdAt: NOW,
  updatedAt: NOW,
  ...over,
})

export const webhookFixture = (over: Partial<Webhook> = {}): Webhook => ({
  id: id('whk'),
  url: 'https://hooks.example.com/mailroom',
  inboxId: null,
  eventTypes: ['message.received'],
  payload: 'full',
  description: null,
  status: 'enabled',
  disabledReason: null,
  disabledAt: null,
  createdAt: NOW,
  updatedAt: NOW,
  ...over,
})

export const webhookDeliveryFixture = (over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: id('whd'),
  webhookId: id('whk'),
  eventId: '7',
  eventType: 'message.received',
  status: 'failed',
  attempts: 1,
  nextAttemptAt: null,
  lastStatusCode: 500,
  lastError: 'HTTP 500',
  succeededAt: null,
  createdAt: NOW,
  attemptLog: [{ attempt: 1, at: NOW, durationMs: 12, statusCode: 500, error: null }],
  ...over,
})

/** Collects (clones of) the requests a handler sees, to assert on their shape afterwards. */
export function recorder() {
  const requests: Request[] = []
  return {
    requests,
    record(request: Request) {
      requests.push(request.clone())
    },
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** What a request looked like on the wire, for asserting request shapes in one `toEqual`. */
export interface Seen {
  method: string
  path: string
  query: Record<string, string>
  body: unknown
  idempotencyKey: string | null
  accept: string | null
}

/** Reads a request (a clone: the handler may still read it) into a `Seen`. */
export async function seen(request: Request): Promise<Seen> {
  const url = new URL(request.url)
  const text = await request.clone().text()
  return {
    method: request.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    body: text ? JSON.parse(text) : undefined,
    idempotencyKey: request.headers.get('idempotency-key'),
    accept: request.headers.get('accept'),
  }
}
