// The HTTP side of errors: one handler shapes every error body (a ServiceError's code and status,
// validation issues, transient database trouble as 503), and the envelope the wait registry reuses.
import { ERROR_STATUS, type ErrorCode, type ErrorEnvelope } from '@mailroom/contract'
import { ServiceError, type Issue } from '../errors.js'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ZodError } from 'zod'
import type { Logger } from '../lib/log.js'
import { DatabaseUnavailable, isConflict, isConnectionError } from '../db/health.js'
import { ShedError } from '../db/gate.js'
import { TenantKeyMissingError } from '../crypto/service.js'

export function validationError(where: string, error: ZodError): ServiceError {
  const issues = error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }))
  const first = issues[0]
  return new ServiceError('validation_error', first ? `${first.path}: ${first.message}` : 'invalid request', issues)
}

export function errorBody(code: ErrorCode, message: string, requestId: string, issues?: Issue[]): ErrorEnvelope {
  return { error: { code, message, requestId, ...(issues ? { issues } : {}) } }
}

/**
 * The answer for failures that are not the request's fault and pass: the database out of reach
 * (503 `database_unavailable`), no connection free before the request's deadline, or the request's
 * transaction rolled back by Postgres to break a deadlock or a serialization conflict with another
 * (503 `service_unavailable`). All say when to try again. Null for anything else.
 */
export function transientError(err: unknown): ServiceError | null {
  if (err instanceof ShedError) {
    return new ServiceError('service_unavailable', 'the server is busy: no database connection came free in time; retry shortly', undefined, { 'Retry-After': '1' })
  }
  if (err instanceof DatabaseUnavailable || isConnectionError(err)) {
    return new ServiceError('database_unavailable', 'the database is unavailable; retry shortly', undefined, { 'Retry-After': '2' })
  }
  if (isConflict(err)) {
    return new ServiceError('service_unavailable', 'the request collided with a concurrent change and nothing of it was applied; retry shortly', undefined, { 'Retry-After': '1' })
  }
  return null
}

/**
 * The answer for a request whose tenant was deleted while it ran (its key still valid in this
 * process's memory for a moment): what it asked for is gone, as the next request will find.
 */
export function goneError(err: unknown): ServiceError | null {
  return err instanceof TenantKeyMissingError ? new ServiceError('not_found', 'not found: its tenant has been deleted') : null
}

export function handleError(err: Error, c: Context, log: Logger): Response {
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown'
  const transient = transientError(err)
  if (transient) {
    log.warn('request failed: database unavailable, busy or in conflict', { requestId, err: String(err.message) })
    err = transient
  }
  err = goneError(err) ?? err
  if (err instanceof ServiceError) {
    for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v)
    return c.json(errorBody(err.code, err.message, requestId, err.issues), err.status as 400)
  }
  if (err instanceof HTTPException) {
    const status = err.status
    const code: ErrorCode =
      status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 401 ? 'unauthorized' : 'bad_request'
    const message = status === 400 && /json/i.test(err.message) ? 'request body is not valid JSON' : err.message || 'bad request'
    return c.json(errorBody(code, message, requestId), ERROR_STATUS[code] as 400)
  }
  log.error('unhandled error', { requestId, err: err.stack ?? String(err) })
  return c.json(errorBody('internal_error', 'internal error', requestId), 500)
}
