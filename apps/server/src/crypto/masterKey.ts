// The deployment master key (KEK): parsing, a dev key on disk, and a keyring for rotation.
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const MASTER_KEY_BYTES = 32

export interface MasterKey {
  /** First 8 hex characters of SHA-256(key): recorded in each wrapped DEK to find its key again. */
  readonly id: string
  readonly key: Buffer
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8)
}

/** Accepts 32 bytes as hex (64 characters) or base64 / base64url (43-44 characters). */
export function parseMasterKey(s: string): MasterKey {
  const text = s.trim()
  const expected = `expected ${MASTER_KEY_BYTES} bytes as hex (64 characters) or base64 (44 characters)`
  if (!text) throw new Error(`Master key is empty: ${expected}`)
  let key: Buffer
  // Pure hex is read as hex: a 32-byte base64 value always has non-hex characters or '=' in it.
  if (/^[0-9a-fA-F]+$/.test(text)) {
    if (text.length % 2 !== 0) throw new Error(`Master key has an odd number of hex digits (${text.length}): ${expected}`)
    key = Buffer.from(text, 'hex')
  } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) || /^[A-Za-z0-9_-]+={0,2}$/.test(text)) {
    // Buffer.from silently skips characters it does not know, so the alphabet is checked above.
    key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64')
  } else {
    throw new Error(`Master key is neither hex nor base64: ${expected}`)
  }
  if (key.length !== MASTER_KEY_BYTES) throw new Error(`Master key decodes to ${key.length} bytes: ${expected}`)
  return { id: masterKeyId(key), key }
}

/**
 * For development only: the master key in `<dataDir>/master.key` (created once, mode 0600).
 * Production deployments pass the key in from a secret store instead.
 */
export function loadOrCreateDevMasterKey(dataDir: string): string {
  const file = join(dataDir, 'master.key')
  try {
    return readExisting(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const value = randomBytes(MASTER_KEY_BYTES).toString('base64')
  try {
    // 'wx': if another process created it meanwhile, use theirs; two different keys would make
    // every DEK wrapped by the loser unreadable.
    writeFileSync(file, value + '\n', { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readExisting(file)
    throw err
  }
  return value
}

function readExisting(file: string): string {
  const value = readFileSync(file, 'utf8').trim()
  try {
    parseMasterKey(value)
  } catch (err) {
    // Never replace a damaged key file: the data wrapped by it would be lost for good.
    throw new Error(`${file} does not hold a valid master key (${(err as Error).message})`)
  }
  return value
}

/** The current master key wraps; it and older ones unwrap, chosen by the id in the wrapped blob. */
export class MasterKeyring {
  readonly current: MasterKey
  private readonly byId = new Map<string, MasterKey>()

  constructor(current: MasterKey, older: readonly MasterKey[] = []) {
    this.current = current
    for (const k of [current, ...older]) {
      const seen = this.byId.get(k.id)
      if (seen && !seen.key.equals(k.key)) throw new Error(`Two different master keys share the id ${k.id}`)
      this.byId.set(k.id, k)
    }
  }

  /** From configuration strings (hex or base64), current first. */
  static fromStrings(current: string, older: readonly string[] = []): MasterKeyring {
    return new MasterKeyring(parseMasterKey(current), older.map(parseMasterKey))
  }

  get(id: string): MasterKey | undefined {
    return this.byId.get(id)
  }

  get ids(): string[] {
    return [...this.byId.keys()]
  }
}
