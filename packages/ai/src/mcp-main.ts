// The `mailroom-mcp` command: an MCP server over stdio for the key in MAILROOM_API_KEY
// (MAILROOM_BASE_URL: the server; MAILROOM_INBOX_ID: with a tenant key, stay on that inbox;
// MAILROOM_WITHHOLD_HIGH_RISK=1: never show the model mail rated high risk, only its verdict).
// This file is the one place of the package that reads the environment. stdout carries the
// protocol: everything else goes to stderr.
import { Mailroom, MailroomError } from '@mailroom/sdk'
import { serveStdio } from './mcp.js'
import { createMailroomTools } from './tools.js'

const log = (line: string) => process.stderr.write(`mailroom-mcp: ${line}\n`)

async function main(): Promise<void> {
  const apiKey = process.env.MAILROOM_API_KEY?.trim()
  const mailroom = new Mailroom({ apiKey, baseUrl: process.env.MAILROOM_BASE_URL })
  const inboxId = process.env.MAILROOM_INBOX_ID?.trim() || undefined
  // The key says what it is (mr_ik_: one inbox; mr_tk_ or the operator key: a tenant), so the
  // server starts even while Mailroom is unreachable; the tools then answer `unavailable`.
  const scope = apiKey?.startsWith('mr_ik_') ? 'inbox' : 'tenant'
  const withholdHighRisk = ['1', 'true', 'yes'].includes(process.env.MAILROOM_WITHHOLD_HIGH_RISK?.trim().toLowerCase() ?? '')
  const tools = createMailroomTools({ mailroom, scope, withholdHighRisk, ...(inboxId ? { inboxId } : {}) })
  await serveStdio(tools)
  log(`serving ${tools.length} tools (${tools.map((t) => t.name).join(', ')}) for ${mailroom.baseUrl}`)
  // An early word on a bad key or an unreachable server, for whoever reads the host's logs.
  mailroom.me({ maxRetries: 0 }).then(
    (me) => log(`key ok: ${me.scope} key${me.inbox ? ` of ${me.inbox.address}` : ` of tenant ${me.tenant.id}`}`),
    (err: unknown) => log(`warning: ${err instanceof Error ? err.message : String(err)}`),
  )
}

main().catch((err: unknown) => {
  log(`cannot start: ${err instanceof MailroomError ? err.message : String(err)}`)
  process.exit(1)
})
