import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MasterKeyring, loadOrCreateDevMasterKey, masterKeyId, parseMasterKey } from '../../src/crypto/masterKey.js'

describe('parseMasterKey', () => {
  const bytes = randomBytes(32)

  it('accepts 32 bytes as base64, base64url or hex, with surrounding whitespace', () => {
    const encodings = [
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      ` ${bytes.toString('base64')}\n`,
    ]
    for (const s of encodings) {
      const k = parseMasterKey(s)
      expect(k.key.equals(bytes)).toBe(true)
      expect(k.id).toMatch(/^[0-9a-f]{8}$/)
      expect(k.id).toBe(masterKeyId(bytes))
    }
  })

  it('rejects 31 and 33 bytes, saying how many it got and what it wants', () => {
    for (const n of [31, 33]) {
      const b = randomBytes(n)
      expect(() => parseMasterKey(b.toString('base64'))).toThrow(new RegExp(`decodes to ${n} bytes: expected 32 bytes`))
      expect(() => parseMasterKey(b.toString('hex'))).toThrow(new RegExp(`decodes to ${n} bytes: expected 32 bytes`))
    }
  })

  it('rejects garbage and empty input with a clear message', () => {
    expect(() => parseMasterKey('not a key!')).toThrow(/neither hex nor base64: expected 32 bytes/)
    expect(() => parseMasterKey('')).toThrow(/empty/)
    expect(() => parseMasterKey('abc')).toThrow(/odd number of hex digits/)
    expect(() => parseMasterKey(`${bytes.toString('base64')}%`)).toThrow(/neither hex nor base64/)
  })
})

describe('MasterKeyring', () => {
  it('finds keys by id and refuses two different keys with one id', () => {
    const a = parseMasterKey(randomBytes(32).toString('hex'))
    const b = parseMasterKey(randomBytes(32).toString('hex'))
    const ring = new MasterKeyring(b, [a, b])
    expect(ring.current).toBe(b)
    expect(ring.get(a.id)).toBe(a)
    expect(ring.ids.sort()).toEqual([a.id, b.id].sort())
    expect(() => new MasterKeyring(a, [{ id: a.id, key: randomBytes(32) }])).toThrow(/share the id/)
    expect(MasterKeyring.fromStrings(b.key.toString('base64'), [a.key.toString('hex')]).get(a.id)?.key.equals(a.key)).toBe(true)
  })
})

describe('loadOrCreateDevMasterKey', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('creates <dataDir>/master.key once with mode 0600 and returns the same key afterwards', () => {
    const root = mkdtempSync(join(tmpdir(), 'mailroom-mk-'))
    dirs.push(root)
    const dataDir = join(root, 'nested', 'data')
    const first = loadOrCreateDevMasterKey(dataDir)
    const file = join(dataDir, 'master.key')
    expect(parseMasterKey(first).key.length).toBe(32)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const mtime = statSync(file).mtimeMs
    expect(loadOrCreateDevMasterKey(dataDir)).toBe(first)
    expect(readFileSync(file, 'utf8').trim()).toBe(first)
    expect(statSync(file).mtimeMs).toBe(mtime)
  })

  it('refuses to replace a damaged key file', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-mk-'))
    dirs.push(dataDir)
    writeFileSync(join(dataDir, 'master.key'), 'short', { mode: 0o600 })
    expect(() => loadOrCreateDevMasterKey(dataDir)).toThrow(/does not hold a valid master key/)
    expect(readFileSync(join(dataDir, 'master.key'), 'utf8')).toBe('short')
  })
})
