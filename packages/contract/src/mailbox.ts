// An agent's own bookkeeping in its mailbox: read state and labels, counts, search.
import { z } from 'zod'
import { listOf } from './common.js'
import { Label, MAX_LABELS_PER_MESSAGE, MessageSummary } from './messages.js'

export const UpdateMessageRequest = z
  .object({
    seen: z.boolean().optional().describe('true: mark read (keeps the first time it was read); false: mark unread.'),
    addLabels: z.array(Label).max(MAX_LABELS_PER_MESSAGE).optional().describe('Labels to put on it.'),
    removeLabels: z.array(Label).max(MAX_LABELS_PER_MESSAGE).optional().describe('Labels to take off (applied after addLabels).'),
  })
  .strict()
  .refine((b) => b.seen !== undefined || (b.addLabels?.length ?? 0) > 0 || (b.removeLabels?.length ?? 0) > 0, 'nothing to change: give seen, addLabels or removeLabels')
  .meta({ id: 'UpdateMessageRequest' })
export type UpdateMessageRequest = z.infer<typeof UpdateMessageRequest>

export const LabelCount = z
  .object({ label: z.string(), total: z.number().int(), unread: z.number().int() })
  .meta({ id: 'LabelCount' })

export const MailboxCounts = z
  .object({
    total: z.number().int().describe('Messages the agent sees in the inbox (quarantined and hidden mail left out).'),
    unread: z.number().int().describe('Of those, received mail not yet marked read.'),
    labels: z.array(LabelCount).describe('Per label in use, by name.'),
  })
  .meta({ id: 'MailboxCounts' })
export type MailboxCounts = z.infer<typeof MailboxCounts>

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])

export const SearchQuery = z.object({
  q: z
    .string()
    .min(1)
    .max(1000)
    .describe(
      'Words to find, all of them (whole words, any case and accent; no substrings, no phrases): in the subject, the text, the sender and recipient names and addresses, attachment names.',
    ),
  from: z.string().max(320).optional().describe('Sender address (exact, case-insensitive).'),
  to: z.string().max(320).optional().describe('A recipient address (exact, case-insensitive).'),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  label: Label.optional(),
  unread: bool.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().max(200).optional().describe('The `nextCursor` of the previous page.'),
})
export type SearchQuery = z.input<typeof SearchQuery>

export const SearchResults = listOf(MessageSummary, 'SearchResults')
export type SearchResults = z.infer<typeof SearchResults>


