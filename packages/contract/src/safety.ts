// Agent safety: the risk verdict every received message carries, and the policies (inherited down
// the tenant tree) that quarantine risky mail. Names users rely on: DESIGN.md section 7.
import { z } from 'zod'

export const Risk = z.enum(['low', 'medium', 'high'])
export type Risk = z.infer<typeof Risk>

export const SignalCategory = z.enum([
  'instruction_override',
  'role_spoofing',
  'exfiltration',
  'coercion',
  'hidden_content',
  'obfuscation',
  'link_mismatch',
  'sender_spoofing',
])
export type SignalCategory = z.infer<typeof SignalCategory>

export const SignalLocation = z.enum(['subject', 'text', 'html', 'hidden_html', 'attachment_name', 'headers'])
export type SignalLocation = z.infer<typeof SignalLocation>

export const SecuritySignal = z
  .object({
    category: SignalCategory,
    location: SignalLocation.describe('Where it was found; `hidden_html` is text a reader of the HTML does not see.'),
    excerpt: z.string().describe('What fired, as written (at most 120 characters; invisible characters shown as [U+200B]).'),
    rule: z.string().describe('The rule that fired: stable, to count or allow-list.'),
    weight: z.number().describe("The rule's weight in the score, 0..1."),
  })
  .meta({ id: 'SecuritySignal' })
export type SecuritySignal = z.infer<typeof SecuritySignal>

export const Security = z
  .object({
    risk: Risk,
    injectionScore: z.number().min(0).max(1).describe('How much of the message reads as instructions aimed at an agent rather than mail.'),
    signals: z.array(SecuritySignal).describe('Why: each rule that fired, strongest first.'),
    auth: z
      .object({
        spf: z.string().nullable(),
        dkim: z.string().nullable(),
        dmarc: z.string().nullable(),
        aligned: z.boolean().nullable().describe("The From domain is aligned with a passing DKIM signature or SPF domain; null when unknown."),
      })
      .describe('Sender authentication as this server checked it (never as the message claims it).'),
    autoReply: z.boolean().describe('An automatic message: auto-reply, out-of-office, bounce or delivery report.'),
    bulk: z.boolean().describe('Mailing-list or bulk mail.'),
    quarantined: z.boolean().describe('Held back from the agent by a quarantine policy, until a person releases it.'),
  })
  .meta({ id: 'Security' })
export type Security = z.infer<typeof Security>

export const QuarantinePolicy = z
  .object({
    minRisk: Risk.exclude(['low']).nullable().optional().describe('Quarantine mail at this risk or above (`medium` or `high`); null: not by risk.'),
    minScore: z.number().min(0).max(1).nullable().optional().describe('Quarantine mail whose injectionScore reaches this; null: not by score.'),
    dmarcFail: z.boolean().optional().describe('Quarantine mail whose DMARC check failed.'),
  })
  .strict()
  .meta({ id: 'QuarantinePolicy' })
export type QuarantinePolicy = z.infer<typeof QuarantinePolicy>

export const ApprovalMode = z
  .enum(['none', 'first_contact', 'external', 'all'])
  .describe(
    'Which mail an agent (an inbox key) sends waits for a person: `none`; `first_contact`: mail to anyone this inbox has never mailed or received mail from; ' +
      '`external`: mail to anyone off the platform (not an inbox of this deployment); `all`: every message.',
  )
  .meta({ id: 'ApprovalMode' })
export type ApprovalMode = z.infer<typeof ApprovalMode>

export const Policies = z
  .object({
    quarantine: QuarantinePolicy.optional(),
    outboundApproval: ApprovalMode.optional(),
    approvalExpiryHours: z
      .number()
      .int()
      .min(1)
      .max(8760)
      .optional()
      .describe('Held mail not decided within this many hours ends `expired` (default 72; the shortest along the chain applies).'),
  })
  .strict()
  .describe("Inherited down the tree: a tenant's, its ancestors' and (for an inbox) the inbox's own combine, and the strictest of each applies.")
  .meta({ id: 'Policies' })
export type Policies = z.infer<typeof Policies>

/** The policies in force: every field decided (the strictest along the chain). */
export const EffectivePolicies = z
  .object({
    quarantine: z.object({ minRisk: Risk.exclude(['low']).nullable(), minScore: z.number().nullable(), dmarcFail: z.boolean() }),
    outboundApproval: z
      .array(ApprovalMode.exclude(['none']))
      .describe('Every approval mode set along the chain (and on the inbox): a send is held when any of them holds it. Empty: none.'),
    approvalExpiryHours: z.number().int().describe('How long held mail waits before it expires.'),
  })
  .meta({ id: 'EffectivePolicies' })
export type EffectivePolicies = z.infer<typeof EffectivePolicies>
