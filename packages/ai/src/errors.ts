// Failures as tool results: a model reads `{ error: { code, message, hint } }` and can act on it
// (fix its arguments, pick another id, stop and tell the user); nothing is thrown at the caller.
import {
  MailroomAbortError,
  MailroomAuthError,
  MailroomConnectionError,
  MailroomError,
  MailroomNotFoundError,
  MailroomRateLimitError,
  MailroomTimeoutError,
  MailroomValidationError,
} from '@mailroom/sdk'
import type { z } from 'zod'

/**
 * What a tool returns when it could not do its job.
 *
 * @example
 * const result = await executor.execute('read_message', { message_id: 'msg_nope' })
 * if (isToolError(result)) console.log(result.error.code, result.error.hint) // not_found ...
 */
export interface ToolError {
  error: {
    /** A stable code: the API's (`not_found`, `address_taken`, `rate_limited` ...) or `invalid_arguments`, `unknown_tool`, `timeout`, `unavailable`, `internal_error`. */
    code: string
    /** What went wrong, in a sentence. */
    message: string
    /** What to do about it. */
    hint: string
    /** Offending fields of a refused request. */
    issues?: { path: string; message: string }[] | undefined
    /** Seconds to wait before trying again (rate limits). */
    retry_after_seconds?: number | undefined
  }
}

/**
 * Whether a tool result is an error.
 *
 * @example
 * if (isToolError(result)) console.error(result.error.message)
 */
export function isToolError(value: unknown): value is ToolError {
  return (
    typeof value === 'object' &&
    value !== null &&
    'error' in value &&
    typeof (value as ToolError).error === 'object' &&
    typeof (value as ToolError).error?.code === 'string'
  )
}

/**
 * A tool error with the given code, message and hint.
 *
 * @example
 * return toolError('invalid_arguments', 'to is empty', 'Give at least one recipient address.')
 */
export function toolError(code: string, message: string, hint: string, extra: Partial<ToolError['error']> = {}): ToolError {
  return { error: { code, message, hint, ...extra } }
}

/** Arguments that do not fit a tool's schema. */
export function argumentsError(toolName: string, error: z.ZodError): ToolError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.') || '(arguments)', message: i.message }))
  return toolError(
    'invalid_arguments',
    `The arguments of ${toolName} are invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    `Call ${toolName} again with arguments that match its parameters schema.`,
    { issues },
  )
}

const NOT_FOUND_HINT: Record<string, string> = {
  message: 'No such message in this inbox. Use list_messages to find the id of the message (ids look like msg_...).',
  inbox: 'No such inbox for this key. Use get_inbox or create_inbox to get a valid inbox id (ids look like inb_...).',
}

/**
 * Any failure of a tool's work as a `ToolError`, with a hint written for a model.
 *
 * @example
 * try { ... } catch (err) { return errorResult(err, { subject: 'message' }) }
 */
export function errorResult(err: unknown, context: { subject?: 'message' | 'inbox' } = {}): ToolError {
  if (err instanceof MailroomNotFoundError) {
    return toolError('not_found', err.message, NOT_FOUND_HINT[context.subject ?? 'message'] ?? NOT_FOUND_HINT.message!)
  }
  if (err instanceof MailroomValidationError) {
    return toolError(err.code, err.message, 'The request was refused as invalid: fix the fields listed in issues and try again.', {
      issues: err.issues,
    })
  }
  if (err instanceof MailroomAuthError) {
    if (err.status === 401) {
      return toolError(
        'unauthorized',
        err.message,
        'The Mailroom API key is invalid, revoked or expired. Retrying will not help: tell the user to check MAILROOM_API_KEY.',
      )
    }
    return toolError(
      err.code,
      err.message,
      err.code === 'sending_paused'
        ? 'Sending is paused for this account. Do not retry; tell the user.'
        : 'This key is not allowed to do that (an inbox key can only use its own inbox and cannot create inboxes). Do not retry; tell the user.',
    )
  }
  if (err instanceof MailroomError && err.code === 'first_contact_limit') {
    return toolError(
      'first_contact_limit',
      err.message,
      'This inbox may write to only so many new people a day, and has. Do not retry it now; you can still write to people already in conversation, or tell the user.',
    )
  }
  if (err instanceof MailroomRateLimitError) {
    return toolError('rate_limited', err.message, `Too many requests. Wait ${err.retryAfter ?? 'a few'} seconds before trying again.`, {
      ...(err.retryAfter !== undefined ? { retry_after_seconds: err.retryAfter } : {}),
    })
  }
  if (err instanceof MailroomTimeoutError) {
    return toolError('timeout', err.message, 'Mailroom did not answer in time. Try again once; if it keeps failing, tell the user.')
  }
  if (err instanceof MailroomAbortError) {
    return toolError('aborted', err.message, 'The call was cancelled. Call the tool again if it is still needed.')
  }
  if (err instanceof MailroomConnectionError) {
    return toolError('unavailable', err.message, 'Mailroom could not be reached. Try again later; if it keeps failing, tell the user.')
  }
  if (err instanceof MailroomError) {
    const hint =
      err.code === 'address_taken'
        ? 'That address is taken. Choose another name, or omit name to get a generated address.'
        : err.code === 'quota_exceeded'
          ? 'A limit of this account was reached (for example its number of inboxes). Tell the user.'
          : (err.status ?? 0) >= 500
            ? 'Mailroom had an internal problem. Try again once; if it keeps failing, tell the user.'
            : 'The request was refused. Read the message, change the arguments if they caused it, or tell the user.'
    return toolError(err.code, err.message, hint)
  }
  if (err instanceof TypeError) {
    // The SDK's own argument checks (an id with a slash, an unsupported regex ...).
    return toolError('invalid_arguments', err.message, 'Fix the arguments and call the tool again.')
  }
  // Anything else is our bug: say so without leaking internals to the model.
  return toolError('internal_error', 'The tool failed unexpectedly.', 'Try again once; if it keeps failing, tell the user.')
}
