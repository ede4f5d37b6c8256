// Shared building blocks of the wire format: ids, timestamps, list envelopes, pagination.
import { z } from 'zod'

export const ID_PREFIXES = {
  tenant: 'tnt',
  inbox: 'inb',
  apiKey: 'key',
  message: 'msg',
  attachment: 'att',
  thread: 'thr',
  event: 'evt',
  rule: 'rul',
  audit: 'aud',
  domain: 'dom',
  webhook: 'whk',
  webhookDelivery: 'whd',
  draft: 'drf',
  contact: 'con',
} as const
export type IdKind = keyof typeof ID_PREFIXES

/** A public id: a type prefix and 32 hex characters, e.g. `inb_3f2a...`. */
export const publicId = (kind: IdKind) =>
  z
    .string()
    .regex(new RegExp(`^${ID_PREFIXES[kind]}_[0-9a-f]{32}$`), `must be a ${kind} id (${ID_PREFIXES[kind]}_...)`)

export const Timestamp = z.string().describe('RFC 3339 timestamp (UTC).')

export const Metadata = z
  .record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 keys')
  .describe('Free-form key/value pairs you own (at most 32 keys).')

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Page size, 1-100.'),
  after: z.string().max(200).optional().describe('The `nextCursor` of the previous page.'),
})
export type ListQuery = z.infer<typeof ListQuery>

export const listOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      data: z.array(item),
      nextCursor: z.string().nullable().describe('Pass as `after` to get the next page; null on the last page.'),
    })
    .meta({ id })

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}
