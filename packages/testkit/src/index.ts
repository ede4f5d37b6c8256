// @mailroom/testkit: the fixtures every suite of this repository shares (the server's, the SDK's,
// the AI tools', the console's and the examples'): a real Mailroom over a database of its own
// (`startTestServer`), tenants and inboxes made as the operator would (`makeTenant`, `makeChild`,
// `makeInbox`), outside mail over real SMTP (`sendMail`, `deliver`, `settled`), Chromium.
export * from './server.js'
export * from './mail.js'
export * from './db.js'
export { chromiumMissing } from './chromium.js'

/** A promise started now and awaited later: if the test fails first, its rejection is not "unhandled". */
export function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {})
  return promise
}
