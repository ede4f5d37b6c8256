// Real SMTP in tests: nodemailer talking to the server's SMTP port on loopback.
import nodemailer from 'nodemailer'
import type { TestServer } from './server.js'

export interface OutgoingMail {
  from?: string
  to: string | string[]
  cc?: string | string[]
  subject?: string
  text?: string
  html?: string
  messageId?: string
  inReplyTo?: string
  references?: string | string[]
  attachments?: { filename: string; content: string | Buffer; contentType?: string }[]
  headers?: Record<string, string>
}

export function smtpTransport(server: TestServer, opts: { pool?: boolean } = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.running.smtpPort,
    secure: false,
    ignoreTLS: true,
    pool: opts.pool ?? false,
    tls: { rejectUnauthorized: false },
  })
}

/** Sends one message over SMTP and resolves with nodemailer's info (after the server's 250). */
export async function sendMail(server: TestServer, mail: OutgoingMail) {
  const transport = smtpTransport(server)
  try {
    return await transport.sendMail({ from: 'sender@example.com', ...mail })
  } finally {
    transport.close()
  }
}

/** Sends raw RFC 5322 bytes as they are (no rewriting). */
export async function sendRaw(server: TestServer, envelope: { from: string; to: string[] }, raw: Buffer | string) {
  const transport = smtpTransport(server)
  try {
    return await transport.sendMail({ envelope, raw })
  } finally {
    transport.close()
  }
}

/** Until every accepted message has been parsed and made visible. */
export const settled = (server: TestServer) => server.running.deps.ingest.idle()
