// Direct delivery (MAILROOM_DELIVERY_MODE=mx): the recipient domain's MX hosts in preference order
// (RFC 5321 5.1: the domain's own address when it has no MX; RFC 7505: a null MX bounces), from
// the tenant's IP pool address, with opportunistic STARTTLS. Lookups are cached per domain for a
// minute and connections pooled per (host address, source address), so the recipients of one
// domain share the lookup and the connections.
import { monotonicMs } from '../lib/clock.js'
import { isIP } from 'node:net'
import nodemailer, { type Transporter } from 'nodemailer'
import type { DnsResolver } from '../mail/sender-auth.js'
import { DeliveryError, type OutboundTransport } from './transport.js'

export interface MxTransportOptions {
  resolver: DnsResolver
  /** 25 in production; tests point it at a sink. */
  port?: number
  /** EHLO name. */
  heloName?: string
  maxConnections?: number
  cacheSeconds?: number
}

interface Target {
  host: string
  addresses: string[]
}

const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN', 'ENONAME'])
const codeOf = (err: unknown) => String((err as { code?: string })?.code ?? '')

/** Addresses of a host: A, then AAAA. [] when it has none; throws a temporary error on a DNS failure. */
async function addressesOf(resolver: DnsResolver, host: string): Promise<string[]> {
  if (isIP(host)) return [host]
  const out: string[] = []
  for (const rrtype of ['A', 'AAAA']) {
    try {
      const rr = (await resolver(host, rrtype)) as unknown[]
      for (const a of rr ?? []) if (typeof a === 'string') out.push(a)
      else if (a && typeof (a as { address?: unknown }).address === 'string') out.push((a as { address: string }).address)
    } catch (err) {
      if (!NO_RECORD.has(codeOf(err))) throw new DeliveryError(`DNS lookup of ${host} ${rrtype} failed: ${codeOf(err) || String(err)}`, false, null)
    }
    if (out.length) break
  }
  return out
}

/** The hosts to try for a domain, best first. Throws a DeliveryError (permanent for null MX / no such domain). */
export async function resolveTargets(resolver: DnsResolver, domain: string): Promise<Target[]> {
  let mx: { exchange: string; priority: number }[] = []
  try {
    mx = ((await resolver(domain, 'MX')) as { exchange: string; priority: number }[]) ?? []
  } catch (err) {
    const code = codeOf(err)
    if (code === 'ENOTFOUND' || code === 'NXDOMAIN') throw new DeliveryError(`550 5.1.2 domain ${domain} does not exist`, true, 550)
    if (code !== 'ENODATA') throw new DeliveryError(`DNS lookup of ${domain} MX failed: ${code || String(err)}`, false, null)
  }
  const hosts = mx
    .map((r) => ({ host: String(r.exchange ?? '').toLowerCase().replace(/\.$/, ''), priority: Number(r.priority) || 0 }))
    .sort((a, b) => a.priority - b.priority)
  // RFC 7505: a single MX of "." (priority 0) says the domain accepts no mail.
  if (mx.length > 0 && hosts.every((h) => h.host === '')) throw new DeliveryError(`556 5.1.10 domain ${domain} accepts no mail (null MX)`, true, 556)
  const names = hosts.length ? hosts.map((h) => h.host).filter(Boolean) : [domain]
  const targets: Target[] = []
  let lastDnsError: DeliveryError | null = null
  for (const host of [...new Set(names)]) {
    try {
      const addresses = await addressesOf(resolver, host)
      if (addresses.length) targets.push({ host, addresses })
    } catch (err) {
      lastDnsError = err as DeliveryError
    }
  }
  if (!targets.length) {
    if (lastDnsError) throw lastDnsError
    // No MX and no address: nothing will ever accept the mail. MX hosts without addresses may be fixed.
    if (!hosts.length) throw new DeliveryError(`550 5.1.2 domain ${domain} has no MX and no address record`, true, 550)
    throw new DeliveryError(`no address for the MX hosts of ${domain} (${names.join(', ')})`, false, null)
  }
  return targets
}

export function mxTransport(opts: MxTransportOptions): OutboundTransport {
  const port = opts.port ?? 25
  const cacheMs = (opts.cacheSeconds ?? 60) * 1000
  const cache = new Map<string, { at: number; targets: Promise<Target[]> }>()
  const pools = new Map<string, Transporter>()

  const targetsFor = (domain: string) => {
    const hit = cache.get(domain)
    if (hit && monotonicMs() - hit.at < cacheMs) return hit.targets
    const targets = resolveTargets(opts.resolver, domain)
    cache.set(domain, { at: monotonicMs(), targets })
    // Failed lookups are not cached: the next attempt asks again.
    targets.catch(() => cache.delete(domain))
    if (cache.size > 10_000) cache.delete(cache.keys().next().value!)
    return targets
  }

  const poolFor = (host: string, address: string, localAddress: string | undefined) => {
    const key = `${address}|${localAddress ?? ''}`
    let t = pools.get(key)
    if (!t) {
      if (pools.size >= 500) {
        const [oldest, transporter] = pools.entries().next().value!
        transporter.close()
        pools.delete(oldest)
      }
      t = nodemailer.createTransport({
        host: address,
        port,
        secure: false,
        // Opportunistic STARTTLS (RFC 7435): used when offered, certificates not enforced, plain otherwise.
        requireTLS: false,
        ignoreTLS: false,
        tls: { servername: host, rejectUnauthorized: false },
        ...(opts.heloName ? { name: opts.heloName } : {}),
        ...(localAddress ? { localAddress } : {}),
        pool: true,
        maxConnections: opts.maxConnections ?? 2,
        maxMessages: 100,
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 60_000,
      })
      pools.set(key, t)
    }
    return t
  }

  return {
    async send(m) {
      const domain = (m.to.split('@').pop() ?? '').toLowerCase()
      if (!domain) throw new DeliveryError(`550 5.1.3 bad recipient address ${m.to}`, true, 550)
      const targets = await targetsFor(domain)
      let last: DeliveryError | null = null
      for (const target of targets) {
        for (const address of target.addresses) {
          try {
            const info = await poolFor(target.host, address, m.localAddress).sendMail({ envelope: { from: m.from, to: [m.to] }, raw: m.raw })
            if (info.rejected?.length) throw Object.assign(new Error(`recipient rejected: ${info.response}`), { responseCode: 550 })
            return { response: `${target.host}: ${String(info.response ?? '')}` }
          } catch (err) {
            const e = err as { message?: string; responseCode?: number; response?: string }
            const code = typeof e.responseCode === 'number' ? e.responseCode : null
            const msg = `${target.host} [${address}]: ${e.response ?? e.message ?? String(err)}`.slice(0, 500)
            // A 5xx from a host that answered is the domain's verdict; anything else: try the next host.
            if (code !== null && code >= 500) throw new DeliveryError(msg, true, code)
            last = new DeliveryError(msg, false, code)
          }
        }
      }
      throw last ?? new DeliveryError(`no MX host of ${domain} could be reached`, false, null)
    },
    async close() {
      for (const t of pools.values()) t.close()
      pools.clear()
      cache.clear()
    },
  }
}
