// Inbound SPF/DKIM/DMARC verification and outbound DKIM signing, on top of mailauth.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { promises as dns } from 'node:dns'
import { hostname } from 'node:os'
import { authenticate, dkimSign } from 'mailauth'

/**
 * mailauth calls its `resolver` option as a bare function, `resolver(name, rrtype)`, exactly like
 * `dns.promises.resolve`: TXT answers are arrays of string chunks, MX answers `{ exchange, priority }`.
 * A missing record must reject with `code` 'ENOTFOUND' (no such name) or 'ENODATA' (no such type):
 * mailauth reads those as "no record" and any other failure as a temporary DNS error.
 */
export interface DnsResolver {
  (name: string, rrtype: string): Promise<any>
}

// Our own Resolver instance so a dead DNS server costs a bounded time instead of the OS default.
const systemDns = new dns.Resolver({ timeout: 2_000, tries: 2 })
export const systemResolver: DnsResolver = (name, rrtype) => systemDns.resolve(name, rrtype)

function dnsError(code: string, name: string, rrtype: string): Error {
  return Object.assign(new Error(`query${rrtype} ${code} ${name}`), { code, hostname: name })
}

/** An in-memory DNS for tests: `{ 'example.com': { TXT: [['v=spf1 -all']], MX: [...] } }`. */
export function createFakeResolver(records: Record<string, Record<string, any>>): DnsResolver {
  const zone = new Map(Object.entries(records).map(([name, rrs]) => [name.toLowerCase().replace(/\.$/, ''), rrs]))
  return async (name, rrtype) => {
    const rrs = zone.get(name.toLowerCase().replace(/\.$/, ''))
    if (!rrs) throw dnsError('ENOTFOUND', name, rrtype)
    const answer = rrs[rrtype.toUpperCase()]
    if (answer === undefined || (Array.isArray(answer) && answer.length === 0)) throw dnsError('ENODATA', name, rrtype)
    return structuredClone(answer)
  }
}

export type Verdict = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy'

export interface AuthResults {
  spf: Verdict
  dkim: Verdict
  dmarc: Verdict
  /** Signing domains of the DKIM signatures that passed. */
  dkimDomains: string[]
  /** DMARC policy of the From domain ('none' | 'quarantine' | 'reject'), when a record was found. */
  dmarcPolicy?: string
  /** Authentication-Results value (folded), to be written as `Authentication-Results: ${header}`. */
  header: string
  /** Set when verification could not run to completion (timeout, internal error). */
  reason?: string
}

export interface VerifyOptions {
  ip: string
  helo: string
  /** SMTP MAIL FROM; empty for bounces (SPF then checks the HELO domain). */
  mailFrom: string
  resolver: DnsResolver
  /** authserv-id written into the header; mailauth defaults to os.hostname(). */
  mta?: string
  /** Default 5,000 ms. On expiry every verdict is temperror. */
  timeoutMs?: number
}

const VERDICTS = new Set<string>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy'])

function toVerdict(result: string | undefined): Verdict {
  if (result === 'temperr') return 'temperror'
  if (result === 'skipped' || result === undefined) return 'none'
  return VERDICTS.has(result) ? (result as Verdict) : 'temperror'
}

// With several signatures the best one decides; among failures, the most actionable one is reported.
const DKIM_RANK: Verdict[] = ['pass', 'fail', 'temperror', 'permerror', 'policy', 'neutral', 'softfail', 'none']

interface DkimRow {
  signingDomain?: string
  status?: { result?: string; comment?: string | false }
}

// mailauth says "neutral" for a body hash mismatch; RFC 6376 6.1.3 makes it a PERMFAIL (the content
// changed after signing), which is what a reader of `dkim` or of the stored header needs to know.
const BODY_HASH_MISMATCH = 'body hash did not verify'

function dkimVerdict(row: DkimRow): Verdict {
  if (row.status?.result === 'neutral' && row.status.comment === BODY_HASH_MISMATCH) return 'fail'
  return toVerdict(row.status?.result)
}

function arHeaderValue(headers: string): string {
  const marker = 'Authentication-Results: '
  const at = headers.lastIndexOf(marker)
  if (at < 0) return ''
  return headers
    .slice(at + marker.length)
    .replace(/\r?\n$/, '')
    .replaceAll(`dkim=neutral (${BODY_HASH_MISMATCH})`, `dkim=fail (${BODY_HASH_MISMATCH})`)
}

