// An agent signs up for a web app with an address of its own, waits for the verification email,
// extracts the one-time code and completes the sign-up.
//
//   MAILROOM_API_KEY=mr_tk_... MAILROOM_BASE_URL=http://127.0.0.1:3000 npx tsx examples/signup-verification.ts
//
// With no SIGNUP_URL it starts a stand-in app (support/fake-signup-app.ts) that mails the code to
// Mailroom's SMTP port (MAILROOM_SMTP_PORT, default 2525), as a real service's mail server would.
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Mailroom } from '@mailroom/sdk'
import { startFakeSignupApp } from './support/fake-signup-app.js'

export interface SignupOptions {
  /** A client with a tenant key (default: from MAILROOM_API_KEY / MAILROOM_BASE_URL). */
  mailroom?: Mailroom
  /** The app to sign up at (POST /signup, POST /verify). Default: SIGNUP_URL, else a local stand-in. */
  signupUrl?: string
  /** Mailroom's SMTP door, for the stand-in app (default MAILROOM_SMTP_PORT, then 2525). */
  smtp?: { host?: string; port?: number }
  /** How long to wait for the email (default 30 s). */
  timeoutMs?: number
}

export async function main(options: SignupOptions = {}) {
  const mailroom = options.mailroom ?? new Mailroom()
  const app = (options.signupUrl ?? process.env.SIGNUP_URL)
    ? undefined
    : await startFakeSignupApp({ smtp: options.smtp ?? { port: Number(process.env.MAILROOM_SMTP_PORT ?? 2525) } })
  const signupUrl = options.signupUrl ?? process.env.SIGNUP_URL ?? app!.url
  try {
    // 1. A fresh address for this sign-up.
    const inbox = await mailroom.createInbox({ name: `signup-${randomBytes(4).toString('hex')}`, displayName: 'Signup agent' })

    // 2. Wait for the email and trigger it together: the wait starts first, and only sees mail that
    //    arrives after it began.
    const [msg] = await Promise.all([
      inbox.waitForMessage({ subject: /verification code/i, timeout: options.timeoutMs ?? 30_000 }),
      fetch(`${signupUrl}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: inbox.address }),
      }).then(async (res) => {
        if (!res.ok) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`)
      }),
    ])

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
