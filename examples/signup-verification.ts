// An agent signs up for a web app with an address of its own, waits for the verification email,
// extracts the one-time code and completes the sign-up.
//
//   MAILROOM_API_KEY=mr_tk_... MAILROOM_BASE_URL=http://127.0.0.1:3000 npx tsx examples/signup-verification.ts
//
// With no SIGNUP_URL it starts a stand-in app (support/fake-signup-app.ts) that mails the code to
// Mailroom's SMTP port (MAILROOM_HOST / MAILROOM_SMTP_PORT, default 127.0.0.1:2525), as a real
// service's mail server would. Without MAILROOM_BASE_URL the API is at MAILROOM_HOST:MAILROOM_HTTP_PORT.
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Mailroom } from '@mailroom/sdk'
import { mailroomFromEnv } from './support/env.js'
import { startFakeSignupApp } from './support/fake-signup-app.js'

export interface SignupOptions {
  /** A client with a tenant key (default: from MAILROOM_API_KEY / MAILROOM_BASE_URL). */
  mailroom?: Mailroom
  /** The app to sign up at (POST /signup, POST /verify). Default: SIGNUP_URL, else a local stand-in. */
  signupUrl?: string
  /** Mailroom's SMTP door, for the stand-in app (default MAILROOM_HOST and MAILROOM_SMTP_PORT, then 127.0.0.1:2525). */
  smtp?: { host?: string; port?: number }
  /** How long to wait for the email (default 30 s). */
  timeoutMs?: number
}

export async function main(options: SignupOptions = {}) {
  const mailroom = options.mailroom ?? mailroomFromEnv()
  const app = (options.signupUrl ?? process.env.SIGNUP_URL)
    ? undefined
    : await startFakeSignupApp(options.smtp ? { smtp: options.smtp } : {})
  const signupUrl = options.signupUrl ?? process.env.SIGNUP_URL ?? app!.url
  try {
    // 1. A fresh address for this sign-up.
    const inbox = await mailroom.createInbox({ name: `signup-${randomBytes(4).toString('hex')}`, displayName: 'Signup agent' })

    // 2. A cursor for "now", taken before the sign-up: however fast the email comes, the wait below
    //    finds it (a wait started after the trigger could begin after the mail arrived).
    const since = await inbox.cursor()
    const res = await fetch(`${signupUrl}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: inbox.address }),
    })
    if (!res.ok) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`)
    const msg = await inbox.waitForMessage({ since, subject: /verification code/i, timeout: options.timeoutMs ?? 30_000 })

    // 3. The code, from the text part (or the subject).
    const code = /\b(\d{6})\b/.exec(msg.text ?? '')?.[1] ?? /\b(\d{6})\b/.exec(msg.subject ?? '')?.[1]
    if (!code) throw new Error(`no code in the email "${msg.subject}"`)

    // 4. Finish the sign-up with it.
    const verify = await fetch(`${signupUrl}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: inbox.address, code }),
    })
    return { address: inbox.address, inboxId: inbox.id, from: msg.from?.address ?? null, code, verified: verify.ok }
  } finally {
    await app?.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (result) => console.log(result),
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
