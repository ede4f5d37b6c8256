import { describe, expect, it } from 'vitest'
import { DataKeyCache } from '../../src/crypto/cache.js'
import { generateDataKey } from '../../src/crypto/envelope.js'

describe('DataKeyCache', () => {
  it('evicts the least recently used tenant when full', () => {
    const cache = new DataKeyCache(2)
    const [a, b, c] = [generateDataKey(), generateDataKey(), generateDataKey()]
    cache.set('a', a)
    cache.set('b', b)
    expect(cache.get('a')).toBe(a) // a is now the most recent
    cache.set('c', c)
    expect(cache.size).toBe(2)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(a)
    expect(cache.get('c')).toBe(c)
  })

  it('defaults to 10,000 entries and stays bounded', () => {
    const cache = new DataKeyCache()
    expect(cache.maxEntries).toBe(10_000)
    const dek = generateDataKey()
    for (let i = 0; i < 10_050; i++) cache.set(`t${i}`, dek)
    expect(cache.size).toBe(10_000)
    expect(cache.get('t0')).toBeUndefined()
    expect(cache.get('t10049')).toBe(dek)
  })

  it('loads once for concurrent misses and serves later calls from memory', async () => {
    const cache = new DataKeyCache()
    const dek = generateDataKey()
    let loads = 0
    const load = async () => {
      loads++
      await new Promise((r) => setTimeout(r, 5))
      return dek
    }
    const got = await Promise.all([cache.getOrLoad('a', load), cache.getOrLoad('a', load), cache.getOrLoad('a', load)])
    expect(got.every((k) => k === dek)).toBe(true)
    expect(await cache.getOrLoad('a', load)).toBe(dek)
    expect(loads).toBe(1)
  })

  it('forgets a tenant on invalidate, including a load still in flight', async () => {
    const cache = new DataKeyCache()
    cache.set('a', generateDataKey())
    cache.invalidate('a')
    expect(cache.get('a')).toBeUndefined()

    let release!: (k: Buffer) => void
    const inFlight = cache.getOrLoad('b', () => new Promise<Buffer>((r) => (release = r)))
    cache.invalidate('b')
    release(generateDataKey())
    await inFlight
    expect(cache.get('b')).toBeUndefined()
  })

  it('does not cache a failed load', async () => {
    const cache = new DataKeyCache()
    await expect(cache.getOrLoad('a', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down')
    const dek = generateDataKey()
    expect(await cache.getOrLoad('a', () => dek)).toBe(dek)
  })
})
