// Which lines of the database's connection turns a piece of test code asked for: the connection
// gate (transactions), and on Postgres the pool of single statements (key and route lookups). The
// workers' own polls go on meanwhile, so callers filter by the keys they care about (a tenant's id,
// `auth:<prefix>` for a key lookup).
import type { Database } from '../../src/db/client.js'

export async function turnsAsked(database: Database, f: () => Promise<unknown>): Promise<string[]> {
  const gate = database.gate
  const single = database.single
  const acquire = gate.acquire.bind(gate)
  const run = single?.turns.run.bind(single.turns)
  const asked: string[] = []
  gate.acquire = (key, deadline) => (asked.push(key), acquire(key, deadline))
  if (single && run) single.turns.run = (key, task) => (asked.push(key), run(key, task))
  try {
    await f()
  } finally {
    gate.acquire = acquire
    if (single && run) single.turns.run = run
  }
  return asked
}
