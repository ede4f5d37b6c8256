// Failures as tool results: a model always gets { error: { code, message, hint } }, never an exception.
import {
  Mailroom,
  MailroomAuthError,
  MailroomError,
  MailroomNotFoundError,
  MailroomRateLimitError,
  MailroomValidationError,
} from '@mailroom/sdk'
import { describe, expect, it } from 'vitest'
import { createMailroomTools, createToolExecutor, errorResult, isToolError } from '../src/index.js'

// Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
const unreachable = new Mailroom({ apiKey: 'mr_ik_unused', baseUrl: 'http://127.0.0.1:9', maxRetries: 0 })
const executor = createToolExecutor(createMailroomTools({ mailroom: unreachable }))

const expectError = (value: unknown, code: string) => {
  expect(isToolError(value)).toBe(true)
  expect(value).toMatchObject({ error: { code, message: expect.any(String), hint: expect.any(String) } })
}

describe('the executor', () => {
  it('an unknown tool names the tools there are', async () => {
    const res = await executor.execute('delete_everything', {})
    expectError(res, 'unknown_tool')
    expect((res as any).error.hint).toContain('list_messages')
  })

  it('arguments that are not JSON, not an object, or do not fit the schema', async () => {
    expectError(await executor.execute('read_message', '{"message_id": '), 'invalid_arguments')
    expectError(await executor.execute('read_message', '[1,2]'), 'invalid_arguments')
    expectError(await executor.execute('read_message', null), 'invalid_arguments')
    const res = (await executor.execute('read_message', { message_id: 42, extra: true })) as any
    expectError(res, 'invalid_arguments')
    expect(res.error.issues.map((i: any) => i.path)).toEqual(expect.arrayContaining(['message_id']))
    expect(res.error.hint).toMatch(/read_message/)
    expectError(await executor.execute('wait_for_email', { timeout_seconds: 100_000 }), 'invalid_arguments')
  })

  it('an unreachable server is "unavailable", and runToolCalls answers every call with a tool message', async () => {
    expectError(await executor.execute('get_inbox', '{}'), 'unavailable')
    const messages = await executor.runToolCalls([
      { id: 'call_1', type: 'function', function: { name: 'list_messages', arguments: '{}' } },
      { id: 'call_2', type: 'function', function: { name: 'nope', arguments: '' } },
    ])
    expect(messages.map((m) => [m.role, m.tool_call_id])).toEqual([
      ['tool', 'call_1'],
      ['tool', 'call_2'],
    ])
    expectError(JSON.parse(messages[0]!.content), 'unavailable')
    expectError(JSON.parse(messages[1]!.content), 'unknown_tool')
  })
})

describe('errorResult', () => {
  const init = { status: 0, code: '', requestId: 'req_1' }

  it('maps each SDK error to a code and a hint a model can act on', () => {
    expect(errorResult(new MailroomNotFoundError('no such message', { ...init, status: 404, code: 'not_found' }))).toMatchObject({
      error: { code: 'not_found', hint: expect.stringMatching(/list_messages/) },
    })
    expect(errorResult(new MailroomNotFoundError('no such inbox', { ...init, status: 404, code: 'not_found' }), { subject: 'inbox' })).toMatchObject({
      error: { code: 'not_found', hint: expect.stringMatching(/inbox id/) },
    })
    expect(errorResult(new MailroomAuthError('bad key', { ...init, status: 401, code: 'unauthorized' }))).toMatchObject({
      error: { code: 'unauthorized', hint: expect.stringMatching(/MAILROOM_API_KEY/) },
    })
    expect(errorResult(new MailroomAuthError('paused', { ...init, status: 403, code: 'sending_paused' }))).toMatchObject({
      error: { code: 'sending_paused', hint: expect.stringMatching(/paused/) },
    })
    expect(errorResult(new MailroomRateLimitError('slow down', { ...init, status: 429, code: 'rate_limited', retryAfter: 12 }))).toMatchObject({
      error: { code: 'rate_limited', retry_after_seconds: 12, hint: expect.stringMatching(/12 seconds/) },
    })
    const issues = [{ path: 'body.to', message: 'not a valid email address' }]
    expect(errorResult(new MailroomValidationError('bad', { ...init, status: 400, code: 'validation_error', issues }))).toMatchObject({
      error: { code: 'validation_error', issues },
    })
    expect(errorResult(new MailroomError('boom', { ...init, status: 500, code: 'internal_error' }))).toMatchObject({
      error: { code: 'internal_error', hint: expect.stringMatching(/Try again once/) },
    })
  })

  it('does not leak an unexpected error\'s message to the model', () => {
    const res = errorResult(new Error('password=hunter2 at /srv/app.js:12'))
    expect(res.error.code).toBe('internal_error')
    expect(JSON.stringify(res)).not.toContain('hunter2')
  })
})
