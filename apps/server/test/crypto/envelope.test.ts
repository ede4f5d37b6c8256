import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  BLOB_OVERHEAD,
  DecryptError,
  WRAPPED_KEY_BYTES,
  decrypt,
  decryptString,
  encrypt,
  encryptString,
  generateDataKey,
  needsRewrap,
  rewrapDataKey,
  unwrapDataKey,
  wrapDataKey,
  wrappedKeyMasterId,
} from '../../src/crypto/envelope.js'
import { MasterKeyring, parseMasterKey, type MasterKey } from '../../src/crypto/masterKey.js'
import { measureCryptoThroughput } from '../../src/crypto/measure.js'

const newMaster = (): MasterKey => parseMasterKey(randomBytes(32).toString('base64'))
const ctx = 'tnt_a:messages:body:msg_1'

function flipBit(buf: Buffer, index: number): Buffer {
  const copy = Buffer.from(buf)
  copy[index]! ^= 0x01
  return copy
}

function expectDecryptError(fn: () => unknown, reason: DecryptError['reason'] = 'auth'): void {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(DecryptError)
  expect((caught as DecryptError).reason).toBe(reason)
}

describe('content encryption', () => {
  const dek = generateDataKey()

  it('round-trips bytes and strings, with a fresh IV each time', () => {
    for (const size of [0, 1, 15, 16, 17, 4096, 1_000_003]) {
      const plaintext = randomBytes(size)
      const blob = encrypt(dek, plaintext, ctx)
      expect(blob.length).toBe(size + BLOB_OVERHEAD)
      expect(blob[0]).toBe(1)
      expect(decrypt(dek, blob, ctx).equals(plaintext)).toBe(true)
    }
    const text = 'Grüße, 世界 — 📬'
    expect(decryptString(dek, encryptString(dek, text, ctx), ctx)).toBe(text)
    const a = encrypt(dek, Buffer.from('same'), ctx)
    const b = encrypt(dek, Buffer.from('same'), ctx)
    expect(a.equals(b)).toBe(false)
  })

  it('never repeats an IV across refills of the block IVs are drawn from', () => {
    // 512 IVs per block: 3,000 seals cross five refills; every blob still opens.
    const ivs = new Set<string>()
    for (let i = 0; i < 3000; i++) {
      const blob = encrypt(dek, Buffer.from(`m${i}`), ctx)
      ivs.add(blob.subarray(1, 13).toString('hex'))
      expect(decrypt(dek, blob, ctx).toString()).toBe(`m${i}`)
    }
    expect(ivs.size).toBe(3000)
  })

  it('rejects a flipped bit anywhere: version, IV, ciphertext or tag', () => {
    const blob = encrypt(dek, Buffer.from('the message body'), ctx)
    expectDecryptError(() => decrypt(dek, flipBit(blob, 0), ctx), 'version')
    expectDecryptError(() => decrypt(dek, flipBit(blob, 1), ctx)) // IV
    expectDecryptError(() => decrypt(dek, flipBit(blob, 12), ctx)) // last IV byte
    expectDecryptError(() => decrypt(dek, flipBit(blob, 13), ctx)) // ciphertext
    expectDecryptError(() => decrypt(dek, flipBit(blob, blob.length - 17), ctx)) // last ciphertext byte
    expectDecryptError(() => decrypt(dek, flipBit(blob, blob.length - 1), ctx)) // tag
    expectDecryptError(() => decrypt(dek, blob.subarray(0, blob.length - 1), ctx)) // truncated
    expectDecryptError(() => decrypt(dek, Buffer.concat([blob, Buffer.of(0)]), ctx)) // extended
    expectDecryptError(() => decrypt(dek, Buffer.alloc(5), ctx), 'format')
  })

  it('binds a blob to its context: another row, column or tenant cannot open it', () => {
    const blob = encrypt(dek, Buffer.from('secret'), ctx)
    expectDecryptError(() => decrypt(dek, blob, 'tnt_a:messages:body:msg_2'))
    expectDecryptError(() => decrypt(dek, blob, 'tnt_a:messages:subject:msg_1'))
    expectDecryptError(() => decrypt(dek, blob, 'tnt_b:messages:body:msg_1'))
    expectDecryptError(() => decrypt(dek, blob, ''))
  })

  it('fails with another DEK', () => {
    const blob = encrypt(dek, Buffer.from('secret'), ctx)
    expectDecryptError(() => decrypt(generateDataKey(), blob, ctx))
  })

  it('refuses a key of the wrong size as a programming error, not a DecryptError', () => {
    expect(() => encrypt(randomBytes(16), Buffer.from('x'), ctx)).toThrow(RangeError)
    expect(() => decrypt(randomBytes(31), Buffer.alloc(40), ctx)).toThrow(RangeError)
  })
})

