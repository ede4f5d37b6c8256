// Lists: async iteration across pages, one page at a time, and the guard against a cursor loop.
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { Inbox, PageList } from '../src/index.js'
import { BASE, client, inboxFixture, server, tenantFixture, useMsw } from './helpers.js'

useMsw()

describe('pagination', () => {
  it('iterates every item across 3 pages, passing nextCursor as after and keeping limit', async () => {
    const pages = [
      { data: [tenantFixture({ name: 't1' }), tenantFixture({ name: 't2' })], nextCursor: 'c1' },
      { data: [tenantFixture({ name: 't3' }), tenantFixture({ name: 't4' })], nextCursor: 'c2' },
      { data: [tenantFixture({ name: 't5' })], nextCursor: null },
    ]
    const queries: string[] = []
    server.use(
      http.get(`${BASE}/v1/tenants`, ({ request }) => {
        const url = new URL(request.url)
        queries.push(url.search)
        const after = url.searchParams.get('after')
        return HttpResponse.json(pages[after === null ? 0 : after === 'c1' ? 1 : 2])
      }),
    )
    const list = client().tenants.list({ limit: 2 })
    expect(list).toBeInstanceOf(PageList)
    expect(queries).toEqual([]) // lazy: nothing fetched yet
    const names: string[] = []
    for await (const t of list) names.push(t.name)
    expect(names).toEqual(['t1', 't2', 't3', 't4', 't5'])
    expect(queries).toEqual(['?limit=2', '?limit=2&after=c1', '?limit=2&after=c2'])
  })

  it('pages() yields whole pages; breaking out stops fetching', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/inboxes`, () => {
        calls++
        return HttpResponse.json({ data: [inboxFixture(), inboxFixture()], nextCursor: `c${calls}` })
      }),
    )
    const list = client().inboxes.list()
    const sizes: number[] = []
    for await (const page of list.pages()) {
      sizes.push(page.data.length)
      expect(page.data[0]).toBeInstanceOf(Inbox)
      if (sizes.length === 2) break
    }
    expect(sizes).toEqual([2, 2])
    expect(calls).toBe(2)
    let seen = 0
    for await (const inbox of client().inboxes.list()) {
      expect(inbox).toBeInstanceOf(Inbox)
      if (++seen === 3) break
    }
    expect(calls).toBe(4)
  })

  it('page() fetches exactly one page; its limit overrides the list limit', async () => {
    const urls: string[] = []
    server.use(
      http.get(`${BASE}/v1/api-keys`, ({ request }) => {
        urls.push(new URL(request.url).search)
        return HttpResponse.json({ data: [], nextCursor: 'next' })
      }),
    )
    const list = client().apiKeys.list({ limit: 50 })
    expect(await list.page()).toEqual({ data: [], nextCursor: 'next' })
    await list.page({ limit: 3, after: 'next' })
    await list.page({ after: null })
    expect(urls).toEqual(['?limit=50', '?limit=3&after=next', '?limit=50'])
  })

  it('stops when the server hands back a cursor it already gave', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/tenants`, () => {
        calls++
        return HttpResponse.json({ data: [tenantFixture()], nextCursor: 'same' })
      }),
    )
    let count = 0
    for await (const _ of client().tenants.list()) count++
    expect(count).toBe(2)
    expect(calls).toBe(2)
  })
})
