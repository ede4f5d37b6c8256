// The console's pages as data: the path, the title, where it sits in the navigation, and the code
// that renders it (loaded when first visited). A page for a new API slots in with one entry here.
//
import { lazy, type ComponentType, type LazyExoticComponent } from 'react'

export type NavSection = 'Mail' | 'Administration' | 'Sending'

export interface RouteDef {
  id: string
  /** Path inside /console, with `:name` segments. */
  pattern: string
  title: string
  /** Shown in the navigation under this section (detail pages have none). */
  nav?: { label: string; section: NavSection }
  /** Who may open it: a tenant session (or the operator acting inside a tenant), or the operator alone too. */
  needsTenant: boolean
  page: LazyExoticComponent<ComponentType>
}

export const routes: RouteDef[] = [
  { id: 'overview', pattern: '/', title: 'Overview', nav: { label: 'Overview', section: 'Mail' }, needsTenant: true, page: lazy(() => import('./pages/Overview')) },
  { id: 'inboxes', pattern: '/inboxes', title: 'Inboxes', nav: { label: 'Inboxes', section: 'Mail' }, needsTenant: true, page: lazy(() => import('./pages/Inboxes')) },
  { id: 'inbox', pattern: '/inboxes/:inboxId', title: 'Inbox', needsTenant: true, page: lazy(() => import('./pages/Inbox')) },
  { id: 'message', pattern: '/inboxes/:inboxId/messages/:messageId', title: 'Message', needsTenant: true, page: lazy(() => import('./pages/Message')) },
  { id: 'approvals', pattern: '/approvals', title: 'Approvals', nav: { label: 'Approvals', section: 'Mail' }, needsTenant: true, page: lazy(() => import('./pages/Approvals')) },
  { id: 'quarantine', pattern: '/quarantine', title: 'Quarantine', nav: { label: 'Quarantine', section: 'Mail' }, needsTenant: true, page: lazy(() => import('./pages/Quarantine')) },
  { id: 'thread', pattern: '/inboxes/:inboxId/threads/:threadId', title: 'Thread', needsTenant: true, page: lazy(() => import('./pages/Thread')) },
  { id: 'tenants', pattern: '/tenants', title: 'Tenants', nav: { label: 'Tenants', section: 'Administration' }, needsTenant: false, page: lazy(() => import('./pages/Tenants')) },
  { id: 'tenant', pattern: '/tenants/:tenantId', title: 'Tenant', needsTenant: false, page: lazy(() => import('./pages/Tenant')) },
  { id: 'api-keys', pattern: '/api-keys', title: 'API keys', nav: { label: 'API keys', section: 'Administration' }, needsTenant: true, page: lazy(() => import('./pages/ApiKeys')) },
  { id: 'audit-log', pattern: '/audit-log', title: 'Audit log', nav: { label: 'Audit log', section: 'Administration' }, needsTenant: true, page: lazy(() => import('./pages/AuditLog')) },
  { id: 'webhooks', pattern: '/webhooks', title: 'Webhooks', nav: { label: 'Webhooks', section: 'Sending' }, needsTenant: true, page: lazy(() => import('./pages/Webhooks')) },
  { id: 'webhook', pattern: '/webhooks/:webhookId', title: 'Webhook', needsTenant: true, page: lazy(() => import('./pages/Webhook')) },
  { id: 'domains', pattern: '/domains', title: 'Domains', nav: { label: 'Domains', section: 'Sending' }, needsTenant: true, page: lazy(() => import('./pages/Domains')) },
  { id: 'domain', pattern: '/domains/:domainId', title: 'Domain', needsTenant: true, page: lazy(() => import('./pages/Domain')) },
  { id: 'suppressions', pattern: '/suppressions', title: 'Suppressions', nav: { label: 'Suppressions', section: 'Sending' }, needsTenant: true, page: lazy(() => import('./pages/Suppressions')) },
  { id: 'sender-rules', pattern: '/sender-rules', title: 'Sender rules', nav: { label: 'Sender rules', section: 'Sending' }, needsTenant: true, page: lazy(() => import('./pages/SenderRules')) },
]

export const NAV_SECTIONS: NavSection[] = ['Mail', 'Administration', 'Sending']
