// Encrypt/decrypt throughput of the content format, for the benchmark suite.
import { decrypt, encrypt, generateDataKey } from './envelope.js'

export interface CryptoThroughput {
  sizeBytes: number
  iterations: number
  /** Megabytes (10^6 bytes) of plaintext per second. */
  encryptMBps: number
  decryptMBps: number
}

export function measureCryptoThroughput(sizeBytes: number, iterations: number): CryptoThroughput {
  if (!Number.isInteger(sizeBytes) || sizeBytes < 0) throw new RangeError('sizeBytes must be a non-negative integer')
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('iterations must be a positive integer')
  const dek = generateDataKey()
  const plaintext = Buffer.alloc(sizeBytes, 0x61)
  const aad = 'tnt_bench:messages:body:msg_bench'

  // Warm up so the first timed call does not pay for JIT and OpenSSL cipher setup.
  const warm = Math.min(iterations, 16)
  for (let i = 0; i < warm; i++) decrypt(dek, encrypt(dek, plaintext, aad), aad)

  const blobs: Buffer[] = new Array(iterations)
  let start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) blobs[i] = encrypt(dek, plaintext, aad)
  const encryptNs = Number(process.hrtime.bigint() - start)

  start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) decrypt(dek, blobs[i]!, aad)
  const decryptNs = Number(process.hrtime.bigint() - start)

  const megabytes = (sizeBytes * iterations) / 1e6
  // max(1 ns) so a zero-byte or tiny run reports a finite number instead of Infinity/NaN.
  return {
    sizeBytes,
    iterations,
    encryptMBps: megabytes / (Math.max(encryptNs, 1) / 1e9),
    decryptMBps: megabytes / (Math.max(decryptNs, 1) / 1e9),
  }
}
