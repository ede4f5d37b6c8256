// A support agent: it holds only its inbox key, waits for customer mail and answers each message
// in the same thread. Swap `answer` for a call to your model.
//
//   MAILROOM_API_KEY=mr_ik_... MAILROOM_BASE_URL=http://127.0.0.1:3000 npx tsx examples/support-agent.ts
import { pathToFileURL } from 'node:url'
import { Mailroom, MailroomTimeoutError, type Message } from '@mailroom/sdk'
import { mailroomFromEnv } from './support/env.js'

export interface SupportAgentOptions {
  /** A client with the agent's inbox key (default: from MAILROOM_API_KEY / MAILROOM_BASE_URL). */
  mailroom?: Mailroom
  /** Writes the reply to a message (default: a few canned answers). */
  answer?: (message: Message) => string | Promise<string>
  /** Stop after answering this many messages (default: never). */
  maxMessages?: number
  /** Stop when no mail arrives for this long, in ms (default: never). */
  idleTimeoutMs?: number
  /** Stops the agent. */
  signal?: AbortSignal
  /** Progress lines (default console.log). */
  log?: (line: string) => void
}

export interface Handled {
  messageId: string
  from: string | null
  subject: string | null
  replyId: string
  threadId: string | null
}

/** A canned answer by keyword; a real agent would ask its model (see tool-calling-loop.ts). */
export function cannedAnswer(message: Message): string {
  const text = `${message.subject ?? ''}\n${message.text ?? ''}`.toLowerCase()
  const name = message.from?.name ?? 'there'
  if (/refund|money back/.test(text)) return `Hi ${name},\n\nSorry to hear that. I have opened a refund request; you will hear from us within 2 business days.\n\nSupport bot`
  if (/hours|open/.test(text)) return `Hi ${name},\n\nWe are open Monday to Friday, 9:00-17:00 CET.\n\nSupport bot`
  return `Hi ${name},\n\nThanks for your message. A human colleague will follow up shortly.\n\nSupport bot`
}

/** Mail that must not be answered: our own, bounces and other automatic replies (no reply loops). */
function isAutomatic(message: Message, ownAddress: string): boolean {
  const header = (name: string) => message.headers.find((h) => h.name.toLowerCase() === name)?.value.toLowerCase()
  const from = message.from?.address.toLowerCase() ?? ''
  return (
    message.direction !== 'inbound' ||
    from === ownAddress.toLowerCase() ||
    /^(mailer-daemon|postmaster)@/.test(from) ||
    (header('auto-submitted') ?? 'no') !== 'no' ||
    header('precedence') === 'bulk' ||
    header('precedence') === 'auto_reply'
  )
}

export async function main(options: SupportAgentOptions = {}): Promise<Handled[]> {
  const mailroom = options.mailroom ?? mailroomFromEnv()
  const inbox = await mailroom.inbox() // the inbox key's own inbox: no ids needed
  const answer = options.answer ?? cannedAnswer
  const handled: Handled[] = []
  let since: string | undefined // the cursor: each wait continues right after the previous message
  while (handled.length < (options.maxMessages ?? Infinity)) {
    let message
    try {
      message = await inbox.waitForMessage({ since, timeout: options.idleTimeoutMs ?? Infinity, ...(options.signal ? { signal: options.signal } : {}) })
    } catch (err) {
      if (err instanceof MailroomTimeoutError) break // idle for long enough
      throw err
    }
    since = message.cursor
    if (isAutomatic(message, inbox.address)) continue
    const reply = await inbox.reply(message, { text: await answer(message) })
    handled.push({ messageId: message.id, from: message.from?.address ?? null, subject: message.subject, replyId: reply.id, threadId: reply.threadId })
    ;(options.log ?? console.log)(`answered "${message.subject}" from ${message.from?.address}`)
  }
  return handled
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
