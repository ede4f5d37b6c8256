// Outbound transport behind a small interface: the relay (smarthost) over SMTP with nodemailer,
// one connection pool per source address (IP pool).
import nodemailer, { type Transporter } from 'nodemailer'

export interface OutboundMessage {
  /** Envelope sender (MAIL FROM). */
  from: string
  /** One envelope recipient (RCPT TO). */
  to: string
  raw: Buffer
  /** Source address to bind (the tenant's IP pool). */
  localAddress?: string | undefined
}

export interface OutboundTransport {
  /** Resolves with the server's reply once accepted; rejects with a DeliveryError. */
  send(m: OutboundMessage): Promise<{ response: string }>
  close(): Promise<void>
}

/** permanent: a 5xx answer (bounce). Otherwise: 4xx or a connection problem (retry). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode: number | null,
  ) {
    super(message)
  }
}

export function relayTransport(relayUrl: string, opts: { maxConnections?: number } = {}): OutboundTransport {
  const url = new URL(relayUrl)
  const secure = url.protocol === 'smtps:'
  const base = {
    host: url.hostname,
    port: Number(url.port) || (secure ? 465 : 25),
    secure,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    pool: true as const,
    maxConnections: opts.maxConnections ?? 8,
    maxMessages: 1000,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  }
  const pools = new Map<string, Transporter>()
  const poolFor = (localAddress: string | undefined) => {
    const k = localAddress ?? ''
    let t = pools.get(k)
    if (!t) {
      t = nodemailer.createTransport({ ...base, ...(localAddress ? { localAddress } : {}) })
      pools.set(k, t)
    }
    return t
  }
  return {
    async send(m) {
      try {
        const info = await poolFor(m.localAddress).sendMail({ envelope: { from: m.from, to: [m.to] }, raw: m.raw })
        if (info.rejected?.length) throw Object.assign(new Error(`recipient rejected: ${info.response}`), { responseCode: 550 })
        return { response: String(info.response ?? '') }
      } catch (err) {
        const e = err as { message?: string; responseCode?: number; response?: string }
        const code = typeof e.responseCode === 'number' ? e.responseCode : null
        const msg = (e.response ?? e.message ?? String(err)).slice(0, 500)
        throw new DeliveryError(msg, code !== null && code >= 500, code)
      }
    },
    async close() {
      for (const t of pools.values()) t.close()
      pools.clear()
    },
  }
}
