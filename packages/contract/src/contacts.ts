// Contacts: per inbox, everyone it received mail from or sent mail to, kept automatically; the
// name, notes (encrypted at rest), tags and blocked flag are the agent's to edit.
import { z } from 'zod'
import { listOf, publicId, Timestamp } from './common.js'
import { Label } from './messages.js'

export const Contact = z
  .object({
    id: publicId('contact'),
    inboxId: publicId('inbox'),
    address: z.string().describe('The email address, lower-cased.'),
    name: z.string().nullable(),
    notes: z.string().nullable().describe('Free-form notes of the agent (stored encrypted).'),
    tags: z.array(z.string()),
    blocked: z.boolean().describe('Marked blocked by the agent or a person (a record; sender rules are what refuse mail).'),
    firstContactAt: Timestamp,
    lastContactAt: Timestamp,
    receivedCount: z.number().int().describe('Messages the inbox received from the address.'),
    verifiedReceivedCount: z
      .number()
      .int()
      .describe(
        'Of those, the ones that put the inbox in conversation with the address: its sender verified (From aligned with a passing SPF or DKIM, or DMARC pass; every sender while inbound verification is off), and neither quarantined nor hidden on arrival, or released by a person since. The approval policy `first_contact` and the first-contact limit count an address as known once this or `sentCount` is above zero: a forged From does not make its address one the agent may write to unheld.',
      ),
    sentCount: z.number().int().describe('Messages the inbox sent to the address.'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Contact' })
export type Contact = z.infer<typeof Contact>

export const ContactList = listOf(Contact, 'ContactList')

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])

export const ContactListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().max(200).optional().describe('The `nextCursor` of the previous page.'),
  q: z.string().trim().min(1).max(200).optional().describe('Address or name contains (case-insensitive).'),
  tag: Label.optional().describe('Only contacts with this tag.'),
  blocked: bool.optional(),
})
export type ContactListQuery = z.input<typeof ContactListQuery>

export const UpdateContactRequest = z
  .object({
    name: z.string().trim().max(200).nullable().optional(),
    notes: z.string().max(10_000).nullable().optional().describe('Replaces the notes (null clears them).'),
    tags: z.array(Label).max(20).optional().describe('Replaces the tags.'),
    blocked: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'nothing to change: give name, notes, tags or blocked')
  .meta({ id: 'UpdateContactRequest' })
export type UpdateContactRequest = z.infer<typeof UpdateContactRequest>