describe('wrapping data keys', () => {
  it('round-trips a DEK under the tenant id', () => {
    const keyring = new MasterKeyring(newMaster())
    const dek = generateDataKey()
    const wrapped = wrapDataKey(dek, keyring, 'tnt_a')
    expect(wrapped.length).toBe(WRAPPED_KEY_BYTES)
    expect(wrapped.length).toBe(65)
    expect(wrappedKeyMasterId(wrapped)).toBe(keyring.current.id)
    expect(unwrapDataKey(wrapped, keyring, 'tnt_a').equals(dek)).toBe(true)
    expect(wrapped.includes(dek)).toBe(false)
  })

  it('will not unwrap for another tenant, with another master key, or after tampering', () => {
    const keyring = new MasterKeyring(newMaster())
    const wrapped = wrapDataKey(generateDataKey(), keyring, 'tnt_a')
    expectDecryptError(() => unwrapDataKey(wrapped, keyring, 'tnt_b'))
    expectDecryptError(() => unwrapDataKey(wrapped, new MasterKeyring(newMaster()), 'tnt_a'), 'unknown-master-key')
    for (const i of [0, 1, 5, 20, 40, 64]) {
      const reason = i === 0 ? 'version' : i < 5 ? 'unknown-master-key' : 'auth' // byte 0 version, 1-4 master id
      expectDecryptError(() => unwrapDataKey(flipBit(wrapped, i), keyring, 'tnt_a'), reason)
    }
    expectDecryptError(() => unwrapDataKey(wrapped.subarray(1), keyring, 'tnt_a'), 'format')
  })

  it('rotates: wrapped by A, unwrapped by keyring B+[A], rewrapped by B, then B alone suffices', () => {
    const a = newMaster()
    const b = newMaster()
    const dek = generateDataKey()
    const wrappedByA = wrapDataKey(dek, new MasterKeyring(a), 'tnt_a')

    const rotating = new MasterKeyring(b, [a])
    expect(unwrapDataKey(wrappedByA, rotating, 'tnt_a').equals(dek)).toBe(true)
    expect(needsRewrap(wrappedByA, rotating)).toBe(true)

    const wrappedByB = rewrapDataKey(wrappedByA, rotating, 'tnt_a')
    expect(wrappedKeyMasterId(wrappedByB)).toBe(b.id)
    expect(needsRewrap(wrappedByB, rotating)).toBe(false)

    const onlyB = new MasterKeyring(b)
    expect(unwrapDataKey(wrappedByB, onlyB, 'tnt_a').equals(dek)).toBe(true)
    expectDecryptError(() => unwrapDataKey(wrappedByA, onlyB, 'tnt_a'), 'unknown-master-key')
  })
})

describe('measureCryptoThroughput', () => {
  it('reports finite, positive MB/s for encrypt and decrypt', () => {
    const r = measureCryptoThroughput(64 * 1024, 20)
    expect(r).toMatchObject({ sizeBytes: 65536, iterations: 20 })
    for (const v of [r.encryptMBps, r.decryptMBps]) {
      expect(Number.isFinite(v)).toBe(true)
      expect(v).toBeGreaterThan(0)
    }
    expect(() => measureCryptoThroughput(1024, 0)).toThrow(RangeError)
  })
})
