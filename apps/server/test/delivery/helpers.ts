// Shared bits of the delivery tests: reading a tenant's events and a sent message's state.
import type { TestServer } from '@mailroom/testkit/server'
import { withTenant } from '../../src/db/scope.js'
import { eventToWire, eventsAfter } from '../../src/events/service.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { eventually } from './sink.js'

export async function eventsOf(server: TestServer, publicTenantId: string) {
  const tenantId = fromPublicId('tenant', publicTenantId)!
  return withTenant(server.running.deps.database, { tenantId }, async (tx) => {
    const rows = await eventsAfter(tx, 0, 1000, null)
    const cipher = await server.running.deps.crypto.cipher(tx, tenantId)
    return rows.map((e) => eventToWire(e, cipher))
  })
}

type Api = { get: (p: string) => Promise<{ status: number; body: any }> }

/** Waits until the sent message reaches one of `statuses`; returns the message summary. */
export async function waitForStatus(api: Api, inboxId: string, messageId: string, statuses: string[], timeoutMs = 15_000) {
  return eventually(
    async () => {
      const res = await api.get(`/v1/inboxes/${inboxId}/messages/${messageId}`)
      return statuses.includes(res.body?.status) ? res.body : undefined
    },
    timeoutMs,
    `message ${messageId} to reach ${statuses.join('|')}`,
  )
}

export async function deliveriesOf(api: Api, inboxId: string, messageId: string) {
  const res = await api.get(`/v1/inboxes/${inboxId}/messages/${messageId}/deliveries`)
  return res.body.data as { recipient: string; status: string; route: string | null; attempts: number; lastError: string | null }[]
}
