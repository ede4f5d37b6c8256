// Turning a send/reply/forward request into RFC 5322 bytes, after checking everything a sender
// controls: addresses, header injection (CR/LF in any header value), recipient count and size.
import { randomUUID } from 'node:crypto'
import MailComposer from 'nodemailer/lib/mail-composer'
import type { OutgoingAttachment, Recipient } from '@mailroom/contract'
import { ServiceError, type Issue } from '../errors.js'

export const MAX_RECIPIENTS = 50

export interface Address {
  address: string
  name: string | null
}

export interface Draft {
  from: Address
  to: Address[]
  cc: Address[]
  bcc: Address[]
  replyTo: Address[]
  subject: string
  text: string | null
  html: string | null
  attachments: { filename: string; content: Buffer; contentType: string; contentId: string | null; inline: boolean }[]
  headers: { name: string; value: string }[]
  inReplyTo: string | null
  references: string[]
  messageId: string
  date: Date
}

// Dot-atom local part and a host name: no quoted strings, no comments, no brackets, no spaces.
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$|^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*(?:localhost|test)$/
const CRLF = /[\r\n\0]/
const NAME_ADDR = /^\s*(.*?)\s*<([^<>]+)>\s*$/

/** Custom headers a sender may set; everything structural is ours. */
const ALLOWED_HEADER = /^(x-[a-z0-9-]{1,90}|list-unsubscribe|list-unsubscribe-post|list-id|auto-submitted|precedence)$/i
const RESERVED_X = /^x-(mailroom|original|forwarded-for)/i

export class DraftErrors {
  readonly issues: Issue[] = []
  add(path: string, message: string) {
    this.issues.push({ path, message })
  }
  throwIfAny() {
    const first = this.issues[0]
    if (first) throw new ServiceError('validation_error', `${first.path}: ${first.message}`, this.issues)
  }
}

export function isValidAddress(s: string): boolean {
  return s.length <= 254 && ADDRESS.test(s)
}

export function parseRecipients(value: Recipient | Recipient[] | undefined, path: string, errors: DraftErrors): Address[] {
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  const out: Address[] = []
  list.forEach((r, i) => {
    const at = Array.isArray(value) ? `${path}.${i}` : path
    let address: string
    let name: string | null = null
    if (typeof r === 'string') {
      if (CRLF.test(r)) return errors.add(at, 'must not contain CR or LF (header injection)')
      const m = NAME_ADDR.exec(r)
      if (m) {
        name = m[1]!.replace(/^"(.*)"$/, '$1') || null
        address = m[2]!.trim()
      } else address = r.trim()
    } else {
      address = r.address.trim()
      name = r.name ?? null
      if (CRLF.test(r.address) || (name !== null && CRLF.test(name))) return errors.add(at, 'must not contain CR or LF (header injection)')
    }
    if (!isValidAddress(address)) return errors.add(at, `not a valid email address: ${JSON.stringify(address.slice(0, 100))}`)
    out.push({ address: address.toLowerCase(), name })
  })
  return out
}

export function checkHeaderValue(value: string, path: string, errors: DraftErrors) {
  if (CRLF.test(value)) errors.add(path, 'must not contain CR or LF (header injection)')
}

export function parseHeaders(headers: Record<string, string> | undefined, errors: DraftErrors): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = []
  for (const [name, value] of Object.entries(headers ?? {})) {
    const path = `body.headers.${name}`
    if (CRLF.test(name) || !ALLOWED_HEADER.test(name) || RESERVED_X.test(name)) {
      errors.add(path, 'not an allowed custom header (X-*, List-Unsubscribe, List-Unsubscribe-Post, List-Id, Auto-Submitted, Precedence)')
      continue
    }
    checkHeaderValue(value, path, errors)
    out.push({ name, value })
  }
  return out
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/

export function parseAttachments(list: OutgoingAttachment[] | undefined, errors: DraftErrors): Draft['attachments'] {
  return (list ?? []).map((a, i) => {
    const path = `body.attachments.${i}`
    checkHeaderValue(a.filename, `${path}.filename`, errors)
    if (a.contentType !== undefined && (CRLF.test(a.contentType) || !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(a.contentType))) {
      errors.add(`${path}.contentType`, 'not a MIME type')
    }
    if (a.contentId !== undefined) checkHeaderValue(a.contentId, `${path}.contentId`, errors)
    if (!BASE64.test(a.content)) errors.add(`${path}.content`, 'must be base64')
    return {
      filename: a.filename,
      content: Buffer.from(a.content, 'base64'),
      contentType: a.contentType ?? 'application/octet-stream',
      contentId: a.contentId ?? null,
      inline: a.inline ?? false,
    }
  })
}

export function checkRecipientCount(d: Pick<Draft, 'to' | 'cc' | 'bcc'>, errors: DraftErrors) {
  const n = uniqueRecipients(d).length
  if (n === 0) errors.add('body.to', 'at least one recipient is required')
  if (n > MAX_RECIPIENTS) errors.add('body.to', `too many recipients: ${n} (at most ${MAX_RECIPIENTS} across to, cc and bcc)`)
}

export function uniqueRecipients(d: Pick<Draft, 'to' | 'cc' | 'bcc'>): string[] {
  return [...new Set([...d.to, ...d.cc, ...d.bcc].map((a) => a.address))]
}

export const newMessageIdHeader = (domain: string) => `<${randomUUID()}@${domain}>`

/** The message's bytes. Bcc never appears in them (it lives only in the envelope). */
export function compose(d: Draft): Promise<Buffer> {
  const fmt = (a: Address) => (a.name ? { name: a.name, address: a.address } : a.address)
  const mail = new MailComposer({
    from: fmt(d.from),
    to: d.to.map(fmt),
    cc: d.cc.length ? d.cc.map(fmt) : undefined,
    replyTo: d.replyTo.length ? d.replyTo.map(fmt) : undefined,
    subject: d.subject,
    text: d.text ?? undefined,
    html: d.html ?? undefined,
    messageId: d.messageId,
    date: d.date,
    inReplyTo: d.inReplyTo ?? undefined,
    references: d.references.length ? d.references : undefined,
    headers: d.headers.map((h) => ({ key: h.name, value: h.value })),
    attachments: d.attachments.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
      ...(a.contentId ? { cid: a.contentId.replace(/^<|>$/g, '') } : {}),
      ...(a.inline ? { contentDisposition: 'inline' as const } : {}),
    })),
    // A send with neither text nor html still gets an empty text part.
    ...(d.text === null && d.html === null ? { text: '' } : {}),
  })
  return new Promise((resolve, reject) => mail.compile().build((err, buf) => (err ? reject(err) : resolve(buf))))
}

/** The header block of composed bytes, unfolded, in order. */
export function headersOf(raw: Buffer): { name: string; value: string }[] {
  const end = raw.indexOf('\r\n\r\n')
  const block = raw.subarray(0, end < 0 ? raw.length : end).toString('utf8')
  const out: { name: string; value: string }[] = []
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1]!.value += ' ' + line.trim()
    else {
      const i = line.indexOf(':')
      if (i > 0) out.push({ name: line.slice(0, i), value: line.slice(i + 1).trim() })
    }
  }
  return out
}

