// Which changes of keys touch a caller (touchesKeysOf): what an open event stream and a parked wait
// ask to decide whether to look their key up again. A tenant's standing (suspended, resumed,
// deleted) is announced as a change of its subtree, which touches a caller acting in a tenant on
// whose path it lies, and no one else.
import { describe, expect, it } from 'vitest'
import { touchesKeysOf, keyChangeOf, type KeyReach } from '../../src/apikeys/key-changes.js'

// Tenant ids (any strings do here: nothing is looked up).
const [top, t, grandchild, sibling, stranger] = ['top', 't', 'grandchild', 'sibling', 'stranger']

const key = (keyTenantId: string, path: string[]): KeyReach => ({ keyTenantId, path })

describe('touchesKeysOf', () => {
  it("a change of a subtree touches a key whose path holds it, and no other", () => {
    const change = { subtree: t }
    expect(touchesKeysOf(change, key(t, [top, t]))).toBe(true)
    expect(touchesKeysOf(change, key(grandchild, [top, t, grandchild]))).toBe(true)
    expect(touchesKeysOf(change, key(top, [top]))).toBe(false)
    expect(touchesKeysOf(change, key(sibling, [top, sibling]))).toBe(false)
    expect(touchesKeysOf(change, key(stranger, [stranger]))).toBe(false)
  })

  it("acting in a descendant: a change of any tenant on the target's path, the caller's own included", () => {
    const topInGrandchild = key(top, [top, t, grandchild])
    for (const subtree of [top, t, grandchild]) expect(touchesKeysOf({ subtree }, topInGrandchild)).toBe(true)
    expect(touchesKeysOf({ subtree: sibling }, topInGrandchild)).toBe(false)
  })

  it('the operator: a change of a subtree touches it only where it acts; a path not known is touched by every subtree', () => {
    expect(touchesKeysOf({ subtree: t }, { keyTenantId: null, path: [] })).toBe(false)
    expect(touchesKeysOf({ subtree: t }, { keyTenantId: null, path: [top, t] })).toBe(true)
    expect(touchesKeysOf({ subtree: stranger }, { keyTenantId: top, path: null })).toBe(true)
  })

  it("a key revoked or an inbox deleted touches the keys of that tenant only; a change of everything touches all", () => {
    expect(touchesKeysOf({ tenantId: t }, key(t, [top, t]))).toBe(true)
    expect(touchesKeysOf({ tenantId: t }, key(grandchild, [top, t, grandchild]))).toBe(false)
    expect(touchesKeysOf({ tenantId: t }, { keyTenantId: null, path: [top, t] })).toBe(false)
    expect(touchesKeysOf({ all: true }, { keyTenantId: null, path: [] })).toBe(true)
  })

  it('reads the payloads it is announced with; one it cannot read is a change of everything', () => {
    expect(keyChangeOf(JSON.stringify({ subtree: t }))).toEqual({ subtree: t })
    expect(keyChangeOf(JSON.stringify({ tenantId: t }))).toEqual({ tenantId: t })
    expect(keyChangeOf(JSON.stringify({ subtree: 5 }))).toEqual({ all: true })
    expect(keyChangeOf('not json')).toEqual({ all: true })
    expect(keyChangeOf('')).toEqual({ all: true })
  })
})
