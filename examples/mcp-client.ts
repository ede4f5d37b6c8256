// An MCP client (what Claude Desktop, Cursor or your own host does) talking to Mailroom's MCP
// server over stdio: it spawns `mailroom-mcp` (the bin of the installed @mailroom/ai), lists the
// tools and calls list_messages.
//
//   MAILROOM_API_KEY=mr_ik_... MAILROOM_BASE_URL=http://127.0.0.1:3000 npx tsx examples/mcp-client.ts
//
// In an MCP host's config the same server is (an absolute path: hosts start it from anywhere):
//   { "command": "node", "args": ["/path/to/your-agent/node_modules/@mailroom/ai/bin/mailroom-mcp.mjs"],
//     "env": { "MAILROOM_API_KEY": "mr_ik_...", "MAILROOM_BASE_URL": "http://127.0.0.1:3000" } }
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { localBaseUrl } from './support/env.js'

export interface McpClientOptions {
  /** Default MAILROOM_API_KEY. */
  apiKey?: string
  /** Default MAILROOM_BASE_URL, else MAILROOM_HOST and MAILROOM_HTTP_PORT (127.0.0.1:3000). */
  baseUrl?: string
  /** The server to spawn (default: node running the `mailroom-mcp` bin of the installed @mailroom/ai). */
  server?: { command: string; args: string[] }
}

/** The `mailroom-mcp` bin of the installed @mailroom/ai (compiled JavaScript). */
const serverBin = () => join(dirname(createRequire(import.meta.url).resolve('@mailroom/ai/package.json')), 'bin', 'mailroom-mcp.mjs')

export async function main(options: McpClientOptions = {}) {
  const apiKey = options.apiKey ?? process.env.MAILROOM_API_KEY
  if (!apiKey) throw new Error('set MAILROOM_API_KEY (an inbox key mr_ik_... or a tenant key mr_tk_...)')
  const server = options.server ?? { command: process.execPath, args: [serverBin()] }
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args,
    env: {
      PATH: process.env.PATH ?? '',
      MAILROOM_API_KEY: apiKey,
      MAILROOM_BASE_URL: options.baseUrl ?? localBaseUrl(),
    },
    stderr: 'pipe', // the server logs there; stdout carries the protocol
  })
  let serverLog = ''
  transport.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()))
  const client = new Client({ name: 'mailroom-example-host', version: '1.0.0' })
  try {
    await client.connect(transport)
    const { tools } = await client.listTools()
    const result = await client.callTool({ name: 'list_messages', arguments: { limit: 10 } })
    const body = result.structuredContent as { messages?: { id: string; from: string | null; subject: string | null }[]; error?: unknown }
    if (result.isError) throw new Error(`list_messages failed: ${JSON.stringify(body.error)}`)
    return { tools: tools.map((t) => t.name), messages: body.messages ?? [], serverLog }
  } finally {
    await client.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    ({ tools, messages }) => {
      console.log('tools:', tools.join(', '))
      console.table(messages.map((m) => ({ id: m.id, from: m.from, subject: m.subject })))
    },
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
