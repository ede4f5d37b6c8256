// The one error a service throws: a code from the contract's closed set and a message for people.
// Doors translate it: HTTP answers the code's status with the error envelope (http/errors.ts); the
// SMTP door answers its own reply codes. Services know nothing of either.
import { ERROR_STATUS, type ErrorCode } from '@mailroom/contract'

export interface Issue {
  path: string
  message: string
}

export class ServiceError extends Error {
  /** The HTTP status the code is answered with (ERROR_STATUS), for the doors that need one. */
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: Issue[],
    /** Advice for the caller, as headers (Retry-After ...). */
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.status = ERROR_STATUS[code]
  }
}

/** The one answer for "missing" and "someone else's": same code, same message. */
export const notFound = (what: string) => new ServiceError('not_found', `${what} not found`)
