// Key material: `mr_tk_...` (tenant) / `mr_ik_...` (inbox), 40 base62 characters of secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const KEY_PATTERN = /^mr_(tk|ik)_[0-9A-Za-z]{40}$/
const PREFIX_LENGTH = 14 // "mr_tk_" + 8 characters

function base62(n: number): string {
  let out = ''
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += ALPHABET[b % 62] // 248 = 62*4: no modulo bias
    }
  }
  return out
}

export interface KeyMaterial {
  key: string
  prefix: string
  hash: string
}

export function generateKey(scope: 'tenant' | 'inbox'): KeyMaterial {
  const key = `mr_${scope === 'tenant' ? 'tk' : 'ik'}_${base62(40)}`
  return { key, prefix: key.slice(0, PREFIX_LENGTH), hash: hashKey(key) }
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex')
export const keyPrefix = (key: string): string => key.slice(0, PREFIX_LENGTH)

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(hashKey(a))
  const bb = Buffer.from(hashKey(b))
  return timingSafeEqual(ab, bb)
}
