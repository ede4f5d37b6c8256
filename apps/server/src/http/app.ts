// The HTTP door: builds the Hono app from its dependencies. No domain logic lives here.
import { monotonicMs } from '../lib/clock.js'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { routePath } from 'hono/route'
import { sql } from 'drizzle-orm'
import { withoutTenant } from '../db/scope.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from './context.js'
import { ServiceError } from '../errors.js'
import { errorBody, handleError, validationError } from './errors.js'
import { authMiddleware, HELD_PATH, HELD_ROUTES, tenantTurns } from './caller.js'
import { registerTenantRoutes } from '../tenancy/routes.js'
import { registerApiKeyRoutes } from '../apikeys/routes.js'
import { registerInboxRoutes } from '../inboxes/routes.js'
import { registerMessageRoutes } from '../messages/routes.js'
import { registerWaitRoute } from '../messages/wait-route.js'
import { registerThreadRoutes } from '../messages/thread-routes.js'
import { registerMailboxRoutes } from '../messages/mailbox-routes.js'
import { registerContactRoutes } from '../contacts/routes.js'
import { registerSendRoutes } from '../messages/send-routes.js'
import { registerApprovalRoutes } from '../approvals/routes.js'
import { registerDraftRoutes } from '../drafts/routes.js'
import { registerInboxLimitRoutes } from '../inboxes/limit-routes.js'
import { registerSuppressionRoutes } from '../suppressions/routes.js'
import { registerEventRoutes } from '../events/routes.js'
import { registerSendingRoutes } from '../delivery/routes.js'
import { registerRuleRoutes } from '../rules/routes.js'
import { registerUsageRoutes } from '../usage/routes.js'
import { registerAuditRoutes } from '../audit/routes.js'
import { registerWebhookRoutes } from '../webhooks/routes.js'
import { registerDomainRoutes } from '../domains/routes.js'
import { registerConsole } from '../console/routes.js'
import { idempotencyMiddleware } from '../idempotency/middleware.js'
import { withDeadline } from '../db/gate.js'
import { storableInput } from './storable.js'
import { safeEqual } from '../apikeys/secret.js'
import { toPublicId } from '../lib/ids.js'
import { registerDocsRoutes } from './docs.js'

export const API_VERSION = '0.1.0'
const MAX_JSON_BODY = 1024 * 1024

