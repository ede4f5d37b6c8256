import { generateKeyPairSync, randomBytes } from 'node:crypto'
import MailComposer from 'nodemailer/lib/mail-composer'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import {
  createFakeResolver,
  generateDkimKey,
  signMessage,
  verifyMessage,
  type DkimKey,
  type DnsResolver,
} from '../../src/mail/sender-auth.js'

const SENDER_IP = '127.0.0.1'
const base = { ip: SENDER_IP, helo: 'mail.example.com', mailFrom: 'bounces@example.com', mta: 'mx.mailroom.test' }

async function composeMessage(text = 'Hello from the test suite.\nSecond line.'): Promise<Buffer> {
  return new MailComposer({
    from: 'Alice <alice@example.com>',
    to: 'agent@inbox.mailroom.test',
    subject: 'DKIM round trip',
    text,
    date: new Date('2025-01-02T03:04:05Z'),
    messageId: '<test-1@example.com>',
  })
    .compile()
    .build()
}

// Real DNS splits TXT values into 255-byte strings; mailauth must join them back.
const chunks = (s: string): string[] => s.match(/.{1,255}/g) ?? []

function zone(key: DkimKey, extra: Record<string, Record<string, unknown>> = {}): DnsResolver {
  const dkim = key.dnsRecord('mr1', 'example.com')
  return createFakeResolver({
    'example.com': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
    '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject']] },
    [dkim.name]: { TXT: [chunks(dkim.value)] },
    ...extra,
  })
}

let key: DkimKey
let signed: Buffer
beforeAll(async () => {
  key = generateDkimKey()
  signed = await signMessage(await composeMessage(), { domain: 'example.com', selector: 'mr1', privateKeyPem: key.privateKeyPem })
})

describe('generateDkimKey', () => {
  it('returns a PEM private key and a TXT record carrying the public key', () => {
    expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    expect(key.publicKeyDns).toMatch(/^[A-Za-z0-9+/]+=*$/)
    expect(key.dnsRecord('MR1', 'Example.com')).toEqual({
      name: 'mr1._domainkey.example.com',
      type: 'TXT',
      value: `v=DKIM1; k=rsa; p=${key.publicKeyDns}`,
    })
  })
})

describe('signMessage', () => {
  it('prepends a relaxed/relaxed rsa-sha256 DKIM-Signature and keeps the message intact', async () => {
    const raw = await composeMessage()
    const out = await signMessage(raw, { domain: 'example.com', selector: 'mr1', privateKeyPem: key.privateKeyPem })
    const text = out.toString()
    expect(text).toMatch(/^DKIM-Signature: /)
    expect(text).toMatch(/a=rsa-sha256/)
    expect(text).toMatch(/c=relaxed\/relaxed/)
    expect(text).toMatch(/d=example\.com/)
    expect(text).toMatch(/s=mr1/)
    expect(out.subarray(out.length - raw.length).equals(raw)).toBe(true)
  })

  it('signs with ed25519 when given an Ed25519 key, and that verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    // RFC 8463: the DNS record carries the raw 32-byte key, not the SPKI wrapping.
    const rawPublic = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64')
    const out = await signMessage(await composeMessage(), { domain: 'example.com', selector: 'ed', privateKeyPem: pem })
    expect(out.toString()).toMatch(/a=ed25519-sha256/)
    const resolver = zone(key, { 'ed._domainkey.example.com': { TXT: [[`v=DKIM1; k=ed25519; p=${rawPublic}`]] } })
    const res = await verifyMessage(out, { ...base, resolver })
    expect(res).toMatchObject({ dkim: 'pass', dkimDomains: ['example.com'], dmarc: 'pass' })
  })

  it('keeps bare-LF messages bare-LF', async () => {
    const raw = Buffer.from('From: a@example.com\nTo: b@example.org\nSubject: hi\n\nbody\n')
    const out = await signMessage(raw, { domain: 'example.com', selector: 'mr1', privateKeyPem: key.privateKeyPem })
    expect(out.toString()).not.toContain('\r')
    const res = await verifyMessage(out, { ...base, resolver: zone(key) })
    expect(res.dkim).toBe('pass')
  })

  it('verifies when the clock moves on while it signs (the t= written is the t= signed)', async () => {
    // Each read of the clock is a second after the last, as if every step of the signer took that
    // long: a t= read twice would be written different from the one signed.
    let now = Date.parse('2026-12-05T12:00:00.000Z')
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => (now += 1000))
    let out: Buffer
    try {
      out = await signMessage(await composeMessage(), { domain: 'example.com', selector: 'mr1', privateKeyPem: key.privateKeyPem })
    } finally {
      clock.mockRestore()
    }
    const res = await verifyMessage(out, { ...base, resolver: zone(key) })
    expect(res).toMatchObject({ dkim: 'pass', dkimDomains: ['example.com'] })
  })

  it('throws on a key it cannot use instead of returning the message unsigned', async () => {
    const raw = await composeMessage()
    await expect(signMessage(raw, { domain: 'example.com', selector: 'mr1', privateKeyPem: 'not a key' })).rejects.toThrow(
      /not a valid PEM key/,
    )
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    await expect(signMessage(raw, { domain: 'example.com', selector: 'mr1', privateKeyPem: ec })).rejects.toThrow(/not supported/)
  })
})

