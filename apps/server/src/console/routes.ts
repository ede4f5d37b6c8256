// The console's own routes: sign-in (a key becomes a session cookie), who-am-I with the CSRF
// token, sign-out, and the built single-page app at /console. Everything else the console does
// goes through the public /v1 API with the session cookie in place of the key.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { z } from 'zod'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { ServiceError } from '../errors.js'
import { authenticate } from '../apikeys/service.js'
import { safeEqual } from '../apikeys/secret.js'
import { withTenant } from '../db/scope.js'
import { toPublicId } from '../lib/ids.js'
import { actorOf, audit } from '../audit/service.js'
import { assertCsrf, assertSameOrigin, clearSessionCookie, sessionToken, setSessionCookie } from './auth.js'
import { createOperatorSession, createTenantSession, csrfTokenOf, endSession, idleExpiry, resolveSession, SESSION_IDLE_MS, type Session } from './service.js'
import { consoleStatic } from './static.js'

const SignIn = z.object({ key: z.string().trim().min(1).max(500) }).strict()

const KEY_MESSAGES = {
  malformed: 'that is not a Mailroom key: tenant keys look like mr_tk_...',
  unknown: 'invalid key',
  revoked: 'this key has been revoked',
  expired: 'this key has expired',
} as const

/** What the page is told about its session (never the token itself: that stays in the HttpOnly cookie). */
function sessionBody(s: Session, token: string) {
  return {
    scope: s.kind,
    tenantId: s.kind === 'tenant' ? toPublicId('tenant', s.tenantId) : null,
    keyId: s.kind === 'tenant' ? toPublicId('apiKey', s.keyId) : null,
    csrfToken: csrfTokenOf(token),
    createdAt: s.createdAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    idleExpiresAt: idleExpiry(s).toISOString(),
    idleTimeoutSeconds: SESSION_IDLE_MS / 1000,
  }
}

const noStore = (c: Context) => c.header('Cache-Control', 'no-store')

export function registerConsole(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const { database, clock, config } = deps

  app.post(
    '/console/session',
    bodyLimit({
      maxSize: 4096,
      onError: () => {
        throw new ServiceError('payload_too_large', 'request body over 4096 bytes')
      },
    }),
    async (c) => {
      noStore(c)
      assertSameOrigin(c, false)
      // A cross-site HTML form can only send form encodings: JSON needs this origin's own script.
      if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
        throw new ServiceError('unsupported_media_type', 'send the key as JSON: {"key":"mr_tk_..."}')
      }
      const parsed = SignIn.safeParse(await c.req.json().catch(() => null))
      if (!parsed.success) throw new ServiceError('validation_error', 'body.key: paste a tenant key (mr_tk_...) or the operator key', [{ path: 'body.key', message: 'required' }])
      const key = parsed.data.key
      const now = clock.now()
      const operatorKey = config.operatorKey
      if (operatorKey && key.length === operatorKey.length && safeEqual(key, operatorKey)) {
        const { token, session } = await createOperatorSession(database, operatorKey, now)
        setSessionCookie(c, token)
        return c.json(sessionBody(session, token), 201)
      }
      if (key.startsWith('mr_ik_')) {
        throw new ServiceError('forbidden', 'an inbox key (mr_ik_...) belongs to one agent and cannot sign in to the console: use a tenant key (mr_tk_...)')
      }
      const auth = await authenticate(database, key, now)
      if (!auth.ok) throw new ServiceError('unauthorized', KEY_MESSAGES[auth.reason])
      if (auth.scope !== 'tenant') {
        throw new ServiceError('forbidden', 'an inbox key (mr_ik_...) belongs to one agent and cannot sign in to the console: use a tenant key (mr_tk_...)')
      }
      if (auth.tenantSuspended) throw new ServiceError('tenant_suspended', 'this tenant is suspended')
      const { token, session } = await createTenantSession(database, { tenantId: auth.tenantId, keyId: auth.keyId }, now)
      await withTenant(database, { tenantId: auth.tenantId }, (tx) =>
        audit(tx, auth.tenantId, actorOf({ kind: 'tenant', keyId: auth.keyId, keyTenantId: auth.tenantId, tenantId: auth.tenantId, inboxId: null }), 'console.signed_in', {
          type: 'api_key',
          id: toPublicId('apiKey', auth.keyId),
        }),
      )
      setSessionCookie(c, token)
      return c.json(sessionBody(session, token), 201)
    },
  )

  app.get('/console/session', async (c) => {
    noStore(c)
    const token = sessionToken(c)
    if (!token) throw new ServiceError('unauthorized', 'not signed in')
    const found = await resolveSession(database, token, clock.now(), config.operatorKey)
    if (!found.ok) {
      clearSessionCookie(c)
      throw new ServiceError('unauthorized', found.reason === 'revoked' ? 'the key of this session was revoked: sign in again' : 'the session has ended: sign in again')
    }
    return c.json(sessionBody(found.session, token), 200)
  })

  app.delete('/console/session', async (c) => {
    noStore(c)
    const token = sessionToken(c)
    if (token) {
      assertCsrf(c, token)
      await endSession(database, token)
    }
    clearSessionCookie(c)
    return c.body(null, 204)
  })

  const serve = consoleStatic()
  app.get('/console', serve)
  app.get('/console/*', serve)
}