export function createApp(deps: Deps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target === 'json' ? 'body' : result.target, result.error)
    },
  })

  /** How long a long poll's or event stream's first database work may wait for a connection. */
  const HELD_QUEUE_MS = 15_000
  // Long-lived by design: their duration says nothing about the server's speed.
  const heldRoutes = new Set(HELD_ROUTES)
  app.use('*', async (c, next) => {
    const started = performance.now()
    const incoming = c.req.header('x-request-id')
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : `req_${randomBytes(12).toString('hex')}`
    c.set('requestId', requestId)
    c.header('X-Request-Id', requestId)
    // The database work this request starts waits for a connection at most until then (db/gate.ts).
    // A long poll's client expects to wait: its first look may queue longer (a fleet of agents that
    // starts waiting at once is served in turns instead of being shed).
    const patience = HELD_PATH.test(c.req.path) ? Math.max(deps.config.dbQueueTimeoutMs, HELD_QUEUE_MS) : deps.config.dbQueueTimeoutMs
    await withDeadline(monotonicMs() + patience, next)
    // The route of the handler that answered (the router also matches later patterns: `/messages/wait` is also `/messages/:messageId`).
    const matched = routePath(c)
    const route = matched.endsWith('*') ? 'unmatched' : matched
    const status = c.res.status
    const seconds = (performance.now() - started) / 1000
    deps.metrics.httpRequests.inc({ method: c.req.method, route, status })
    if (!heldRoutes.has(route)) deps.metrics.httpDuration.observe({ method: c.req.method, route }, seconds)
    const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined
    const tenant = principal?.tenantId ? toPublicId('tenant', principal.tenantId) : undefined
    if (tenant) deps.metrics.tenantRequest(tenant)
    deps.log.info('request', { requestId, method: c.req.method, route, status, ms: Math.round(seconds * 10_000) / 10, ...(tenant ? { tenantId: tenant } : {}) })
  })
  // Sends carry attachments as base64: room for the largest message (4/3 of it) plus the JSON around it.
  const maxSendBody = Math.ceil((deps.config.maxMessageBytes * 4) / 3) + MAX_JSON_BODY
  const limitTo = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ServiceError('payload_too_large', `request body over ${maxSize} bytes`)
      },
    })
  const jsonLimit = limitTo(MAX_JSON_BODY)
  const sendLimit = limitTo(maxSendBody)
  const SEND_PATH = /^\/v1\/inboxes\/[^/]+\/messages(\/[^/]+\/(reply|forward))?$/
  // A GET or HEAD has no body to limit; skipping them also spares building a full fetch Request
  // (bodyLimit reads `c.req.raw.body`), which an open long-poll would otherwise keep.
  app.use('/v1/*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : (c.req.method === 'POST' && SEND_PATH.test(c.req.path) ? sendLimit : jsonLimit)(c, next),
  )
  app.use('/v1/*', authMiddleware(deps))
  app.use('/v1/*', tenantTurns(deps))
  app.use('/v1/*', storableInput())
  app.use('/v1/*', idempotencyMiddleware(deps))

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant key (`mr_tk_...`), an inbox key (`mr_ik_...`) or the operator key.',
  })

  registerTenantRoutes(app, deps)
  registerApiKeyRoutes(app, deps)
  registerInboxRoutes(app, deps)
  registerInboxLimitRoutes(app, deps)
  // The wait before the message routes: /messages/wait must not be taken for /messages/{messageId}.
  registerWaitRoute(app, deps)
  registerMessageRoutes(app, deps)
  registerThreadRoutes(app, deps)
  registerMailboxRoutes(app, deps)
  registerContactRoutes(app, deps)
  registerSendRoutes(app, deps)
  registerApprovalRoutes(app, deps)
  registerDraftRoutes(app, deps)
  registerEventRoutes(app, deps)
  registerSuppressionRoutes(app, deps)
  registerSendingRoutes(app, deps)
  registerRuleRoutes(app, deps)
  registerUsageRoutes(app, deps)
  registerAuditRoutes(app, deps)
  registerWebhookRoutes(app, deps)
  registerDomainRoutes(app, deps)
  registerConsole(app, deps)

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Mailroom API',
      version: API_VERSION,
      description: 'Email for AI agents: tenants, inboxes, keys and mail. Errors answer `{ error: { code, message, requestId } }`.',
    },
  })
  registerDocsRoutes(app)
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    try {
      // In a transaction like every other statement (db/scope.ts: none on postgres.js's shared pool).
      await withoutTenant(deps.database, (tx) => tx.execute(sql`select 1`), 'readyz')
      return c.json({ ok: true })
    } catch {
      c.header('Retry-After', '2')
      return c.json(errorBody('database_unavailable', 'not ready: the database cannot be reached', c.get('requestId')), 503)
    }
  })
  // Prometheus metrics, for the operator key only (or without a key on MAILROOM_METRICS_PORT).
  app.get('/metrics', async (c) => {
    const operatorKey = deps.config.operatorKey
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')
    if (!operatorKey) throw new ServiceError('forbidden', '/metrics needs MAILROOM_OPERATOR_KEY (send it as Bearer), or MAILROOM_METRICS_PORT for a listener of its own')
    if (!m || m[1]!.length !== operatorKey.length || !safeEqual(m[1]!, operatorKey)) throw new ServiceError('unauthorized', '/metrics needs the operator key: Authorization: Bearer <MAILROOM_OPERATOR_KEY>')
    const { contentType, body } = await deps.metrics.render()
    return c.body(body, 200, { 'Content-Type': contentType })
  })

  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`, c.get('requestId')), 404))
  app.onError((err, c) => handleError(err, c, deps.log))
  return app
}

export type App = ReturnType<typeof createApp>
