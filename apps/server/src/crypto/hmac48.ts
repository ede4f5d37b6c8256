// HMAC-SHA-256 (RFC 2104 over FIPS 180-4) of many short messages under one key, in JavaScript: the
// first 48 bits of each. The blind index hashes every distinct word of every message it stores
// (about 50 in a message of the ingest bench's mix, up to 4,000), and through node:crypto each word
// paid a createHmac object, three updates and a digest (about 4 µs, most of it crossing into C++
// and back, and garbage for the collector). Here the key's two padded blocks and the shared prefix
// (the inbox id) are compressed once per message (the "midstates"), and a word then costs the
// compression of its own block or two plus one for the outer hash, with nothing allocated. The
// result is bit for bit node:crypto's (test/crypto/hmac48.test.ts compares them).

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])
const BLOCK = 64

/** Scratch for the message schedule (one thread runs one compression at a time). */
const W = new Int32Array(64)

/** One SHA-256 compression: `state` (8 words) absorbs the 64 bytes of `block` from `at`. */
function compress(state: Int32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!
    const w2 = W[i - 2]!
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10)
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0
  }
  let a = state[0]!
  let b = state[1]!
  let c = state[2]!
  let d = state[3]!
  let e = state[4]!
  let f = state[5]!
  let g = state[6]!
  let h = state[7]!
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  state[0] = (state[0]! + a) | 0
  state[1] = (state[1]! + b) | 0
  state[2] = (state[2]! + c) | 0
  state[3] = (state[3]! + d) | 0
  state[4] = (state[4]! + e) | 0
  state[5] = (state[5]! + f) | 0
  state[6] = (state[6]! + g) | 0
  state[7] = (state[7]! + h) | 0
}

const encoder = new TextEncoder()

/**
 * HMAC-SHA-256 under one key of messages that share a prefix: `of(word)` is the first 48 bits (big
 * endian, as `digest().readUIntBE(0, 6)`) of HMAC(key, prefix + word), the word as UTF-8.
 */
export class Hmac48 {
  /** The state after the key's inner block and the whole blocks of the prefix. */
  private readonly inner = new Int32Array(8)
  /** The state after the key's outer block. */
  private readonly outer = new Int32Array(8)
  /** The prefix's bytes past its last whole block, then the word and the padding. */
  private buf = new Uint8Array(4 * BLOCK)
  private readonly tail: number
  /** Bytes hashed into `inner` so far (the key's block and the prefix's whole blocks). */
  private readonly done: number
  private readonly state = new Int32Array(8)
  private readonly last = new Uint8Array(BLOCK)

  constructor(key: Uint8Array, prefix: string) {
    const k = new Uint8Array(BLOCK)
    if (key.length > BLOCK) throw new Error('Hmac48: keys longer than one block are not supported')
    k.set(key)
    const pad = new Uint8Array(BLOCK)
    for (let i = 0; i < BLOCK; i++) pad[i] = k[i]! ^ 0x36
    this.inner.set(IV)
    compress(this.inner, pad, 0)
    for (let i = 0; i < BLOCK; i++) pad[i] = k[i]! ^ 0x5c
    this.outer.set(IV)
    compress(this.outer, pad, 0)
    const p = encoder.encode(prefix)
    let at = 0
    for (; at + BLOCK <= p.length; at += BLOCK) compress(this.inner, p, at)
    this.tail = p.length - at
    this.buf.set(p.subarray(at))
    this.done = BLOCK + at
  }

  of(word: string): number {
    // The word's UTF-8 after the prefix's tail (ASCII without a call out; 4 bytes per UTF-16 unit at most).
    let buf = this.buf
    if (buf.length < this.tail + word.length * 3 + 2 * BLOCK) {
      const bigger = new Uint8Array(this.tail + word.length * 3 + 2 * BLOCK)
      bigger.set(buf.subarray(0, this.tail))
      this.buf = buf = bigger
    }
    let n = this.tail
    let ascii = true
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i)
      if (c >= 0x80) {
        ascii = false
        break
      }
      buf[n++] = c
    }
    if (!ascii) n = this.tail + encoder.encodeInto(word, buf.subarray(this.tail)).written
    // Padding: 0x80, zeros, the message's length in bits (big endian, 64 bits) ending a block.
    const bits = (this.done + n) * 8
    let end = n + 1 + 8
    end += (BLOCK - (end % BLOCK)) % BLOCK
    buf[n] = 0x80
    buf.fill(0, n + 1, end - 4)
    buf[end - 4] = bits >>> 24
    buf[end - 3] = bits >>> 16
    buf[end - 2] = bits >>> 8
    buf[end - 1] = bits
    const s = this.state
    s.set(this.inner)
    for (let at = 0; at < end; at += BLOCK) compress(s, buf, at)
    // The outer hash: its key block, then the inner digest (32 bytes) padded to one block of 96 bytes in all.
    const last = this.last
    for (let i = 0; i < 8; i++) {
      const v = s[i]!
      last[i * 4] = v >>> 24
      last[i * 4 + 1] = v >>> 16
      last[i * 4 + 2] = v >>> 8
      last[i * 4 + 3] = v
    }
    last[32] = 0x80
    last.fill(0, 33, 62)
    last[62] = (96 * 8) >>> 8
    last[63] = (96 * 8) & 0xff
    s.set(this.outer)
    compress(s, last, 0)
    return (s[0]! >>> 0) * 0x10000 + (s[1]! >>> 16)
  }
}
