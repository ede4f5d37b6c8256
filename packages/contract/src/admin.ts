// Tenant administration: usage metering, the audit log, allow/block lists.
import { z } from 'zod'
import { Timestamp, listOf, publicId } from './common.js'

export const UsageQuery = z.object({
  from: z.iso.date().describe('First UTC day (YYYY-MM-DD), inclusive.'),
  to: z.iso.date().describe('Last UTC day (YYYY-MM-DD), inclusive.'),
  groupBy: z.enum(['tenant', 'inbox', 'day']).default('tenant'),
  format: z.enum(['json', 'csv']).default('json').describe('Or send `Accept: text/csv`.'),
})
export type UsageQuery = z.input<typeof UsageQuery>

export const UsageCounters = z.object({
  messagesReceived: z.number().int(),
  messagesSent: z.number().int(),
  apiRequests: z.number().int(),
  bytesStored: z.number().int().describe('Bytes of mail stored at the end of the period (the last day in it).'),
})

export const UsageRow = UsageCounters.extend({
  tenantId: publicId('tenant').nullable(),
  inboxId: publicId('inbox').nullable(),
  day: z.string().nullable(),
}).meta({ id: 'UsageRow' })
export type UsageRow = z.infer<typeof UsageRow>

export const UsageReport = z
  .object({
    from: z.string(),
    to: z.string(),
    groupBy: z.enum(['tenant', 'inbox', 'day']),
    data: z.array(UsageRow),
    total: UsageCounters.describe('The caller and all its descendants, rolled up.'),
  })
  .meta({ id: 'UsageReport' })
export type UsageReport = z.infer<typeof UsageReport>

export const AuditEntry = z
  .object({
    id: publicId('audit'),
    tenantId: publicId('tenant'),
    actor: z.object({
      kind: z.enum(['tenant', 'inbox', 'operator', 'system']),
      tenantId: publicId('tenant').nullable(),
      keyId: publicId('apiKey').nullable(),
    }),
    action: z.string().describe('e.g. `tenant.created`, `tenant.suspended`, `api_key.revoked`, `inbox.deleted`.'),
    targetType: z.string(),
    targetId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    createdAt: Timestamp,
  })
  .meta({ id: 'AuditEntry' })
export type AuditEntry = z.infer<typeof AuditEntry>
export const AuditList = listOf(AuditEntry, 'AuditList')
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  after: z.string().max(200).optional(),
  tenantId: publicId('tenant').optional().describe('Only this tenant (the caller or a descendant).'),
})

export const SenderPattern = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(/^([^\s@]+@)?[a-z0-9.-]+\.[a-z0-9-]+$|^@[a-z0-9.-]+\.[a-z0-9-]+$/, 'an address (a@b.com) or a domain (b.com or @b.com)')

export const SenderRule = z
  .object({
    id: publicId('rule'),
    inboxId: publicId('inbox').nullable().describe('null: the whole tenant.'),
    setByTenantId: publicId('tenant').describe('The tenant whose key made the rule: an ancestor\'s rule cannot be removed by the tenant it binds.'),
    direction: z.enum(['inbound', 'outbound']),
    action: z.enum(['allow', 'block']),
    pattern: z.string(),
    blockMode: z.enum(['reject', 'hide']).describe('Inbound blocks: refuse at SMTP, or accept and keep hidden.'),
    createdAt: Timestamp,
  })
  .meta({ id: 'SenderRule' })
export type SenderRule = z.infer<typeof SenderRule>

export const CreateSenderRuleRequest = z
  .object({
    inboxId: publicId('inbox').optional(),
    direction: z.enum(['inbound', 'outbound']),
    action: z.enum(['allow', 'block']),
    pattern: SenderPattern,
    blockMode: z.enum(['reject', 'hide']).default('reject'),
  })
  .strict()
  .meta({ id: 'CreateSenderRuleRequest' })
export type CreateSenderRuleRequest = z.input<typeof CreateSenderRuleRequest>
export const SenderRuleList = listOf(SenderRule, 'SenderRuleList')
