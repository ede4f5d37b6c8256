// The blind index: keyed hashes of normalised words, so mail can be searched by whole words while
// nothing readable is stored. The key is derived from the tenant's data key (HKDF-SHA-256, its own
// label): a database dump holds only hashes, and without the tenant's key nobody can test a guess
// against them. Each hash is bound to the inbox (the same word has unrelated hashes in two inboxes,
// so nothing can be matched across them) and cut to 48 bits: a whole JS number, and a false match
// about one in 2^48 per word and message.
import { hkdfSync } from 'node:crypto'
import { Hmac48 } from './hmac48.js'

/** Words longer than this are not indexed (hashes, base64, long URLs). */
export const MAX_WORD = 64
/** Distinct words indexed per message at most (subject, names and addresses come first). */
export const MAX_TERMS = 4000
/** Characters of a body read for words at most. */
export const MAX_INDEXED_CHARS = 256 * 1024

/** The 32-byte blind-index key of a tenant, from its data key. */
export function blindIndexKey(dek: Buffer, tenantId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dek, Buffer.from(tenantId, 'utf8'), Buffer.from('mailroom blind index v1', 'utf8'), 32))
}

/**
 * Normalised words of a text: compatibility-decomposed (NFKD), accents dropped, lower-cased, split
 * on everything that is not a letter or digit. "Café-Crème" gives "cafe", "creme". An address
 * gives itself whole as well as its parts: "Bob.Smith@Example.com" gives "bob.smith@example.com",
 * "bob", "smith", "example", "com".
 */
export function wordsOf(text: string | null | undefined, limit = MAX_INDEXED_CHARS): string[] {
  if (!text) return []
  const folded = text.slice(0, limit).normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase()
  const out: string[] = []
  for (const w of folded.match(/[\p{L}\p{N}]+/gu) ?? []) if (w.length <= MAX_WORD) out.push(w)
  return out
}

/** An address as words: the whole address (lower-cased) and its parts. */
export function addressWords(address: string | null | undefined): string[] {
  if (!address) return []
  const whole = address.trim().toLowerCase()
  return whole.length > 0 && whole.length <= 320 ? [whole, ...wordsOf(whole)] : wordsOf(whole)
}

/**
 * Hashes of distinct words, for one inbox, at most MAX_TERMS (first words first): the first 48 bits
 * of HMAC-SHA-256(key, inboxId + NUL + word), in JavaScript (hmac48.ts: about 1 µs a word, nothing
 * kept between calls). Earlier a memo of hashes by inbox and word stood in front of node:crypto's
 * HMAC (about 4 µs a word): it paid off for a few busy inboxes, but with many it missed, held up to
 * 50,000 entries per tenant key, and every entry it added outlived a young-generation collection
 * and became old-generation garbage when it was emptied (bench/README, 2026-12-04, night).
 */
export function blindTerms(key: Buffer, inboxId: string, words: Iterable<string>, max = MAX_TERMS): number[] {
  const hmac = new Hmac48(key, `${inboxId}\u0000`)
  const seen = new Set<string>()
  const out: number[] = []
  for (const w of words) {
    if (seen.has(w)) continue
    seen.add(w)
    out.push(hmac.of(w))
    if (out.length >= max) break
  }
  return out
}
