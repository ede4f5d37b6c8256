// The SMTP door: recipients checked against the routing table, per-tenant size and rate limits,
// a cap on connections per client address, STARTTLS when a certificate is configured, and `250`
// only after the raw message is committed. Everything else happens in the ingest path.
import { readFileSync } from 'node:fs'
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server'
import type { Deps } from '../deps.js'
import { withTenant } from '../db/scope.js'
import { consume } from '../limits/service.js'
import { QuotaError, type Recipient } from '../messages/ingest/index.js'
import { ConnectionGuard } from './guard.js'
import { isConflict, isConnectionError, isMissingReference } from '../db/health.js'
import { TenantKeyMissingError } from '../crypto/service.js'
import { senderRulesAfterData, verdictOf } from '../rules/service.js'
import { isVerifiedDomain } from '../domains/verified.js'

type SmtpError = Error & { responseCode: number }
const smtpError = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code })

interface SessionState {
  recipients: (Recipient & { maxBytes: number })[]
}

export function createSmtpServer(deps: Deps): SMTPServer {
  const { config, database, log, clock, metrics } = deps
  const state = new WeakMap<SMTPServerSession, SessionState>()
  const guard = new ConnectionGuard({
    maxPerIp: config.smtpMaxConnectionsPerIp,
    idleSeconds: config.smtpIdleSeconds,
    sessionSeconds: config.smtpSessionSeconds,
    maxCommands: config.smtpMaxCommands,
    maxErrors: config.smtpMaxErrors,
    onReply: (code) => metrics.smtpReplies.inc({ code }),
    onDrop: (reason, ip) => {
      metrics.smtpDropped.inc({ reason })
      log.info('smtp connection closed by the server', { reason, ip })
    },
  })
  // The recipient's route, its limits and sender rules (kept until they change; the policies are
  // shared with the HTTP door).
  const { routes, policies } = deps

  const ourDomain = (domain: string) => domain === config.domain

  const tls = config.smtpTls ? { key: readFileSync(config.smtpTls.keyPath), cert: readFileSync(config.smtpTls.certPath) } : null

  const server = new SMTPServer({
    name: config.domain,
    banner: 'Mailroom ESMTP',
    size: config.maxMessageBytes,
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    logger: false,
    // The guard closes connections that complete no command in time; the socket timeout is the backstop.
    socketTimeout: config.smtpIdleSeconds * 1000,
    closeTimeout: 5_000,

    onConnect(session, callback) {
      const refusal = guard.admit(server, session)
      if (refusal) return callback(smtpError(421, refusal))
      callback()
    },

    onClose(session) {
      guard.closed(session)
    },

    onMailFrom(_address, session, callback) {
      state.set(session, { recipients: [] })
      guard.transactionStarted(session)
      callback()
    },

    onRcptTo(address: SMTPServerAddress, session, callback) {
      const rcpt = address.address.toLowerCase()
      const domain = rcpt.slice(rcpt.lastIndexOf('@') + 1)
      const accepted = state.get(session)?.recipients ?? []
      if (accepted.length >= config.smtpMaxRecipients && !accepted.some((r) => r.address === rcpt)) {
        return callback(smtpError(452, `4.5.3 Too many recipients (at most ${config.smtpMaxRecipients} per message)`))
      }
      void (async () => {
        const route = await routes.route(rcpt)
        if (!route) {
          if (!ourDomain(domain) && !(await isVerifiedDomain(database, domain))) {
            throw smtpError(550, '5.7.1 Relaying denied: this server only accepts mail for its own domains')
          }
          throw smtpError(550, `5.1.1 <${rcpt}>: no such mailbox`)
        }
        if (route.tenant_suspended) throw smtpError(451, '4.7.1 Mailbox temporarily unavailable, try again later')
        const crowded = guard.recipient(session, route.tenant_id)
        if (crowded) throw smtpError(451, crowded)
        const { limits, inbox, rules } = await policies.get(route.tenant_id, route.inbox_id)
        const maxBytes = Math.min(config.maxMessageBytes, limits.maxMessageBytes ?? Infinity)
        const args = session.envelope.mailFrom ? (session.envelope.mailFrom.args as Record<string, string> | false) : false
        const declared = args ? Number(args.SIZE ?? 0) : 0
        if (declared > maxBytes) throw smtpError(552, `5.3.4 Message too big for <${rcpt}> (limit ${maxBytes} bytes)`)
        if (limits.receivePerMinute != null || inbox.receivePerMinute != null) {
          const now = clock.now()
          const ok = await withTenant(database, { tenantId: route.tenant_id }, async (tx) => {
            if (inbox.receivePerMinute != null) {
              const r = await consume(tx, route.tenant_id, `recv:inbox:${route.inbox_id}`, inbox.receivePerMinute, 60, now)
              if (!r.ok) return false
            }
            if (limits.receivePerMinute != null) {
              const r = await consume(tx, route.tenant_id, 'recv:tenant', limits.receivePerMinute, 60, now)
              if (!r.ok) throw new RollbackSignal()
            }
            return true
          }).catch((err) => {
            if (err instanceof RollbackSignal) return false
            throw err
          })
          if (!ok) throw smtpError(451, '4.7.1 Rate limit reached for this recipient, try again later')
        }
        // The tenant's (and inbox's) allow/block lists on the envelope sender.
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : null
        const verdict = verdictOf(rules, mailFrom)
        if (verdict === 'reject') throw smtpError(550, `5.7.1 <${rcpt}> does not accept mail from this sender`)
        const s = state.get(session) ?? { recipients: [] }
        s.recipients.push({ tenantId: route.tenant_id, inboxId: route.inbox_id, address: rcpt, maxBytes, ...senderRulesAfterData(rules, verdict) })
        state.set(session, s)
      })().then(
        () => callback(),
        (err: unknown) => {
          if ((err as SmtpError).responseCode) return callback(err as SmtpError)
          if (isConnectionError(err)) log.warn('smtp rcpt deferred: the database is unavailable', { err: String(err) })
          else log.error('smtp rcpt failed', { err: String(err) })
          callback(smtpError(451, '4.3.0 Temporary server error, try again later'))
        },
      )
    },

    onData(stream, session, rawCallback) {
      const callback: typeof rawCallback = (err, message) => {
        guard.transactionEnded(session)
        rawCallback(err, message)
      }
      const chunks: Buffer[] = []
      let size = 0
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length
        guard.data(session, chunk.length)
        if (size <= config.maxMessageBytes) chunks.push(chunk)
      })
      stream.on('error', (err) => callback(err))
      stream.on('end', () => {
        guard.dataEnded(session)
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded || size > config.maxMessageBytes) {
          return callback(smtpError(552, `5.3.4 Message too big (limit ${config.maxMessageBytes} bytes)`))
        }
        const recipients = state.get(session)?.recipients ?? []
        const tooBig = recipients.find((r) => size > r.maxBytes)
        if (tooBig) return callback(smtpError(552, `5.3.4 Message too big for <${tooBig.address}> (limit ${tooBig.maxBytes} bytes)`))
        if (recipients.length === 0) return callback(smtpError(554, '5.5.1 No valid recipients'))
        const raw = Buffer.concat(chunks, size)
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : null
        deps.ingest
          .accept(recipients, raw, { mailFrom, remoteIp: session.remoteAddress, helo: session.hostNameAppearsAs })
          .then(
            (stored) => callback(null, `2.0.0 Ok: queued as ${stored.map((s) => s.rawId.slice(0, 8)).join(',')}`),
            (err: unknown) => {
              if (err instanceof QuotaError) {
                return callback(
                  err.kind === 'storage'
                    ? smtpError(552, '5.2.2 Mailbox full: the recipient is over its storage quota')
                    : smtpError(452, '4.2.2 The recipient has reached its daily message quota, try again later'),
                )
              }
              if (isConnectionError(err)) log.warn('smtp accept deferred: the database is unavailable', { err: String(err) })
              // The sender tries again later, and is then refused at RCPT (the address is gone).
              else if (isMissingReference(err) || err instanceof TenantKeyMissingError) log.warn('smtp accept deferred: a recipient tenant or inbox was deleted meanwhile', { err: String(err) })
              else if (isConflict(err)) log.warn('smtp accept deferred: rolled back by a conflict with another transaction', { err: String(err) })
              else log.error('smtp accept failed', { err: String((err as Error).stack ?? err) })
              callback(smtpError(451, '4.3.0 Temporary failure storing the message, try again later'))
            },
          )
      })
    },
  })
  return server
}

class RollbackSignal extends Error {}
