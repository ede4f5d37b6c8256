// What the SDK needs from its runtime, reached through globalThis only so the bundle imports no
// `node:` module and runs on Node 18+, Bun, Deno, browsers and edge workers.
import { MailroomAbortError } from './errors.js'

/**
 * An environment variable, or undefined where there is no `process.env` (browsers, edge) or where
 * reading it is not allowed (Deno without --allow-env throws).
 */
export function readEnv(name: string): string | undefined {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    const value = env?.[name]?.trim()
    return value ? value : undefined
  } catch {
    return undefined
  }
}

/** A random UUID v4 (Web Crypto; Node 18 has `globalThis.crypto` only from 19 by default, hence the fallback). */
export function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto
  if (c?.randomUUID) return c.randomUUID()
  const bytes = new Uint8Array(16)
  if (c?.getRandomValues) c.getRandomValues(bytes)
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256)
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export function abortError(signal: AbortSignal): MailroomAbortError {
  const reason: unknown = signal.reason
  const detail = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : ''
  return new MailroomAbortError(`request aborted${detail}`, { cause: reason })
}

/** Waits `ms`, or rejects with MailroomAbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal))
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal!))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Base64 of raw bytes, without Buffer. */
export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  const CHUNK = 0x8000
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  }
  return btoa(binary)
}
