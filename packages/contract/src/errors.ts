// The error envelope and the closed set of error codes every Mailroom error uses.
import { z } from 'zod'

export const ERROR_CODES = [
  'bad_request',
  'validation_error',
  'unauthorized',
  'forbidden',
  'tenant_suspended',
  'not_found',
  'method_not_allowed',
  'conflict',
  'address_taken',
  'idempotency_conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'first_contact_limit',
  'quota_exceeded',
  'sending_paused',
  'internal_error',
  'service_unavailable',
  'database_unavailable',
] as const

export const ErrorCode = z.enum(ERROR_CODES)
export type ErrorCode = z.infer<typeof ErrorCode>

/** The HTTP status each code is answered with. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  tenant_suspended: 403,
  sending_paused: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  address_taken: 409,
  idempotency_conflict: 409,
  first_contact_limit: 429,
  payload_too_large: 413,
  unsupported_media_type: 415,
  quota_exceeded: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  database_unavailable: 503,
}

export const ErrorIssue = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. `body.name`.'),
  message: z.string(),
})

export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string(),
      requestId: z.string(),
      issues: z.array(ErrorIssue).optional().describe('Present on validation errors.'),
    }),
  })
  .meta({ id: 'Error' })
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>
