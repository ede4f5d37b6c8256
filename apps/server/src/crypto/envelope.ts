// Envelope encryption: per-tenant data keys (DEKs) wrapped by the master key, content sealed with AES-256-GCM.
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto'
import { MASTER_KEY_BYTES, type MasterKey, type MasterKeyring } from './masterKey.js'

/*
 * Blob formats (all integers are single bytes; nothing is length-prefixed because GCM's tag is fixed):
 *
 *   wrapped DEK (65 bytes):  0x01 | master id (4 bytes = the 8 hex of MasterKey.id) | IV (12) | encrypted DEK (32) | tag (16)
 *                            GCM AAD = version byte | master id | UTF-8 tenant id
 *   content blob (29 + n):   0x01 | IV (12) | ciphertext (n) | tag (16)
 *                            GCM AAD = version byte | UTF-8 context, e.g. `${tenantId}:${table}:${column}:${rowId}`
 *
 * The header bytes are authenticated too, so a blob cannot be relabelled with another version or
 * master id. IVs are random: NIST SP 800-38D allows 2^32 encryptions per key that way, far above
 * what one tenant's DEK will see.
 */

export const DATA_KEY_BYTES = 32
const WRAP_VERSION = 0x01
const BLOB_VERSION = 0x01
const IV_BYTES = 12
const TAG_BYTES = 16
const ID_BYTES = 4
const WRAP_HEADER = 1 + ID_BYTES
export const WRAPPED_KEY_BYTES = WRAP_HEADER + IV_BYTES + DATA_KEY_BYTES + TAG_BYTES
export const BLOB_OVERHEAD = 1 + IV_BYTES + TAG_BYTES

export type DecryptFailure = 'format' | 'version' | 'unknown-master-key' | 'auth'

/** A blob that cannot be opened: damaged, tampered with, the wrong key or the wrong AAD context. */
export class DecryptError extends Error {
  override readonly name = 'DecryptError'
  constructor(
    readonly reason: DecryptFailure,
    message: string,
  ) {
    super(message)
  }
}

export function generateDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES)
}

function assertKey(key: Buffer, what: string, bytes: number): void {
  // A wrong-sized key is a programming error, not bad data: keep it out of DecryptError.
  if (key.length !== bytes) throw new RangeError(`${what} must be ${bytes} bytes, got ${key.length}`)
}

// IVs are drawn from the CSPRNG a block at a time: one call per 512 seals instead of one per seal
// (a message takes about eight). Each IV is used once, right away, before the block is refilled.
const ivBlock = Buffer.alloc(IV_BYTES * 512)
let ivAt = ivBlock.length

function nextIv(): Buffer {
  if (ivAt === ivBlock.length) {
    randomFillSync(ivBlock)
    ivAt = 0
  }
  ivAt += IV_BYTES
  return ivBlock.subarray(ivAt - IV_BYTES, ivAt)
}

function seal(key: Buffer, header: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = nextIv()
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.concat([header, Buffer.from(aad, 'utf8')]))
  const body = cipher.update(plaintext)
  const final = cipher.final()
  return Buffer.concat([header, iv, body, final, cipher.getAuthTag()])
}

function open(key: Buffer, header: Buffer, blob: Buffer, aad: string, what: string): Buffer {
  const iv = blob.subarray(header.length, header.length + IV_BYTES)
  const body = blob.subarray(header.length + IV_BYTES, blob.length - TAG_BYTES)
  const tag = blob.subarray(blob.length - TAG_BYTES)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.concat([header, Buffer.from(aad, 'utf8')]))
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(body), decipher.final()])
  } catch {
    // GCM cannot tell a wrong key from a wrong context or a flipped bit; neither should the message.
    throw new DecryptError('auth', `${what} failed authentication (tampered, wrong key or wrong context)`)
  }
}

export function wrapDataKey(dek: Buffer, keyring: MasterKeyring, aad: string): Buffer {
  assertKey(dek, 'data key', DATA_KEY_BYTES)
  const master = keyring.current
  return seal(master.key, wrapHeader(master), dek, aad)
}

function wrapHeader(master: MasterKey): Buffer {
  return Buffer.concat([Buffer.of(WRAP_VERSION), Buffer.from(master.id, 'hex')])
}

/** The master key id a wrapped DEK was made with (8 hex), e.g. to find DEKs still needing a rewrap. */
export function wrappedKeyMasterId(wrapped: Buffer): string {
  if (wrapped.length !== WRAPPED_KEY_BYTES) {
    throw new DecryptError('format', `wrapped data key must be ${WRAPPED_KEY_BYTES} bytes, got ${wrapped.length}`)
  }
  if (wrapped[0] !== WRAP_VERSION) throw new DecryptError('version', `unknown wrapped data key version ${wrapped[0]}`)
  return wrapped.subarray(1, WRAP_HEADER).toString('hex')
}

export function unwrapDataKey(wrapped: Buffer, keyring: MasterKeyring, aad: string): Buffer {
  const id = wrappedKeyMasterId(wrapped)
  const master = keyring.get(id)
  if (!master) {
    throw new DecryptError('unknown-master-key', `data key was wrapped by master key ${id}, which is not in the keyring`)
  }
  assertKey(master.key, 'master key', MASTER_KEY_BYTES)
  return open(master.key, wrapped.subarray(0, WRAP_HEADER), wrapped, aad, 'wrapped data key')
}

/** True when the DEK was wrapped by an older master key and should be rewrapped with the current one. */
export function needsRewrap(wrapped: Buffer, keyring: MasterKeyring): boolean {
  return wrappedKeyMasterId(wrapped) !== keyring.current.id
}

export function rewrapDataKey(wrapped: Buffer, keyring: MasterKeyring, aad: string): Buffer {
  return wrapDataKey(unwrapDataKey(wrapped, keyring, aad), keyring, aad)
}

const BLOB_HEADER = Buffer.of(BLOB_VERSION)

export function encrypt(dek: Buffer, plaintext: Buffer, aad: string): Buffer {
  assertKey(dek, 'data key', DATA_KEY_BYTES)
  return seal(dek, BLOB_HEADER, plaintext, aad)
}

export function decrypt(dek: Buffer, blob: Buffer, aad: string): Buffer {
  assertKey(dek, 'data key', DATA_KEY_BYTES)
  if (blob.length < BLOB_OVERHEAD) throw new DecryptError('format', `encrypted blob too short (${blob.length} bytes)`)
  if (blob[0] !== BLOB_VERSION) throw new DecryptError('version', `unknown encrypted blob version ${blob[0]}`)
  return open(dek, BLOB_HEADER, blob, aad, 'encrypted blob')
}

export function encryptString(dek: Buffer, plaintext: string, aad: string): Buffer {
  return encrypt(dek, Buffer.from(plaintext, 'utf8'), aad)
}

export function decryptString(dek: Buffer, blob: Buffer, aad: string): string {
  return decrypt(dek, blob, aad).toString('utf8')
}
