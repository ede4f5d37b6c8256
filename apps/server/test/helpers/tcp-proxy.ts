// A TCP proxy the test owns, between a server and its database: `cut()` drops every connection and
// refuses new ones (the listening socket is closed: connection refused), `restore()` listens again
// on the same port. How a network partition or a database restart looks from the server's side.
// `hold()` keeps the database's answers back while what clients send goes on (and is kept, for
// `sentWhileHeld()`); `resetOnNextWrite()` resets the next connection a client writes on, as a
// connection whose backend went away unnoticed.
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  /** Connections made through the proxy so far. */
  readonly connections: number
  hold(): void
  /** What clients sent since `hold()`, as text. */
  sentWhileHeld(): string
  /** What clients sent since the proxy started, as text (only with `{ record: true }`). */
  sent(): string
  /** Passes on the answers held back and stops holding. */
  release(): void
  resetOnNextWrite(): void
  cut(): Promise<void>
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }, opts: { record?: boolean } = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let connections = 0
  let holding = false
  let resetNext = false
  const sentHeld: Buffer[] = []
  const sentAll: Buffer[] = []
  const held: { client: Socket; data: Buffer }[] = []
  const make = (): Server =>
    createServer((client) => {
      connections++
      const upstream = connect(target.port, target.host)
      sockets.add(client)
      sockets.add(upstream)
      const done = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on('error', done).on('close', done)
      upstream.on('error', done).on('close', done)
      client.on('data', (d: Buffer) => {
        if (resetNext) {
          resetNext = false
          return void client.resetAndDestroy()
        }
        if (holding) sentHeld.push(d)
        if (opts.record) sentAll.push(d)
        upstream.write(d)
      })
      upstream.on('data', (d: Buffer) => (holding ? held.push({ client, data: d }) : client.write(d)))
    })
  let server = make()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  let listening = true
  return {
    port,
    get connections() {
      return connections
    },
    hold() {
      holding = true
      sentHeld.length = 0
    },
    sentWhileHeld: () => Buffer.concat(sentHeld).toString('latin1'),
    sent: () => Buffer.concat(sentAll).toString('latin1'),
    release() {
      holding = false
      for (const h of held.splice(0)) h.client.write(h.data)
    },
    resetOnNextWrite() {
      resetNext = true
    },
    async cut() {
      if (!listening) return
      listening = false
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      sockets.clear()
      await closed
    },
    async restore() {
      if (listening) return
      server = make()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => resolve())
      })
      listening = true
    },
    async close() {
      for (const s of sockets) s.destroy()
      if (listening) await new Promise<void>((r) => server.close(() => r()))
      listening = false
    },
  }
}

/** A proxy in front of the database a URL names, and the same URL through it. */
export async function proxyInFront(databaseUrl: string, opts: { record?: boolean } = {}): Promise<{ proxy: TcpProxy; url: string }> {
  const url = new URL(databaseUrl)
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) }, opts)
  url.hostname = '127.0.0.1'
  url.port = String(proxy.port)
  return { proxy, url: url.toString() }
}
