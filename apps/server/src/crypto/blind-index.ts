// The blind index: keyed hashes of normalised words, so mail can be searched by whole words while
// nothing readable is stored. The key is derived from the tenant's data key (HKDF-SHA-256, its own
// label): a database dump holds only hashes, and without the tenant's key nobody can test a guess
// against them. Each hash is bound to the inbox (the same word has unrelated hashes in two inboxes,
// so nothing can be matched across them) and cut to 48 bits: a whole JS number, and a false match
// about one in 2^48 per word and message.
import { createHmac, hkdfSync } from 'node:crypto'

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
 * Hashes already computed under a key, by inbox and word: mail repeats its words (names, greetings,
 * the vocabulary of one business), and an HMAC per word was most of indexing a message. Kept per
 * key object (dropped with it when the data-key cache lets the key go), bounded, emptied when full.
 */
const memo = new WeakMap<Buffer, Map<string, number>>()
const MEMO_MAX = 50_000

/** Hashes of distinct words, for one inbox, at most MAX_TERMS (first words first). */
export function blindTerms(key: Buffer, inboxId: string, words: Iterable<string>, max = MAX_TERMS): number[] {
  let known = memo.get(key)
  if (!known) memo.set(key, (known = new Map()))
  const seen = new Set<string>()
  const out: number[] = []
  for (const w of words) {
    if (seen.has(w)) continue
    seen.add(w)
    const k = `${inboxId}\u0000${w}`
    let term = known.get(k)
    if (term === undefined) {
      if (known.size >= MEMO_MAX) known.clear()
      known.set(k, (term = termOf(key, inboxId, w)))
    }
    out.push(term)
    if (out.length >= max) break
  }
  return out
}

function termOf(key: Buffer, inboxId: string, word: string): number {
  const mac = createHmac('sha256', key).update(inboxId).update('\u0000').update(word, 'utf8').digest()
  // 48 bits, signed so the whole range of Postgres' bigint is not needed: a JS integer either way.
  return mac.readUIntBE(0, 6)
}
