// What one SMTP client may take of the door, so that no sender (nor one recipient tenant's mail)
// can crowd out the others:
// - connections per client address are capped, but an idle connection (no mail transaction under
//   way) gives way to a new one: a pile of idle connections cannot lock an address out (large
//   senders share their outbound addresses between all their customers);
// - one recipient tenant's mail may use at most half of an address's connections at once, so the
//   rest stays open for everyone else's mail from that address;
// - a connection whose client, having its turn (from our reply on), completes no command for
//   `idleSeconds` (or, inside DATA, sends less than 1 KiB in that time: a one-byte-a-second drip)
//   is closed; the clock stops while we handle a command. So is any connection after
//   `sessionSeconds`, after `maxCommands` commands, or after `maxErrors` refused commands.
// smtp-server has no hooks for commands or replies, so the guard wraps two methods of each of its
// connection objects (`_onCommand`, `send`); the tests exercise every one of these paths.
import { monotonicMs } from '../lib/clock.js'
import type { SMTPServer, SMTPServerSession } from 'smtp-server'

export interface GuardOptions {
  maxPerIp: number
  idleSeconds: number
  sessionSeconds: number
  maxCommands: number
  maxErrors: number
  /** Every reply code sent (metrics). */
  onReply?: (code: number) => void
  /** A connection closed by the guard, and why (metrics, logs). */
  onDrop?: (reason: DropReason, ip: string) => void
}

export type DropReason = 'idle' | 'session_time' | 'too_many_commands' | 'too_many_errors' | 'evicted_idle'

/** The parts of smtp-server's connection object the guard uses. */
interface Connection {
  session: SMTPServerSession
  send(code: number, data?: string | string[], context?: string): void
  close(): void
  _onCommand(command: Buffer, callback?: () => void): void
}

interface State {
  conn: Connection
  ip: string
  /** Recipient tenants of the mail transaction under way; empty when there is none. */
  tenants: Set<string>
  inTransaction: boolean
  lastActivity: number
  commands: number
  errors: number
  dataBytes: number
  idleTimer: NodeJS.Timeout | null
  sessionTimer: NodeJS.Timeout | null
  closed: boolean
}

const DRIP_BYTES = 1024

export class ConnectionGuard {
  private readonly byIp = new Map<string, Set<State>>()
  private readonly bySession = new WeakMap<SMTPServerSession, State>()

  constructor(private readonly o: GuardOptions) {}

  /** Connections from one address a single recipient tenant's mail may hold at once. */
  get tenantShare(): number {
    return Math.max(1, Math.ceil(this.o.maxPerIp / 2))
  }

  /** Open connections (diagnosis, tests). */
  connectionsFrom(ip: string): number {
    return this.byIp.get(ip)?.size ?? 0
  }

  /**
   * A new connection (from onConnect): wraps it, and returns the refusal when its address is at
   * its cap with no idle connection to give way (null: admitted).
   */
  admit(server: SMTPServer, session: SMTPServerSession): string | null {
    const conn = findConnection(server, session)
    const ip = session.remoteAddress
    const set = this.byIp.get(ip) ?? new Set<State>()
    if (set.size >= this.o.maxPerIp) {
      let idlest: State | null = null
      for (const s of set) if (!s.inTransaction && (!idlest || s.lastActivity < idlest.lastActivity)) idlest = s
      if (!idlest) return '4.7.0 Too many connections from your address, try again later'
      this.drop(idlest, 'evicted_idle', '4.7.0 Too many connections from your address: closing this idle one')
    }
    if (!conn) return null
    const state: State = {
      conn,
      ip,
      tenants: new Set(),
      inTransaction: false,
      lastActivity: monotonicMs(),
      commands: 0,
      errors: 0,
      dataBytes: 0,
      idleTimer: null,
      sessionTimer: null,
      closed: false,
    }
    set.add(state)
    this.byIp.set(ip, set)
    this.bySession.set(session, state)
    this.wrap(state)
    this.touch(state)
    state.sessionTimer = setTimeout(() => this.drop(state, 'session_time', '4.4.2 Session time limit reached, closing connection'), this.o.sessionSeconds * 1000)
    state.sessionTimer.unref?.()
    return null
  }

