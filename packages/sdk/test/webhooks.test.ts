// verifyWebhook against signatures made independently with node:crypto (the Standard Webhooks recipe).
import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { verifyWebhook, WebhookVerificationError } from '../src/index.js'

const secret = `whsec_${randomBytes(32).toString('base64')}`
const sign = (id: string, ts: number, body: string, s = secret) =>
  `v1,${createHmac('sha256', Buffer.from(s.slice(6), 'base64')).update(`${id}.${ts}.${body}`).digest('base64')}`

const body = JSON.stringify({ type: 'message.received', data: { message: { subject: 'hi' } } })
const now = Math.floor(Date.now() / 1000)
const headers = (over: Record<string, string> = {}) => ({
  'webhook-id': 'whd_1',
  'webhook-timestamp': String(now),
  'webhook-signature': sign('whd_1', now, body),
  ...over,
})

describe('verifyWebhook', () => {
  it('accepts a genuine request and returns the parsed body (plain object or Headers)', async () => {
    await expect(verifyWebhook({ payload: body, headers: headers(), secret })).resolves.toMatchObject({ type: 'message.received' })
    await expect(verifyWebhook({ payload: new TextEncoder().encode(body), headers: new Headers(headers()), secret })).resolves.toMatchObject({
      data: { message: { subject: 'hi' } },
    })
  })

  it('accepts when one of several signatures matches (secret rotation)', async () => {
    const other = sign('whd_1', now, body, `whsec_${randomBytes(32).toString('base64')}`)
    await expect(verifyWebhook({ payload: body, headers: headers({ 'webhook-signature': `${other} ${sign('whd_1', now, body)}` }), secret })).resolves.toBeTruthy()
  })

  it('refuses a changed body, a changed id, a wrong secret, a missing header', async () => {
    await expect(verifyWebhook({ payload: body.replace('hi', 'ho'), headers: headers(), secret })).rejects.toBeInstanceOf(WebhookVerificationError)
    await expect(verifyWebhook({ payload: body, headers: headers({ 'webhook-id': 'whd_2' }), secret })).rejects.toThrow(/no matching signature/)
    await expect(verifyWebhook({ payload: body, headers: headers(), secret: `whsec_${randomBytes(32).toString('base64')}` })).rejects.toThrow(/no matching/)
    const { 'webhook-signature': _s, ...missing } = headers()
    await expect(verifyWebhook({ payload: body, headers: missing, secret })).rejects.toThrow(/missing/)
  })

  it('refuses a timestamp outside the tolerance (replays), in either direction', async () => {
    const old = now - 600
    await expect(verifyWebhook({ payload: body, headers: headers({ 'webhook-timestamp': String(old), 'webhook-signature': sign('whd_1', old, body) }), secret })).rejects.toThrow(/too old/)
    const future = now + 600
    await expect(verifyWebhook({ payload: body, headers: headers({ 'webhook-timestamp': String(future), 'webhook-signature': sign('whd_1', future, body) }), secret })).rejects.toThrow(/too old/)
    await expect(
      verifyWebhook({ payload: body, headers: headers({ 'webhook-timestamp': String(old), 'webhook-signature': sign('whd_1', old, body) }), secret, toleranceSeconds: 700 }),
    ).resolves.toBeTruthy()
  })

  it('uses no node: modules (runs on any Web Crypto runtime)', async () => {
    const { readFileSync } = await import('node:fs')
    const src = readFileSync(new URL('../src/webhooks.ts', import.meta.url), 'utf8')
    expect(src).not.toMatch(/from ['"]node:|require\(/)
  })
})
