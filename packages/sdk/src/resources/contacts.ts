// /v1/inboxes/{id}/contacts: who one inbox is in conversation with.
import type { HttpClient, RequestOptions } from '../core/http.js'
import { PageList } from '../core/pagination.js'
import { seg } from '../core/path.js'
import type { Contact, ContactListParams, Page, UpdateContactParams } from '../types.js'

/**
 * The contacts of one inbox: everyone it received mail from or sent mail to. Reach it as
 * `inbox.contacts`.
 *
 * @example
 * for await (const c of inbox.contacts.list()) console.log(c.address, c.lastContactAt)
 */
export class Contacts {
  readonly #http: HttpClient
  readonly #base: string

  constructor(http: HttpClient, inboxId: string) {
    this.#http = http
    this.#base = `/v1/inboxes/${seg(inboxId, 'inbox id')}/contacts`
  }

  /**
   * The contacts, most recent contact first; `q` finds an address or name containing it.
   *
   * @example
   * const { data } = await inbox.contacts.list({ q: 'acme', blocked: false }).page({ limit: 10 })
   */
  list(params: ContactListParams = {}, options?: RequestOptions): PageList<Contact> {
    const { limit, ...filters } = params
    return new PageList(
      (page, opts) => this.#http.json<Page<Contact>>({ method: 'GET', path: this.#base, query: { ...filters, ...page }, options: opts }),
      limit,
      options,
    )
  }

  /**
   * One contact.
   *
   * @example
   * const c = await inbox.contacts.get('con_...')
   */
  async get(contactId: string, options?: RequestOptions): Promise<Contact> {
    return this.#http.json({ method: 'GET', path: `${this.#base}/${seg(contactId, 'contact id')}`, options })
  }

  /**
   * Edits a contact's name, notes (stored encrypted), tags (replaced) or blocked flag.
   *
   * @example
   * await inbox.contacts.update(c.id, { name: 'Ada Lovelace', tags: ['vip'] })
   */
  async update(contactId: string, params: UpdateContactParams, options?: RequestOptions): Promise<Contact> {
    return this.#http.json({ method: 'PATCH', path: `${this.#base}/${seg(contactId, 'contact id')}`, body: params, options })
  }

  /**
   * Deletes a contact (mail exchanged with the address later makes it a new one).
   *
   * @example
   * await inbox.contacts.delete(c.id)
   */
  async delete(contactId: string, options?: RequestOptions): Promise<void> {
    await this.#http.request({ method: 'DELETE', path: `${this.#base}/${seg(contactId, 'contact id')}`, options, read: 'none' })
  }
}
