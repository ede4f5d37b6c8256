// @mailroom/testkit: the fixtures every suite of this repository shares (the server's, the SDK's,
// the AI tools', the console's and the examples'): a real Mailroom over a database of its own
// (`startTestServer`), tenants and inboxes made as the operator would (`makeTenant`, `makeChild`,
// `makeInbox`), outside mail over real SMTP (`sendMail`, `deliver`, `settled`), Chromium.
export * from './server.js'
export * from './mail.js'
export * from './db.js'
export { chromiumMissing } from './chromium.js'

/**
 * Polls `check` until it gives something truthy, and resolves with it; a rejection counts as "not
 * yet". After `timeoutMs` (default 20 s) it throws, naming `what`. For a condition another process,
 * a notification or a background job makes true: tests wait on conditions, never on the clock.
 */
export async function waitUntil<T>(
  what: string,
  check: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  opts: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const end = Date.now() + (opts.timeoutMs ?? 20_000)
  for (;;) {
    const v = await Promise.resolve()
      .then(check)
      .catch(() => null)
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50))
  }
}

/** A promise started now and awaited later: if the test fails first, its rejection is not "unhandled". */
export function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {})
  return promise
}
