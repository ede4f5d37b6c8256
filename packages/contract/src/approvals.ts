// Human approval of what agents send: the approvals waiting for a person, and the decisions.
import { z } from 'zod'
import { Timestamp, listOf, publicId } from './common.js'

export const ApprovalStatus = z.enum(['pending', 'approved', 'rejected', 'expired'])
export type ApprovalStatus = z.infer<typeof ApprovalStatus>

export const Approval = z
  .object({
    messageId: publicId('message'),
    inboxId: publicId('inbox'),
    tenantId: publicId('tenant'),
    status: ApprovalStatus,
    reasons: z.array(z.string()).describe('Why it was held: the policies that hold it.'),
    recipients: z.array(z.string()),
    subject: z.string().nullable().describe('The subject as it will be sent (after an edit, the edited one).'),
    requestedAt: Timestamp,
    expiresAt: Timestamp,
    decidedAt: Timestamp.nullable(),
    decidedBy: z
      .object({ kind: z.enum(['tenant', 'operator', 'system']), tenantId: publicId('tenant').nullable(), keyId: publicId('apiKey').nullable() })
      .nullable()
      .describe('The key that approved or rejected it (`system`: expired).'),
    reason: z.string().nullable().describe('Why it was rejected.'),
    edited: z.boolean().describe('The approver changed subject or body before approving (the original is in the audit log).'),
  })
  .meta({ id: 'Approval' })
export type Approval = z.infer<typeof Approval>
export const ApprovalList = listOf(Approval, 'ApprovalList')

export const ApprovalListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().max(200).optional().describe('The `nextCursor` of the previous page.'),
  inboxId: publicId('inbox').optional().describe('Only this inbox.'),
  tenantId: publicId('tenant').optional().describe('Only this tenant (the caller or a descendant).'),
  status: ApprovalStatus.default('pending').describe('Default: what still waits.'),
})
export type ApprovalListQuery = z.input<typeof ApprovalListQuery>

export const ApproveRequest = z
  .object({
    subject: z.string().max(998).optional(),
    text: z.string().optional(),
    html: z.string().optional(),
  })
  .strict()
  .describe('Optional edits made before approving; the original is kept in the audit log.')
  .meta({ id: 'ApproveRequest' })
export type ApproveRequest = z.input<typeof ApproveRequest>

export const RejectRequest = z
  .object({ reason: z.string().min(1).max(1000) })
  .strict()
  .meta({ id: 'RejectRequest' })
export type RejectRequest = z.input<typeof RejectRequest>
