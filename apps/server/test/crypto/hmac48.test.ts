// The blind index's HMAC in JavaScript must give node:crypto's HMAC-SHA-256 bit for bit: every term
// already stored was made by node:crypto, and a search hashes its words the same way.
import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Hmac48 } from '../../src/crypto/hmac48.js'
import { blindTerms } from '../../src/crypto/blind-index.js'

const reference = (key: Buffer, prefix: string, word: string) => createHmac('sha256', key).update(prefix, 'utf8').update(word, 'utf8').digest().readUIntBE(0, 6)

describe('Hmac48', () => {
  it('gives RFC 4231 test case 2 (key "Jefe")', () => {
    // HMAC-SHA-256("Jefe", "what do ya want for nothing?") = 5bdcc146bf60754e...
    expect(new Hmac48(Buffer.from('Jefe'), 'what do ya want ').of('for nothing?')).toBe(0x5bdcc146bf60)
  })

  it("matches node:crypto for words of every length and script, one key and prefix after another", () => {
    const words = ['', 'a', 'invoice', 'café', 'naïve', 'straße', '日本語のテキスト', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'x'.repeat(18), 'x'.repeat(19), 'x'.repeat(27), 'x'.repeat(64), 'é'.repeat(64), '中'.repeat(64), '😀'.repeat(40), 'y'.repeat(500)]
    // Prefixes around the block edges (55, 56, 64 bytes...), an inbox id, and a multi-byte one.
    const prefixes = ['', `${crypto.randomUUID()}\u0000`, 'p'.repeat(55), 'p'.repeat(56), 'p'.repeat(63), 'p'.repeat(64), 'p'.repeat(65), 'p'.repeat(130), 'é'.repeat(40)]
    for (const keyLength of [1, 16, 32, 64]) {
      const key = randomBytes(keyLength)
      for (const prefix of prefixes) {
        const h = new Hmac48(key, prefix)
        // Long words grow its buffer: the shorter ones after them must still be right.
        for (const w of [...words, ...words.reverse()]) expect(h.of(w), `key ${keyLength} B, prefix ${prefix.length} chars, word ${w.length} chars`).toBe(reference(key, prefix, w))
      }
    }
  })

  it('matches node:crypto over random words', () => {
    const key = randomBytes(32)
    const prefix = `${crypto.randomUUID()}\u0000`
    const h = new Hmac48(key, prefix)
    for (let i = 0; i < 2000; i++) {
      const w = randomBytes(1 + (i % 90)).toString(i % 3 === 0 ? 'hex' : 'base64url')
      expect(h.of(w)).toBe(reference(key, prefix, w))
    }
  })

  it('refuses a key longer than one block (HMAC would hash it first; the blind index never has one)', () => {
    expect(() => new Hmac48(randomBytes(65), '')).toThrow(/longer than one block/)
  })
})

describe('blindTerms', () => {
  it('hashes each distinct word once, in order, bound to the inbox, as node:crypto would', () => {
    const key = randomBytes(32)
    const inbox = crypto.randomUUID()
    const terms = blindTerms(key, inbox, ['hello', 'world', 'hello', 'café'])
    expect(terms).toEqual(['hello', 'world', 'café'].map((w) => reference(key, `${inbox}\u0000`, w)))
    expect(blindTerms(key, crypto.randomUUID(), ['hello'])[0]).not.toBe(terms[0])
    expect(blindTerms(key, inbox, ['a', 'b', 'c'], 2)).toHaveLength(2)
  })
})
