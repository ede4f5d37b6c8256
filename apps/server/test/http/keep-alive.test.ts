// Idle keep-alive connections: the server keeps them open longer than clients do (Node's fetch
// keeps one 4 s), so a client never sends its next request on a connection the server is closing
// at that moment (ECONNRESET on a loaded machine with Node's own 5 s).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Socket } from 'node:net'
import { startTestServer, type TestServer } from '@mailroom/testkit/server'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

/** Sends one GET /healthz on the socket and resolves with the status line of its answer. */
function get(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1')
      const head = got.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(got)
      if (head >= 0 && length && got.length >= head + 4 + Number(length[1])) {
        socket.off('data', onData)
        socket.off('close', onClose)
        resolve(got.slice(0, got.indexOf('\r\n')))
      }
    }
    const onClose = () => reject(new Error(`closed by the server after: ${JSON.stringify(got)}`))
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`)
  })
}

describe('keep-alive', () => {
  it('an idle connection is still open after 6 s (longer than clients keep theirs)', async () => {
    const url = new URL(server.baseUrl)
    const socket = connect(Number(url.port), url.hostname)
    await new Promise((r) => socket.once('connect', r))
    try {
      expect(await get(socket)).toMatch(/^HTTP\/1\.1 200/)
      await new Promise((r) => setTimeout(r, 6_000))
      expect(socket.destroyed).toBe(false)
      expect(await get(socket)).toMatch(/^HTTP\/1\.1 200/)
    } finally {
      socket.destroy()
    }
  }, 20_000)
})
