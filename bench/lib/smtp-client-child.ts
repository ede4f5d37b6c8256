// The SMTP client of bench/ingest.ts, in a process of its own, as a sender is in a deployment: its
// sockets, its JavaScript and its garbage are not in the measured server's process or heap. It
// builds the same messages as the bench (ingestSets) once, then sends a set to a port
// when told, over the bench's one client (nodemailer, pooled), and answers with the time from the
// first MAIL to the last 250.
import { performance } from 'node:perf_hooks'
import { ingestSets, sendRaw, smtpClient, type BenchMessage } from './mail.js'

export interface ClientSetup {
  type: 'setup'
  n: number
  warmup: number
  connections: number
}

export interface ClientSend {
  type: 'send'
  id: number
  port: number
  set: 'warm' | 'measured'
  /** Message i goes to addresses[(offset + i) % addresses.length]. */
  addresses: string[]
  offset: number
}

export type ClientReply = { type: 'ready' } | { type: 'sent'; id: number; ms: number } | { type: 'failed'; id: number; message: string }

let sets: Record<ClientSend['set'], BenchMessage[]> | null = null
let connections = 1
const reply = (m: ClientReply) => process.send!(m)

process.on('message', (m: ClientSetup | ClientSend) => {
  if (m.type === 'setup') {
    connections = m.connections
    void ingestSets(m.n, m.warmup).then((built) => {
      sets = built
      reply({ type: 'ready' })
    })
    return
  }
  const msgs = sets?.[m.set]
  if (!msgs) return reply({ type: 'failed', id: m.id, message: 'send before setup' })
  const client = smtpClient(m.port, connections)
  const t0 = performance.now()
  Promise.all(msgs.map((msg, i) => sendRaw(client, msg.raw, m.addresses[(m.offset + i) % m.addresses.length]!)))
    .then(
      () => reply({ type: 'sent', id: m.id, ms: performance.now() - t0 }),
      (err: Error) => reply({ type: 'failed', id: m.id, message: err.message }),
    )
    .finally(() => client.close())
})
// The bench going away takes the client with it.
process.on('disconnect', () => process.exit(0))
