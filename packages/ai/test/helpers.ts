// Outside mail for the tests, sent like a real MTA would: a temporary SMTP refusal (4xx) is retried.
import { sendMail, type OutgoingMail } from '../../../apps/server/test/helpers/mail.js'
import type { TestServer } from '../../../apps/server/test/helpers/server.js'

export async function deliver(server: TestServer, mail: OutgoingMail): Promise<Awaited<ReturnType<typeof sendMail>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendMail(server, mail)
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode ?? 0
      if (code < 400 || code >= 500 || attempt >= 5) throw err
      await new Promise((r) => setTimeout(r, 200 * attempt))
    }
  }
}
