// Lists: one object that is an async iterable over every item of every page, and can fetch one page.
import type { RequestOptions } from './http.js'
import type { Page, PageParams } from '../types.js'

type FetchPage<T> = (params: PageParams, options: RequestOptions | undefined) => Promise<Page<T>>

/**
 * A list of `T` across pages. Nothing is fetched until you iterate or call `page()`.
 *
 * - `for await (const item of list)` walks every item of every page (`{ data, nextCursor }`),
 *   following `nextCursor` as `after`.
 * - `await list.page({ limit, after })` fetches one page.
 * - `for await (const page of list.pages())` walks page by page.
 *
 * @example
 * for await (const inbox of mailroom.inboxes.list()) console.log(inbox.address)
 *
 * const first = await mailroom.inboxes.list().page({ limit: 10 })
 * const second = first.nextCursor ? await mailroom.inboxes.list().page({ limit: 10, after: first.nextCursor }) : null
 */
export class PageList<T> implements AsyncIterable<T> {
  readonly #fetchPage: FetchPage<T>
  readonly #limit: number | undefined
  readonly #options: RequestOptions | undefined

  constructor(fetchPage: FetchPage<T>, limit: number | undefined, options: RequestOptions | undefined) {
    this.#fetchPage = fetchPage
    this.#limit = limit
    this.#options = options
  }

  /**
   * One page. `limit` defaults to the list's own `limit` (or the server's, 20).
   *
   * @example
   * const { data, nextCursor } = await inbox.messages.list({ from: 'a@b.c' }).page({ limit: 5 })
   */
  page(params: PageParams = {}, options?: RequestOptions): Promise<Page<T>> {
    return this.#fetchPage({ limit: params.limit ?? this.#limit, after: params.after }, options ?? this.#options)
  }

  /**
   * Every page in turn, starting from the first.
   *
   * @example
   * for await (const page of mailroom.tenants.list({ limit: 100 }).pages()) console.log(page.data.length)
   */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let after: string | null | undefined
    const seen = new Set<string>()
    for (;;) {
      const page = await this.page({ after })
      yield page
      // A repeated cursor would loop for ever: stop rather than trust it.
      if (!page.nextCursor || seen.has(page.nextCursor)) return
      seen.add(page.nextCursor)
      after = page.nextCursor
    }
  }

  /**
   * Every item of every page, fetching the next page only when the current one is used up.
   *
   * @example
   * for await (const msg of inbox.messages.list({ subject: 'invoice' })) {
   *   if (msg.attachments.length) break // stops fetching
   * }
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data
  }
}
