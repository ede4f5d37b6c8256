// Shared test setup: an msw server that fails on any unhandled request, a client factory and fixtures
// shaped like the contract (test/contract.test.ts parses them with the contract's schemas).
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { Mailroom, type MailroomOptions } from '../src/index.js'
import type { ApiKey, InboxData, Message, MessageSummary, Tenant, ThreadWithMessages } from '../src/types.js'

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
  messageCount: 1,
  lastMessageAt: NOW,
  createdAt: NOW,
  messages: [summaryFixture()],
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