  private wrap(state: State): void {
    const { conn } = state
    const send = conn.send.bind(conn)
    conn.send = (code, data, context) => {
      this.o.onReply?.(code)
      send(code, data, context)
      // The idle clock runs while the client has the turn: from our reply to its next command.
      if (!state.closed) this.touch(state)
      if (code >= 400 && code !== 421 && !state.closed && ++state.errors >= this.o.maxErrors) {
        this.drop(state, 'too_many_errors', '4.7.0 Too many errors, closing connection')
      }
    }
    const onCommand = conn._onCommand.bind(conn)
    conn._onCommand = (command, callback) => {
      if (state.closed) return callback?.()
      // Our turn: no idle clock while the command is handled (a slow database is not the client's fault).
      this.pause(state)
      if (++state.commands > this.o.maxCommands) {
        this.drop(state, 'too_many_commands', '4.7.0 Too many commands in one session, closing connection')
        return callback?.()
      }
      const verb = command.toString('latin1', 0, 8).split(' ')[0]!.toUpperCase()
      if (verb === 'RSET' || verb === 'MAIL' || verb === 'HELO' || verb === 'EHLO') this.endTransaction(state)
      onCommand(command, callback)
    }
  }

  /** Forgets a closed connection (onClose). */
  closed(session: SMTPServerSession): void {
    const state = this.bySession.get(session)
    if (!state) return
    state.closed = true
    if (state.idleTimer) clearTimeout(state.idleTimer)
    if (state.sessionTimer) clearTimeout(state.sessionTimer)
    const set = this.byIp.get(state.ip)
    set?.delete(state)
    if (set?.size === 0) this.byIp.delete(state.ip)
  }

  /** MAIL FROM accepted: a mail transaction is under way. */
  transactionStarted(session: SMTPServerSession): void {
    const state = this.bySession.get(session)
    if (!state) return
    state.inTransaction = true
    state.tenants.clear()
  }

  /** The transaction ended (DATA answered, RSET). */
  transactionEnded(session: SMTPServerSession): void {
    const state = this.bySession.get(session)
    if (state) this.endTransaction(state)
  }

  private endTransaction(state: State): void {
    state.inTransaction = false
    state.tenants.clear()
    state.dataBytes = 0
  }

  /**
   * A recipient of `tenantId` on this connection: null when it may join the transaction, or the
   * refusal when that tenant's mail already holds its share of the address's connections.
   */
  recipient(session: SMTPServerSession, tenantId: string): string | null {
    const state = this.bySession.get(session)
    if (!state || state.tenants.has(tenantId)) {
      state?.tenants.add(tenantId)
      return null
    }
    let holding = 0
    for (const s of this.byIp.get(state.ip) ?? []) if (s !== state && s.tenants.has(tenantId)) holding++
    if (holding >= this.tenantShare) return '4.7.0 Too many concurrent deliveries to this recipient from your address, try again later'
    state.tenants.add(tenantId)
    return null
  }

  /** The whole message is in: our turn until we answer it. */
  dataEnded(session: SMTPServerSession): void {
    const state = this.bySession.get(session)
    if (state) this.pause(state)
  }

  /** Message data arrived: it counts as activity once 1 KiB has come since the last. */
  data(session: SMTPServerSession, bytes: number): void {
    const state = this.bySession.get(session)
    if (!state) return
    state.dataBytes += bytes
    if (state.dataBytes >= DRIP_BYTES) {
      state.dataBytes = 0
      this.touch(state)
    }
  }

  private pause(state: State): void {
    state.lastActivity = monotonicMs()
    if (state.idleTimer) clearTimeout(state.idleTimer)
    state.idleTimer = null
  }

  private touch(state: State): void {
    state.lastActivity = monotonicMs()
    if (state.idleTimer) clearTimeout(state.idleTimer)
    state.idleTimer = setTimeout(() => this.drop(state, 'idle', '4.4.2 Idle timeout, closing connection'), this.o.idleSeconds * 1000)
    state.idleTimer.unref?.()
  }

  private drop(state: State, reason: DropReason, message: string): void {
    if (state.closed) return
    state.closed = true
    if (state.idleTimer) clearTimeout(state.idleTimer)
    if (state.sessionTimer) clearTimeout(state.sessionTimer)
    const set = this.byIp.get(state.ip)
    set?.delete(state)
    if (set?.size === 0) this.byIp.delete(state.ip)
    this.o.onDrop?.(reason, state.ip)
    try {
      state.conn.send(421, message)
    } finally {
      state.conn.close()
    }
  }
}

function findConnection(server: SMTPServer, session: SMTPServerSession): Connection | null {
  const connections = (server as unknown as { connections?: Set<Connection> }).connections
  for (const c of connections ?? []) if (c.session === session) return c
  return null
}
