// The HTTP door: builds the Hono app from its dependencies. No domain logic lives here.
import { randomBytes } from 'node:crypto'
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { sql } from 'drizzle-orm'
import { withoutTenant } from '../db/scope.js'
import type { AppEnv, Deps } from './context.js'
import { ApiError, errorBody, handleError, validationError } from './errors.js'
import { authMiddleware } from './auth.js'
import { registerTenantRoutes } from '../tenancy/routes.js'
import { registerApiKeyRoutes } from '../apikeys/routes.js'
import { registerInboxRoutes } from '../inboxes/routes.js'
import { registerMessageRoutes } from '../messages/routes.js'
import { registerEventRoutes } from '../events/routes.js'
import { registerDeliveryRoutes } from '../delivery/routes.js'
import { registerRuleRoutes } from '../rules/routes.js'
import { registerUsageRoutes } from '../usage/routes.js'
import { registerAuditRoutes } from '../audit/routes.js'
import { registerWebhookRoutes } from '../webhooks/routes.js'
import { registerDomainRoutes } from '../domains/routes.js'
import { idempotencyMiddleware } from '../idempotency/middleware.js'
import { registerDocsRoutes } from './docs.js'

export const API_VERSION = '0.1.0'
const MAX_JSON_BODY = 1024 * 1024

export function createApp(deps: Deps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target === 'json' ? 'body' : result.target, result.error)
    },
  })

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id')
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : `req_${randomBytes(12).toString('hex')}`
    c.set('requestId', requestId)
    c.header('X-Request-Id', requestId)
    await next()
  })
  // Sends carry attachments as base64: room for the largest message (4/3 of it) plus the JSON around it.
  const maxSendBody = Math.ceil((deps.config.maxMessageBytes * 4) / 3) + MAX_JSON_BODY
  const limitTo = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError('payload_too_large', `request body over ${maxSize} bytes`)
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
  app.use('/v1/*', idempotencyMiddleware(deps))

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant key (`mr_tk_...`), an inbox key (`mr_ik_...`) or the operator key.',
  })

  registerTenantRoutes(app, deps)
  registerApiKeyRoutes(app, deps)
  registerInboxRoutes(app, deps)
  registerMessageRoutes(app, deps)
  registerEventRoutes(app, deps)
  registerDeliveryRoutes(app, deps)
  registerRuleRoutes(app, deps)
  registerUsageRoutes(app, deps)
  registerAuditRoutes(app, deps)
  registerWebhookRoutes(app, deps)
  registerDomainRoutes(app, deps)

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
      await withoutTenant(deps.database, (tx) => tx.execute(sql`select 1`))
      return c.json({ ok: true })
    } catch {
      return c.json(errorBody('service_unavailable', 'database unreachable', c.get('requestId')), 503)
    }
  })

  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`, c.get('requestId')), 404))
  app.onError((err, c) => handleError(err, c, deps.log))
  return app
}

export type App = ReturnType<typeof createApp>
