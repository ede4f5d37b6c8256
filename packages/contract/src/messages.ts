// Messages, threads, waiting and events.
import { z } from 'zod'
import { Timestamp, listOf, publicId } from './common.js'
import { Risk, Security } from './safety.js'

export const EmailAddress = z
  .object({ address: z.string(), name: z.string().nullable() })
  .meta({ id: 'EmailAddress' })
export type EmailAddress = z.infer<typeof EmailAddress>

export const AttachmentInfo = z
  .object({
    id: publicId('attachment'),
    filename: z.string().nullable(),
    contentType: z.string(),
    size: z.number().int(),
    contentId: z.string().nullable(),
    inline: z.boolean(),
  })
  .meta({ id: 'Attachment' })
export type AttachmentInfo = z.infer<typeof AttachmentInfo>

export const Verdict = z.enum(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy'])
export const AuthenticationResults = z
  .object({ spf: Verdict, dkim: Verdict, dmarc: Verdict })
  .meta({ id: 'AuthenticationResults' })

/**
 * A label: a short lower-case word an inbox puts on its messages (letters, digits, `_ - . : /`, at
 * most 40 characters). `handled` and `needs_reply` are the conventional ones (SYSTEM_LABELS);
 * any other is the agent's own. Upper case is folded to lower case.
 */
export const Label = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}_\-.:/]{0,39}$/u, 'a label is 1-40 letters, digits or _ - . : /, starting with a letter or digit')
  .meta({ id: 'Label' })
export type Label = z.infer<typeof Label>
/** Labels with a meaning every client shares. */
export const SYSTEM_LABELS = ['handled', 'needs_reply'] as const
/** Labels one message may carry at most. */
export const MAX_LABELS_PER_MESSAGE = 20

export const MessageDirection = z.enum(['inbound', 'outbound'])
export const MessageStatus = z
  .enum(['received', 'queued', 'sending', 'sent', 'delivered', 'deferred', 'bounced', 'suppressed', 'held', 'failed', 'pending_approval', 'rejected', 'expired', 'scheduled', 'cancelled'])
  .describe(
    '`pending_approval`: sent by an agent under an approval policy, waiting for a person (not sent until approved); `rejected` / `expired`: a person rejected it, or nobody decided in time (never sent); ' +
      '`scheduled`: waiting for its `sendAt`; `cancelled`: a scheduled send cancelled before it went.',
  )
export const ParseStatus = z.enum(['pending', 'parsed', 'failed'])

const MessageBase = z.object({
  id: publicId('message'),
  inboxId: publicId('inbox'),
  threadId: publicId('thread').nullable(),
  direction: MessageDirection,
  status: MessageStatus,
  from: EmailAddress.nullable(),
  to: z.array(EmailAddress),
  cc: z.array(EmailAddress),
  subject: z.string().nullable(),
  date: Timestamp.nullable().describe('The Date header, when it parses.'),
  messageId: z.string().nullable().describe('The Message-ID header.'),
  attachments: z.array(AttachmentInfo),
  size: z.number().int().describe('Size of the raw message in bytes.'),
  parseStatus: ParseStatus.describe('`pending` until parsed; `failed` when the raw message could not be parsed (it is kept).'),
  security: Security.nullable().describe('The risk verdict of received mail (null for sent mail, and for mail not yet parsed).'),
  seenAt: Timestamp.nullable().describe('When it was marked read; null: unread. Sent mail is never unread.'),
  labels: z.array(z.string()).describe('The labels the inbox put on it.'),
  receivedAt: Timestamp,
})

export const MessageSummary = MessageBase.extend({
  preview: z.string().nullable().describe('The first 200 characters of the text body.'),
}).meta({ id: 'MessageSummary' })
export type MessageSummary = z.infer<typeof MessageSummary>

export const Message = MessageBase.extend({
  replyTo: z.array(EmailAddress),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  text: z.string().nullable(),
  html: z.string().nullable(),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).describe('Every header, in order, as received.'),
  authentication: AuthenticationResults.nullable().describe('SPF, DKIM and DMARC verdicts for inbound mail.'),
  parseError: z.string().nullable(),
}).meta({ id: 'Message' })
export type Message = z.infer<typeof Message>

