// A platform that resells agents: one tenant creates a child tenant for each client company, with an
// agent inbox and an inbox key each. Every agent then sees only its own mail: isolation is enforced by
// Mailroom (Postgres row-level security), not by this script.
//
//   MAILROOM_API_KEY=mr_tk_... MAILROOM_BASE_URL=http://127.0.0.1:3000 npx tsx examples/platform.ts
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Mailroom, MailroomNotFoundError } from '@mailroom/sdk'
import { mailroomFromEnv } from './support/env.js'

export interface PlatformOptions {
  /** The platform's client, with its tenant key (default: from MAILROOM_API_KEY / MAILROOM_BASE_URL). */
  mailroom?: Mailroom
  /** Client companies to onboard (default: 20 made-up names). */
  companies?: string[]
  /** Progress lines (default console.log). */
  log?: (line: string) => void
}

export interface ClientAgent {
  company: string
  tenantId: string
  inboxId: string
  address: string
  /** The agent's inbox key: what you hand to the agent process (shown once, store it). */
  inboxKey: string
}

export interface IsolationCheck {
  company: string
  address: string
  /** Subjects of the mail this agent can list with its own key. */
  subjects: string[]
  /** Whether it could read its neighbour's message or inbox (it must not). */
  seesNeighbour: boolean
}

const defaultCompanies = (n: number) => Array.from({ length: n }, (_, i) => `Client ${String(i + 1).padStart(2, '0')} GmbH`)
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')

/** Step 1: a child tenant per company, each with its agent inbox and inbox key. */
export async function onboard(mailroom: Mailroom, companies: string[], tag: string): Promise<ClientAgent[]> {
  const clients: ClientAgent[] = []
  for (const company of companies) {
    const tenant = await mailroom.tenants.create({ name: company, limits: { maxInboxes: 5 }, metadata: { plan: 'starter' } })
    // Acting inside the child with the platform's own key (or: new Mailroom({ apiKey: tenant.apiKey })).
    const inbox = await mailroom.withTenant(tenant.id).createInbox({
      name: `${slug(company)}-${tag}`,
      displayName: `${company} assistant`,
      createKey: true,
    })
    clients.push({ company, tenantId: tenant.id, inboxId: inbox.id, address: inbox.address, inboxKey: inbox.apiKey! })
  }
  return clients
}

export async function main(options: PlatformOptions = {}) {
  const mailroom = options.mailroom ?? mailroomFromEnv()
  const log = options.log ?? console.log
  const tag = randomBytes(3).toString('hex')
  const clients = await onboard(mailroom, options.companies ?? defaultCompanies(20), tag)
  log(`onboarded ${clients.length} clients`)

  // Step 2: each agent, with nothing but its inbox key, waits for mail; the platform's own ops
  // inbox sends every agent a welcome email (delivered inside Mailroom).
  const agents = await Promise.all(clients.map((c) => new Mailroom({ apiKey: c.inboxKey, baseUrl: mailroom.baseUrl }).inbox()))
  // Each agent takes its cursor before the mail is sent: its wait then finds the welcome however
  // early it arrives (a wait on its own only sees mail that arrives after it began).
  const cursors = await Promise.all(agents.map((inbox) => inbox.cursor()))
  const ops = await mailroom.createInbox({ name: `platform-ops-${tag}`, displayName: 'Platform ops' })
  for (const c of clients) {
    await ops.send({ to: c.address, subject: `Welcome, ${c.company}`, text: `Your assistant's address is ${c.address}.` })
  }
  const welcomes = await Promise.all(agents.map((inbox, i) => inbox.waitForMessage({ since: cursors[i]!, subject: /^Welcome/, timeout: 30_000 })))
  log(`every agent received its welcome email`)

  // Step 3: each agent lists its mail, and tries its neighbour's message and inbox.
  const isolation: IsolationCheck[] = []
  for (const [i, inbox] of agents.entries()) {
    const subjects: string[] = []
    for await (const m of inbox.messages.list()) subjects.push(m.subject ?? '')
    const next = (i + 1) % agents.length
    const neighbourMessage = welcomes[next]!.id
    const neighbourInbox = clients[next]!.inboxId
    let seesNeighbour = false
    for (const attempt of [() => inbox.messages.get(neighbourMessage), () => new Mailroom({ apiKey: clients[i]!.inboxKey, baseUrl: mailroom.baseUrl }).inbox(neighbourInbox)]) {
      try {
        await attempt()
        seesNeighbour = true
      } catch (err) {
        if (!(err instanceof MailroomNotFoundError)) throw err // 404: exactly like a message that does not exist
      }
    }
    isolation.push({ company: clients[i]!.company, address: inbox.address, subjects, seesNeighbour })
  }
  log(`isolation: ${isolation.filter((c) => !c.seesNeighbour && c.subjects.length === 1).length}/${isolation.length} agents see exactly their own mail`)
  return { clients, opsAddress: ops.address, isolation }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    ({ isolation }) => console.table(isolation),
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
