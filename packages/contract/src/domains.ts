// Custom sending/receiving domains of a tenant and the DNS records that prove and configure them.
import { z } from 'zod'
import { Timestamp, listOf, publicId } from './common.js'

export const DomainName = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a domain name like mail.example.com')

export const DnsRecordState = z.enum(['unchecked', 'verified', 'missing', 'mismatch', 'error'])

export const DnsRecord = z
  .object({
    purpose: z.enum(['verification', 'mx', 'spf', 'dkim', 'dmarc']),
    type: z.enum(['TXT', 'MX']),
    name: z.string(),
    value: z.string(),
    priority: z.number().int().optional(),
    required: z.boolean().describe('Needed for the domain to become verified.'),
    state: DnsRecordState,
    detail: z.string().nullable().describe('What was found instead, or the DNS error.'),
  })
  .meta({ id: 'DnsRecord' })
export type DnsRecord = z.infer<typeof DnsRecord>

export const Domain = z
  .object({
    id: publicId('domain'),
    name: z.string(),
    status: z.enum(['pending', 'verified']),
    records: z.array(DnsRecord),
    catchAllInboxId: publicId('inbox').nullable().describe('Mail to unknown addresses of the domain goes here; null: 550.'),
    verifiedAt: Timestamp.nullable(),
    lastCheckedAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Domain' })
export type Domain = z.infer<typeof Domain>

export const CreateDomainRequest = z.object({ name: DomainName }).strict().meta({ id: 'CreateDomainRequest' })
export type CreateDomainRequest = z.infer<typeof CreateDomainRequest>

export const UpdateDomainRequest = z
  .object({ catchAllInboxId: publicId('inbox').nullable() })
  .strict()
  .meta({ id: 'UpdateDomainRequest' })
export type UpdateDomainRequest = z.infer<typeof UpdateDomainRequest>

export const DomainList = listOf(Domain, 'DomainList')
