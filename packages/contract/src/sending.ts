// Sending mail: send / reply / forward requests, delivery status per recipient, suppressions,
// inbox limits and a tenant's sending state (pause, IP pool).
import { z } from 'zod'
import { Timestamp, listOf, publicId } from './common.js'
import { InboxLimits } from './tenancy.js'
import { MessageSummary } from './messages.js'

export const Recipient = z
  .union([
    z.string().max(400).describe('`agent@example.com` or `Name <agent@example.com>`.'),
    z.object({ address: z.string().max(320), name: z.string().max(200).nullable().optional() }),
  ])
  .meta({ id: 'Recipient' })
export type Recipient = z.infer<typeof Recipient>

const Recipients = z.union([Recipient, z.array(Recipient).max(1000)])

export const OutgoingAttachment = z
  .object({
    filename: z.string().min(1).max(255),
    content: z.string().describe('The bytes, base64-encoded.'),
    contentType: z.string().max(200).optional(),
    contentId: z.string().max(255).optional().describe('For inline images referenced as `cid:` in the html.'),
    inline: z.boolean().optional(),
  })
  .meta({ id: 'OutgoingAttachment' })
export type OutgoingAttachment = z.infer<typeof OutgoingAttachment>

const Content = {
  subject: z.string().max(998).optional(),
  text: z.string().optional(),
  html: z.string().optional(),
  attachments: z.array(OutgoingAttachment).max(100).optional(),
  headers: z
    .record(z.string().max(100), z.string().max(2000))
    .optional()
    .describe('Custom headers: `X-*` and `List-Unsubscribe*` only; no CR/LF in values.'),
  replyTo: Recipients.optional(),
}

const SendAt = z.iso
  .datetime({ offset: true })
  .optional()
  .describe('Hold the message until then (status `scheduled`, cancellable); delivery starts at that time, also across restarts.')

export const SendRequest = z
  .object({ to: Recipients, cc: Recipients.optional(), bcc: Recipients.optional(), ...Content, sendAt: SendAt })
  .strict()
  .meta({ id: 'SendRequest' })
export type SendRequest = z.input<typeof SendRequest>

export const DraftRequest = z
  .object({ to: Recipients.optional(), cc: Recipients.optional(), bcc: Recipients.optional(), ...Content, sendAt: SendAt })
  .strict()
  .describe('A draft: everything a send takes, all optional until it is sent (then it is checked like a send). `sendAt` applies when it is sent: sending it schedules it.')
  .meta({ id: 'DraftRequest' })
export type DraftRequest = z.input<typeof DraftRequest>

export const Draft = z
  .object({
    id: publicId('draft'),
    inboxId: publicId('inbox'),
    to: z.array(Recipient),
    cc: z.array(Recipient),
    bcc: z.array(Recipient),
    replyTo: z.array(Recipient),
    subject: z.string().nullable(),
    text: z.string().nullable(),
    html: z.string().nullable(),
    headers: z.record(z.string(), z.string()),
    attachments: z.array(z.object({ filename: z.string(), contentType: z.string().nullable(), size: z.number().int() })).describe('Names and sizes (the bytes stay stored).'),
    sendAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Draft' })
export type Draft = z.infer<typeof Draft>
export const DraftList = listOf(Draft, 'DraftList')

export const ReplyRequest = z
  .object({
    ...Content,
    replyAll: z.boolean().default(false).describe('Also reply to every other To/Cc recipient of the original.'),
    to: Recipients.optional().describe('Extra recipients.'),
    cc: Recipients.optional(),
    bcc: Recipients.optional(),
    sendAt: SendAt,
  })
  .strict()
  .meta({ id: 'ReplyRequest' })
export type ReplyRequest = z.input<typeof ReplyRequest>

export const ForwardRequest = z
  .object({
    to: Recipients,
    cc: Recipients.optional(),
    bcc: Recipients.optional(),
    ...Content,
    includeAttachments: z.boolean().default(true),
    sendAt: SendAt,
  })
  .strict()
  .meta({ id: 'ForwardRequest' })
export type ForwardRequest = z.input<typeof ForwardRequest>

export const DeliveryStatus = z.enum(['queued', 'sending', 'deferred', 'sent', 'delivered', 'bounced', 'suppressed', 'held'])
export type DeliveryStatus = z.infer<typeof DeliveryStatus>

export const Delivery = z
  .object({
    recipient: z.string(),
    status: DeliveryStatus,
    route: z.enum(['internal', 'external']).nullable().describe('internal: an inbox on this platform.'),
    attempts: z.number().int(),
    lastError: z.string().nullable().describe('Why it was deferred, bounced, suppressed or held.'),
    nextAttemptAt: Timestamp.nullable(),
    updatedAt: Timestamp,
  })
  .meta({ id: 'Delivery' })
export type Delivery = z.infer<typeof Delivery>

export const ApprovalInfo = z
  .object({
    status: z.enum(['pending', 'approved', 'rejected', 'expired']),
    reasons: z.array(z.string()).describe('Why the message waits: the policies that held it.'),
    expiresAt: Timestamp,
  })
  .meta({ id: 'ApprovalInfo' })
export type ApprovalInfo = z.infer<typeof ApprovalInfo>

export const SentMessage = MessageSummary.extend({
  deliveries: z.array(Delivery).describe('One per recipient; empty while the message waits for approval.'),
  approval: ApprovalInfo.nullable()
    .optional()
    .describe('Set when an approval policy held the message (status `pending_approval`): it is NOT sent until a person approves it. Do not send it again.'),
}).meta({ id: 'SentMessage' })
export type SentMessage = z.infer<typeof SentMessage>

export const DeliveryList = z.object({ data: z.array(Delivery) }).meta({ id: 'DeliveryList' })

export const Suppression = z
  .object({
    address: z.string(),
    reason: z.enum(['hard_bounce', 'complaint', 'manual']),
    detail: z.string().nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Suppression' })
export type Suppression = z.infer<typeof Suppression>
export const SuppressionList = listOf(Suppression, 'SuppressionList')

export const CreateSuppressionRequest = z
  .object({ address: z.string().max(320), detail: z.string().max(500).optional() })
  .strict()
  .meta({ id: 'CreateSuppressionRequest' })

export const InboxLimitsResponse = z
  .object({
    inboxId: publicId('inbox'),
    limits: InboxLimits.describe('The inbox\'s own limits.'),
    effective: InboxLimits.describe('What applies: the tightest of the inbox\'s and its tenant chain\'s.'),
  })
  .meta({ id: 'InboxLimitsResponse' })
export type InboxLimitsResponse = z.infer<typeof InboxLimitsResponse>

export const SendingState = z
  .object({
    tenantId: publicId('tenant'),
    paused: z.boolean(),
    pausedReason: z.string().nullable(),
    pausedAt: Timestamp.nullable(),
    ipPool: z.string().describe('The IP pool external mail leaves from (`shared` unless assigned).'),
    bounceRate: z.number().describe('Hard bounces / external sends over the reputation window.'),
    complaintRate: z.number(),
    windowSends: z.number().int(),
  })
  .meta({ id: 'SendingState' })
export type SendingState = z.infer<typeof SendingState>

export const UpdateSendingRequest = z
  .object({ ipPool: z.string().min(1).max(64).describe('A pool the operator configured (MAILROOM_IP_POOLS).') })
  .strict()
  .meta({ id: 'UpdateSendingRequest' })
