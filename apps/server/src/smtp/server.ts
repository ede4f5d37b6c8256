// The SMTP door. Until inbound mail lands it only checks recipients against the routing table
// and refuses everything with a clear reply.
import { SMTPServer } from 'smtp-server'
import type { Deps } from '../http/context.js'

export function createSmtpServer(deps: Deps): SMTPServer {
  return new SMTPServer({
    name: deps.config.domain,
    banner: 'Mailroom',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      const err = new Error('5.3.2 this Mailroom does not accept mail yet') as Error & { responseCode: number }
      err.responseCode = 550
      callback(err)
    },
  })
}