export async function verifyMessage(raw: Buffer, opts: VerifyOptions): Promise<AuthResults> {
  const mta = opts.mta
  const timeoutMs = opts.timeoutMs ?? 5_000
  let expired = false
  // mailauth cannot be cancelled; after the deadline its remaining lookups fail fast instead of
  // holding sockets and CPU for a result nobody reads.
  const resolver: DnsResolver = async (name, rrtype) => {
    if (expired) throw dnsError('ETIMEOUT', name, rrtype)
    return opts.resolver(name, rrtype)
  }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  try {
    const outcome = await Promise.race([
      authenticate(raw, {
        ip: opts.ip,
        helo: opts.helo,
        sender: opts.mailFrom,
        ...(mta ? { mta } : {}),
        resolver,
        trustReceived: false,
        // BIMI only picks a logo for display and costs extra lookups on every message.
        disableBimi: true,
      }),
      deadline,
    ])
    if (outcome === 'timeout') {
      expired = true
      return failed('temperror', `verification timed out after ${timeoutMs} ms`, mta)
    }
    const rows: DkimRow[] = outcome.dkim?.results ?? []
    const dkimVerdicts = rows.map(dkimVerdict)
    const dkim = DKIM_RANK.find((v) => dkimVerdicts.includes(v)) ?? 'none'
    const dkimDomains = [
      ...new Set(rows.filter((_, i) => dkimVerdicts[i] === 'pass').map((r) => (r.signingDomain ?? '').toLowerCase())),
    ].filter(Boolean)
    const dmarcResult = outcome.dmarc || undefined
    const result: AuthResults = {
      spf: outcome.spf ? toVerdict(outcome.spf.status?.result) : 'none',
      dkim,
      dmarc: dmarcResult ? toVerdict(dmarcResult.status?.result) : 'none',
      dkimDomains,
      header: arHeaderValue(outcome.headers),
    }
    if (dmarcResult?.policy) result.dmarcPolicy = dmarcResult.policy
    return result
  } catch (err) {
    expired = true
    return failed('temperror', `verification failed: ${(err as Error)?.message ?? String(err)}`, mta)
  } finally {
    clearTimeout(timer)
  }
}

function failed(verdict: Verdict, reason: string, mta: string | undefined): AuthResults {
  const authservId = mta ?? hostname() // what mailauth writes when no mta is given
  return {
    spf: verdict,
    dkim: verdict,
    dmarc: verdict,
    dkimDomains: [],
    header: `${authservId};\r\n spf=${verdict};\r\n dkim=${verdict};\r\n dmarc=${verdict}`,
    reason,
  }
}

export interface SignOptions {
  domain: string
  selector: string
  privateKeyPem: string
}

/** The message with a relaxed/relaxed DKIM-Signature header prepended. Throws when it cannot sign. */
export async function signMessage(raw: Buffer, opts: SignOptions): Promise<Buffer> {
  let keyType: string | undefined
  try {
    keyType = createPrivateKey(opts.privateKeyPem).asymmetricKeyType
  } catch (err) {
    throw new Error(`DKIM private key for ${opts.domain} is not a valid PEM key: ${(err as Error).message}`)
  }
  const algorithm = keyType === 'rsa' ? 'rsa-sha256' : keyType === 'ed25519' ? 'ed25519-sha256' : null
  if (!algorithm) throw new Error(`DKIM key type ${keyType} is not supported (use RSA or Ed25519)`)

  const signature = { signingDomain: opts.domain, selector: opts.selector, privateKey: opts.privateKeyPem }
  const { signatures, errors } = await dkimSign(raw, {
    // The typings want these at top level, but the signer only reads `signatureData`.
    ...signature,
    canonicalization: 'relaxed/relaxed',
    algorithm,
    signatureData: [signature],
    // Without a sign time mailauth reads the clock twice, rounded to the second: once for the t= it
    // signs and once for the t= it writes. When the two reads straddle a half second (the RSA
    // signature lies between them), the header says another t= than the one signed, and the
    // signature fails at every receiver: about 1 message in 1,500 here (bench/dkim.ts), more on a
    // loaded machine, where signing takes longer.
    signTime: new Date(),
  })
  // dkimSign reports problems in `errors` rather than throwing, and yields no header for a message
  // without a header block: both would otherwise send the mail silently unsigned.
  const failure = (errors as Array<{ err?: Error }>)[0]
  if (failure) throw new Error(`DKIM signing failed for ${opts.domain}: ${failure.err?.message ?? 'unknown error'}`)
  if (!/^DKIM-Signature:/i.test(signatures)) throw new Error('DKIM signing produced no signature (no header block?)')

  // Keep the message's own line endings so the result is not a mix of CRLF and LF.
  const firstNewline = raw.indexOf(0x0a)
  const usesBareLf = firstNewline >= 0 && raw[firstNewline - 1] !== 0x0d
  const header = usesBareLf ? signatures.replace(/\r\n/g, '\n') : signatures
  return Buffer.concat([Buffer.from(header, 'utf8'), raw])
}

export interface DkimKey {
  privateKeyPem: string
  /** Base64 SubjectPublicKeyInfo: the `p=` value of the DNS record. */
  publicKeyDns: string
  dnsRecord(selector: string, domain: string): { name: string; type: 'TXT'; value: string }
}

/** A fresh RSA-2048 DKIM key pair (2048 is what receivers expect; 1024 is flagged weak). */
export function generateDkimKey(): DkimKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  const publicKeyDns = publicKey.toString('base64')
  return {
    privateKeyPem: privateKey,
    publicKeyDns,
    dnsRecord: (selector, domain) => ({
      name: `${selector}._domainkey.${domain}`.toLowerCase(),
      type: 'TXT',
      value: `v=DKIM1; k=rsa; p=${publicKeyDns}`,
    }),
  }
}