describe('verifyMessage', () => {
  it('passes SPF, DKIM and DMARC for a signed message from an authorised IP', async () => {
    const res = await verifyMessage(signed, { ...base, resolver: zone(key) })
    expect(res).toMatchObject({ spf: 'pass', dkim: 'pass', dmarc: 'pass', dkimDomains: ['example.com'], dmarcPolicy: 'reject' })
    expect(res.reason).toBeUndefined()
    expect(res.header).toMatch(/^mx\.mailroom\.test;/)
    expect(res.header).toMatch(/dkim=pass/)
    expect(res.header).toMatch(/spf=pass/)
    expect(res.header).toMatch(/dmarc=pass/)
    expect(res.header).not.toMatch(/^Authentication-Results/i)
  })

  it('fails DKIM when the body changed after signing; DMARC then rests on SPF alone', async () => {
    const tampered = Buffer.from(signed.toString().replace('Second line.', 'Second line!'))
    expect(tampered.equals(signed)).toBe(false)

    const fromBadIp = await verifyMessage(tampered, { ...base, ip: '192.0.2.9', resolver: zone(key) })
    expect(fromBadIp).toMatchObject({ spf: 'fail', dkim: 'fail', dmarc: 'fail', dkimDomains: [] })

    // Aligned SPF still satisfies DMARC (RFC 7489: either aligned mechanism passes).
    const fromGoodIp = await verifyMessage(tampered, { ...base, resolver: zone(key) })
    expect(fromGoodIp).toMatchObject({ spf: 'pass', dkim: 'fail', dmarc: 'pass' })
    // The stored header agrees with the verdict (mailauth itself writes dkim=neutral here).
    expect(fromGoodIp.header).toMatch(/dkim=fail \(body hash did not verify\)/)
  })

  it('fails DKIM when a signed header changed', async () => {
    const tampered = Buffer.from(signed.toString().replace('Subject: DKIM round trip', 'Subject: DKIM round trap'))
    const res = await verifyMessage(tampered, { ...base, ip: '192.0.2.9', resolver: zone(key) })
    expect(res).toMatchObject({ dkim: 'fail', dmarc: 'fail' })
  })

  it('fails SPF from an IP the domain does not list, while DKIM keeps DMARC passing', async () => {
    const res = await verifyMessage(signed, { ...base, ip: '192.0.2.9', resolver: zone(key) })
    expect(res).toMatchObject({ spf: 'fail', dkim: 'pass', dmarc: 'pass' })
  })

  it('says none when the domain publishes nothing and the message is unsigned', async () => {
    const res = await verifyMessage(await composeMessage(), { ...base, resolver: createFakeResolver({}) })
    expect(res).toMatchObject({ spf: 'none', dkim: 'none', dmarc: 'none', dkimDomains: [] })
    expect(res.dmarcPolicy).toBeUndefined()
  })

  it('gives DKIM neutral, not pass, when the key is not published', async () => {
    const resolver = createFakeResolver({ 'example.com': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] } })
    const res = await verifyMessage(signed, { ...base, resolver })
    expect(res).toMatchObject({ spf: 'pass', dkim: 'neutral', dmarc: 'none', dkimDomains: [] })
  })

  it('turns DNS server failures into temperror', async () => {
    const resolver: DnsResolver = async () => {
      throw Object.assign(new Error('refused'), { code: 'EREFUSED' })
    }
    const res = await verifyMessage(signed, { ...base, resolver })
    expect(res.spf).toBe('temperror')
    expect(res.dkim).toBe('temperror')
  })

  it('never throws on garbage input', async () => {
    const resolver = zone(key)
    const inputs = [
      randomBytes(4096),
      Buffer.alloc(0),
      Buffer.from('just a body line without any header\r\n'),
      Buffer.from('\r\n\r\nbody after an empty header block'),
      Buffer.from('From: \r\nDKIM-Signature: v=1; a=rsa-sha256; d=; s=; b=!!!\r\n\r\nx'),
      Buffer.from('X'.repeat(200_000)),
    ]
    for (const raw of inputs) {
      const res = await verifyMessage(raw, { ...base, resolver })
      expect(['pass', 'fail', 'none', 'neutral', 'temperror', 'permerror', 'policy', 'softfail']).toContain(res.dkim)
      expect(res.dmarc).not.toBe('pass')
      expect(typeof res.header).toBe('string')
    }
  })

  it('returns temperror with a reason when verification outlives its timeout', async () => {
    const hang: DnsResolver = () => new Promise(() => {})
    const res = await verifyMessage(signed, { ...base, resolver: hang, timeoutMs: 50 })
    expect(res).toMatchObject({ spf: 'temperror', dkim: 'temperror', dmarc: 'temperror', dkimDomains: [] })
    expect(res.reason).toMatch(/timed out after 50 ms/)
    expect(res.header).toMatch(/^mx\.mailroom\.test;/)
  })

  it('checks the HELO domain when MAIL FROM is empty (a bounce)', async () => {
    const resolver = createFakeResolver({ 'mail.example.com': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] } })
    const res = await verifyMessage(await composeMessage(), { ...base, mailFrom: '', resolver })
    expect(res.spf).toBe('pass')
  })
})

describe('createFakeResolver', () => {
  it('answers like dns.promises.resolve: ENOTFOUND for unknown names, ENODATA for missing types', async () => {
    const resolver = createFakeResolver({
      'example.com': { TXT: [['a', 'b']], MX: [{ exchange: 'mx.example.com', priority: 10 }] },
    })
    expect(await resolver('Example.COM.', 'TXT')).toEqual([['a', 'b']])
    expect(await resolver('example.com', 'MX')).toEqual([{ exchange: 'mx.example.com', priority: 10 }])
    await expect(resolver('example.com', 'AAAA')).rejects.toMatchObject({ code: 'ENODATA' })
    await expect(resolver('nowhere.example', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' })
  })
})
