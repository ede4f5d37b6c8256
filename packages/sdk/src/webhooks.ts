// Verifying Mailroom webhooks (Standard Webhooks scheme) with Web Crypto only: runs on Node 18+,
// Deno, Bun, Cloudflare Workers and browsers alike.

/**
 * The request is not a genuine, fresh Mailroom webhook: answer it with 400 and do not act on it.
 *
 * @example
 * try {
 *   await verifyWebhook({ payload, headers, secret })
 * } catch (err) {
 *   if (err instanceof WebhookVerificationError) return new Response('bad signature', { status: 400 })
 *   throw err
 * }
 */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WebhookVerificationError'
  }
}

/**
 * Request headers as a `Headers` object or a plain record (Node's `req.headers`).
 *
 * @example
 * const headers: WebhookHeaders = req.headers
 */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>

/**
 * What `verifyWebhook` needs.
 *
 * @example
 * const opts: VerifyWebhookOptions = { payload: await request.text(), headers: request.headers, secret: process.env.MAILROOM_WEBHOOK_SECRET! }
 */
export interface VerifyWebhookOptions {
  /** The raw request body, exactly as received (do not re-serialise parsed JSON). */
  payload: string | Uint8Array
  /** The request headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
  headers: WebhookHeaders
  /** The endpoint's secret, `whsec_...`, as shown when it was created. */
  secret: string
  /** Largest accepted clock difference, in seconds (default 300): older requests are replays. */
  toleranceSeconds?: number | undefined
  /** Current time in ms (tests). */
  now?: number | undefined
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const rec = headers as Record<string, string | string[] | undefined>
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name)
  const v = key === undefined ? undefined : rec[key]
  return Array.isArray(v) ? v[0] : v
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!)
  return btoa(bin)
}

/** Compares without an early exit, so timing says nothing about how much matched. */
function equal(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/**
 * Checks a webhook's signature and age, then returns its parsed body. Throws
 * `WebhookVerificationError` when the signature does not match, a header is missing, or the
 * timestamp is outside `toleranceSeconds`.
 *
 * @example
 * ```ts
 * import { verifyWebhook } from '@mailroom/sdk'
 *
 * app.post('/mailroom', async (req) => {
 *   const event = await verifyWebhook({
 *     payload: await req.text(),
 *     headers: req.headers,
 *     secret: process.env.MAILROOM_WEBHOOK_SECRET!,
 *   })
 *   if (event.type === 'message.received') console.log(event.data.message.subject)
 *   return new Response(null, { status: 204 })
 * })
 * ```
 */
export async function verifyWebhook<T = MailroomWebhookEvent>(opts: VerifyWebhookOptions): Promise<T> {
  const id = header(opts.headers, 'webhook-id')
  const timestamp = header(opts.headers, 'webhook-timestamp')
  const signatures = header(opts.headers, 'webhook-signature')
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header')
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('invalid webhook-timestamp')
  const tolerance = opts.toleranceSeconds ?? 300
  const nowSeconds = Math.floor((opts.now ?? Date.now()) / 1000)
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) throw new WebhookVerificationError('webhook-timestamp is too old or too new (replay?)')

  const secret = opts.secret.startsWith('whsec_') ? opts.secret.slice('whsec_'.length) : opts.secret
  let keyBytes: Uint8Array
  try {
    keyBytes = base64ToBytes(secret)
  } catch {
    throw new WebhookVerificationError('the secret is not a whsec_ base64 secret')
  }
  const body = typeof opts.payload === 'string' ? opts.payload : new TextDecoder().decode(opts.payload)
  const key = await crypto.subtle.importKey('raw', keyBytes as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`) as BufferSource)
  const expected = bytesToBase64(new Uint8Array(mac))
  const ok = signatures.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2)
    return version === 'v1' && sig !== undefined && equal(sig, expected)
  })
  if (!ok) throw new WebhookVerificationError('no matching signature')
  try {
    return JSON.parse(body) as T
  } catch {
    throw new WebhookVerificationError('the body is not JSON')
  }
}

/**
 * The body of every Mailroom webhook.
 *
 * @example
 * const event = await verifyWebhook<MailroomWebhookEvent>({ payload, headers, secret })
 * if (event.type === 'message.received') console.log(event.data.message.subject)
 */
export interface MailroomWebhookEvent {
  type: string
  timestamp: string
  /** The event id (increasing per tenant, like the event stream's). */
  eventId: string
  tenantId: string
  inboxId: string | null
  /** For message events: `{ message }`, the full parsed message unless the endpoint asked for summaries. */
  data: Record<string, any>
}
