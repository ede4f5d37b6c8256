// defineRoute: a createRoute that also declares who may call it (tenant keys only, or inbox keys too)
// and the error responses every route shares. The security matrix test reads `x-mailroom-scope`.
import { createRoute, type RouteConfig } from '@hono/zod-openapi'
import { ErrorEnvelope, type IdKind } from '@mailroom/contract'
import type { Context, MiddlewareHandler } from 'hono'
import type { z } from 'zod'
import { ServiceError, notFound } from '../errors.js'
import { decodeCursor, type CursorPosition } from '../lib/cursor.js'
import { fromPublicId } from '../lib/ids.js'
import type { AppEnv } from './context.js'

export type RouteScope = 'tenant' | 'inbox'

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorEnvelope } },
})

export const commonErrors = {
  400: errorResponse('Invalid request (`validation_error`, `bad_request`).'),
  401: errorResponse('Missing, malformed, revoked or expired key (`unauthorized`).'),
  403: errorResponse('The key may not do this (`forbidden`, `tenant_suspended`).'),
  404: errorResponse('No such object, or not yours (`not_found`).'),
} as const

export const conflictError = { 409: errorResponse('Conflict (`conflict`, `address_taken`).') } as const

/**
 * What the operator key does without acting in a tenant: create and list top-level tenants; read,
 * change and delete any tenant (tenancy/routes.ts), read its sending, assign its IP pool and resume
 * its sending (delivery/routes.ts).
 */
const OPERATOR_OWN = new Set(['/v1/tenants', '/v1/tenants/:id', '/v1/tenants/:id/sending', '/v1/tenants/:id/sending/resume'])
const operatorOwn = (path: string) => OPERATOR_OWN.has(path)

const requireScope =
  (scope: RouteScope): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const p = c.get('principal')
    if (scope === 'tenant' && p.kind === 'inbox') {
      throw new ServiceError('forbidden', 'this route needs a tenant key; an inbox key can only use its own inbox')
    }
    if (p.kind === 'operator' && p.tenantId === null && !operatorOwn(c.req.routePath)) {
      throw new ServiceError('forbidden', 'the operator key acts inside a tenant: send Mailroom-Tenant: <tenantId>')
    }
    await next()
  }

export function defineRoute<const R extends Omit<RouteConfig, 'middleware'>>(scope: RouteScope, config: R) {
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    'x-mailroom-scope': scope,
    middleware: [requireScope(scope)] as const,
    responses: { ...commonErrors, ...config.responses },
  })
}

/** Shapes a response through its contract schema, so the wire cannot drift from the contract. */
export function reply<S extends z.ZodType, Code extends 200 | 201 | 202>(c: Context, schema: S, body: z.input<S>, status: Code) {
  return c.json(schema.parse(body) as z.output<S>, status)
}

export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const body = <S extends z.ZodType>(schema: S) => ({
  body: { required: true, content: { 'application/json': { schema } } },
})

/** The position behind an `after` query parameter; a cursor we did not issue is a 400. */
export function cursorOf(after: string | undefined): CursorPosition | null {
  if (after === undefined) return null
  const cur = decodeCursor(after)
  if (!cur) {
    throw new ServiceError('validation_error', 'query.after: not a cursor this API issued', [
      { path: 'query.after', message: 'invalid cursor' },
    ])
  }
  return cur
}

/** The uuid behind a path id, or the same 404 a missing object gets. */
export function pathId(kind: IdKind, id: string, what: string): string {
  const uuid = fromPublicId(kind, id)
  if (!uuid) throw notFound(what)
  return uuid
}
