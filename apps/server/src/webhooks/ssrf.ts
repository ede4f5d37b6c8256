// Where a webhook may be sent: public addresses only, unless the operator allows loopback or
// private ranges. Link-local, cloud metadata, unspecified, multicast and reserved addresses are
// never allowed. Checked on literal IPs when an endpoint is saved, and on every resolved address at
// delivery time, and the request connects to the address that was checked (no DNS rebinding).
import { BlockList, isIP } from 'node:net'
import { lookup as dnsLookup } from 'node:dns'
import type { LookupAddress, LookupOptions } from 'node:dns'

export type PrivatePolicy = 'none' | 'loopback' | 'private'
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'reserved'

const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '169.254.170.2'])

function list(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const b = new BlockList()
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type)
  return b
}

const LOOPBACK = list([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])
const UNSPECIFIED = list([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])
const LINK_LOCAL = list([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
])
const RESERVED = list([
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'], // multicast, class E and broadcast
  ['ff00::', 8, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['100::', 64, 'ipv6'],
])

/** IPv4 embedded in IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, compat ::a.b.c.d): judge the IPv4. */
function embeddedV4(ip: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (m) return m[1]!
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip)
  if (hex) {
    const hi = parseInt(hex[1]!, 16)
    const lo = parseInt(hex[2]!, 16)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return null
}

export function classify(address: string): AddressClass {
  let ip = address.replace(/^\[|\]$/g, '').toLowerCase()
  const zone = ip.indexOf('%')
  if (zone >= 0) ip = ip.slice(0, zone)
  const v4 = isIP(ip) === 6 ? embeddedV4(ip) : null
  if (v4) ip = v4
  const family = isIP(ip)
  if (family === 0) return 'reserved'
  const type = family === 4 ? 'ipv4' : 'ipv6'
  if (METADATA.has(ip)) return 'metadata'
  if (UNSPECIFIED.check(ip, type)) return 'unspecified'
  if (LOOPBACK.check(ip, type)) return 'loopback'
  if (LINK_LOCAL.check(ip, type)) return 'link-local'
  if (PRIVATE.check(ip, type)) return 'private'
  if (RESERVED.check(ip, type)) return 'reserved'
  return 'public'
}

export function addressAllowed(address: string, policy: PrivatePolicy): boolean {
  const c = classify(address)
  if (c === 'public') return true
  if (c === 'loopback') return policy === 'loopback' || policy === 'private'
  if (c === 'private') return policy === 'private'
  return false
}

/** The URL's host as an IP literal, or null for a name. */
export function literalHost(url: URL): string | null {
  const h = url.hostname.replace(/^\[|\]$/g, '')
  return isIP(h) ? h : null
}

/** Why a target URL may not be saved, or null. Names are judged later, at delivery, after DNS. */
export function refuseTarget(rawUrl: string, policy: PrivatePolicy): string | null {
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    return 'not a URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https targets are allowed'
  const ip = literalHost(url)
  if (ip && !addressAllowed(ip, policy)) return `the address ${ip} is ${classify(ip)}; webhook targets must be public addresses`
  const host = url.hostname.toLowerCase()
  if (!ip && policy === 'none' && (host === 'localhost' || host.endsWith('.localhost'))) return 'localhost is not a public address'
  return null
}

export class SsrfError extends Error {}

export type LookupFn = (hostname: string) => Promise<LookupAddress[]>

export const systemLookup: LookupFn = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))))

/**
 * A `lookup` for http.request that resolves once, refuses if ANY answer is not allowed, and hands
 * the socket exactly the addresses it checked.
 */
export function guardedLookup(policy: PrivatePolicy, resolve: LookupFn = systemLookup) {
  return (hostname: string, options: LookupOptions, callback: (...args: any[]) => void): void => {
    resolve(hostname).then(
      (addrs) => {
        const family = typeof options === 'object' && options ? options.family : undefined
        const usable = addrs.filter((a) => !family || a.family === family)
        const bad = usable.find((a) => !addressAllowed(a.address, policy))
        if (bad) return callback(new SsrfError(`${hostname} resolves to ${bad.address} (${classify(bad.address)}); refused`))
        if (usable.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }))
        if (typeof options === 'object' && options?.all) return callback(null, usable)
        callback(null, usable[0]!.address, usable[0]!.family)
      },
      (err) => callback(err),
    )
  }
}
