// The inbound-safety verdict and the scorer's input. The verdict's names are part of the public
// contract (DESIGN.md section 7): users and their agents read them.

export type SignalCategory =
  | 'instruction_override'
  | 'role_spoofing'
  | 'exfiltration'
  | 'coercion'
  | 'hidden_content'
  | 'obfuscation'
  | 'link_mismatch'
  | 'sender_spoofing'

export type SignalLocation = 'subject' | 'text' | 'html' | 'hidden_html' | 'attachment_name' | 'headers'

export type Risk = 'low' | 'medium' | 'high'

export interface Signal {
  category: SignalCategory
  location: SignalLocation
  /** What fired, as the reader saw it: at most 120 characters, invisible characters shown as `[U+200B]`. */
  excerpt: string
  /** The rule that fired (see rules.ts); stable, so it can be allow-listed or counted. */
  rule: string
  /** The rule's weight in the score, 0..1. */
  weight: number
}

export interface AuthSummary {
  spf: string | null
  dkim: string | null
  dmarc: string | null
  /** From's domain aligned (relaxed) with a passing DKIM signature or SPF domain; null when unknown. */
  aligned: boolean | null
}

export interface Verdict {
  risk: Risk
  /** 0..1: how much of this message reads as instructions aimed at the agent rather than mail. */
  injectionScore: number
  signals: Signal[]
  auth: AuthSummary
  /** An automatic message: auto-reply, out-of-office, bounce or other delivery report. */
  autoReply: boolean
  /** Mailing-list or bulk mail (List-Id, List-Unsubscribe, Precedence: bulk/list/junk). */
  bulk: boolean
  /** Decided by the caller's policy; the scorer always answers false. */
  quarantined: boolean
}

export interface ScoreAddress {
  address: string
  name: string | null
}

/**
 * Authentication results as the receiving server computed them (never as a header in the message
 * claims them: a sender can write any Authentication-Results header it likes).
 */
export interface ScoreAuth {
  spf: string | null
  dkim: string | null
  dmarc: string | null
  /** Domains of the DKIM signatures that passed. */
  dkimDomains?: string[]
  /** The SMTP MAIL FROM domain SPF checked, when known. */
  mailFromDomain?: string | null
}

export interface ScoreContext {
  /** The receiving tenant's own domains, e.g. ['mailroom.localhost', 'acme.com']. */
  tenantDomains: string[]
  /** The address the message was delivered to. */
  recipient: string | null
}

export interface ScoreInput {
  subject: string | null
  text: string | null
  html: string | null
  headers: { name: string; value: string }[]
  from: ScoreAddress | null
  replyTo: ScoreAddress[]
  attachments: { filename: string | null; contentType: string }[]
  auth: ScoreAuth | null
  context: ScoreContext
}
