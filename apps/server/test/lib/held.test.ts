// Places for held requests (long-poll waits, event streams) per tenant and per inbox.
import { describe, expect, it } from 'vitest'
import { HeldRequests } from '../../src/events/held.js'
import { ServiceError } from '../../src/errors.js'

const refused = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError)
    expect((err as ServiceError).status).toBe(429)
    expect((err as ServiceError).headers?.['Retry-After']).toBe('1')
    return (err as ServiceError).message
  }
  throw new Error('not refused')
}

describe('HeldRequests', () => {
  it('refuses an inbox past its cap, while its tenant has room and other inboxes go on', () => {
    const held = new HeldRequests({ perTenant: 10, perInbox: 2 })
    held.acquire('t', 'a')
    held.acquire('t', 'a')
    expect(refused(() => held.acquire('t', 'a'))).toMatch(/this inbox already holds 2/)
    held.acquire('t', 'b')
    held.acquire('t', null)
    expect(held.heldBy('t')).toBe(4)
  })

  it('refuses a tenant past its cap, whichever inbox asks; other tenants go on', () => {
    const held = new HeldRequests({ perTenant: 3, perInbox: 2 })
    held.acquire('t', 'a')
    held.acquire('t', 'b')
    held.acquire('t', null)
    expect(refused(() => held.acquire('t', 'c'))).toMatch(/this tenant already holds 3/)
    expect(refused(() => held.acquire('t', null))).toMatch(/tenant/)
    held.acquire('u', 'x')
    expect(held.heldBy('u')).toBe(1)
  })

  it('gives a place back once, however often release is called, and a refused one costs nothing', () => {
    const held = new HeldRequests({ perTenant: 2, perInbox: 1 })
    const release = held.acquire('t', 'a')
    refused(() => held.acquire('t', 'a'))
    release()
    release()
    expect(held.heldBy('t')).toBe(0)
    const again = held.acquire('t', 'a')
    held.acquire('t', 'b')
    refused(() => held.acquire('t', 'c'))
    again()
    held.acquire('t', 'c')
    expect(held.heldBy('t')).toBe(2)
  })
})