export const MessageList = listOf(MessageSummary, 'MessageList')

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])

export const MessageListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().max(200).optional(),
  from: z.string().max(320).optional().describe('Sender address (exact, case-insensitive).'),
  to: z
    .string()
    .max(320)
    .optional()
    .describe('A recipient address (exact, case-insensitive). With `to` or `subject`, one request reads at most 2,000 messages: a page may come back short, even empty, with a `nextCursor` to read on.'),
  subject: z.string().max(500).optional().describe('Subject contains (case-insensitive). Bounded like `to`.'),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  hasAttachments: bool.optional(),
  threadId: publicId('thread').optional(),
  direction: MessageDirection.optional(),
  includeHidden: bool.optional().describe('Include mail from senders blocked with blockMode `hide`.'),
  quarantined: bool.optional().describe('true: only quarantined mail (tenant keys only; an agent never sees it).'),
  maxRisk: Risk.optional().describe('Only mail at this risk or below (`low`: only low-risk mail).'),
  label: Label.optional().describe('Only mail carrying this label.'),
  unread: bool.optional().describe('true: only unread received mail; false: only mail read (or sent).'),
})
export type MessageListQuery = z.input<typeof MessageListQuery>

export const Thread = z
  .object({
    id: publicId('thread'),
    inboxId: publicId('inbox'),
    subject: z.string().nullable(),
    messageCount: z.number().int(),
    unread: z.boolean().describe('Whether any received message in it is unread.'),
    lastMessageAt: Timestamp,
    createdAt: Timestamp,
  })
  .meta({ id: 'Thread' })
export type Thread = z.infer<typeof Thread>

export const ThreadWithMessages = Thread.extend({ messages: z.array(MessageSummary) }).meta({ id: 'ThreadWithMessages' })
export type ThreadWithMessages = z.infer<typeof ThreadWithMessages>
export const ThreadList = listOf(Thread, 'ThreadList')

export const MatchMode = z.enum(['exact', 'contains', 'regex'])
export type MatchMode = z.infer<typeof MatchMode>

export const WaitQuery = z.object({
  cursor: z.string().max(200).optional().describe('From a previous wait; omitted: the moment this wait began.'),
  timeout: z.coerce.number().int().min(0).max(30).default(25).describe('Seconds to hold the request (at most 30).'),
  from: z.string().max(500).optional(),
  fromMatch: MatchMode.default('exact'),
  to: z.string().max(500).optional(),
  toMatch: MatchMode.default('exact'),
  subject: z.string().max(500).optional(),
  subjectMatch: MatchMode.default('contains'),
  hasAttachments: bool.optional(),
  maxRisk: Risk.optional().describe('Only mail at this risk or below; quarantined mail never matches.'),
  label: Label.optional().describe('Only mail carrying this label when the wait looks at it.'),
  unread: bool.optional().describe('true: only mail still unread when the wait looks at it.'),
})
export type WaitQuery = z.input<typeof WaitQuery>

export const WaitResponse = z
  .object({
    message: Message,
    cursor: z.string().describe('Pass to the next wait to continue right after this message.'),
  })
  .meta({ id: 'WaitResponse' })
export type WaitResponse = z.infer<typeof WaitResponse>

export const EventType = z.enum([
  'message.received',
  'message.queued',
  'message.sending',
  'message.sent',
  'message.delivered',
  'message.deferred',
  'message.bounced',
  'message.suppressed',
  'message.held',
  'message.quarantined',
  'message.released',
  'message.approval_requested',
  'message.approved',
  'message.rejected',
  'message.expired',
  'sending.paused',
  'sending.resumed',
  'webhook.disabled',
])
export type EventType = z.infer<typeof EventType>

export const Event = z
  .object({
    id: z.string().describe('Increasing per tenant; send as Last-Event-ID to resume.'),
    type: EventType,
    createdAt: Timestamp,
    inboxId: publicId('inbox').nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' })
export type Event = z.infer<typeof Event>
