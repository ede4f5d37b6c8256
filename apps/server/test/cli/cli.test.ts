// The `mailroom` CLI as users run it: a child process, real database, real ports.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, type TestDb } from '@mailroom/testkit/db'
import { killChild, runCli, startCli, stopChild } from '../helpers/spawn.js'
import { TEST_MASTER_KEY } from '@mailroom/testkit/server'

let db: TestDb
const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mailroom-cli-'))
  dirs.push(d)
  return d
}
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(async () => {
  await db?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** Where the CLI should keep its data: this file's Postgres database, or an embedded store. */
const storeEnv = () => (db.ownerUrl ? { DATABASE_URL: db.ownerUrl, MAILROOM_MASTER_KEY: TEST_MASTER_KEY } : { MAILROOM_DATA_DIR: sharedDir })
let sharedDir: string

describe('mailroom CLI', () => {
  beforeAll(() => {
    sharedDir = tempDir()
  })

  it('tenant create --json, tenant list, key create, tenant delete', async () => {
    const created = await runCli(['tenant', 'create', '--name', 'acme', '--json'], storeEnv())
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const { tenantId, apiKey } = JSON.parse(created.stdout.trim())
    expect(tenantId).toMatch(/^tnt_[0-9a-f]{32}$/)
    expect(apiKey).toMatch(/^mr_tk_/)

    const child = await runCli(['tenant', 'create', '--name', 'acme-client', '--parent', tenantId, '--json'], storeEnv())
    expect(child.code).toBe(0)
    const childId = JSON.parse(child.stdout).tenantId

    const list = await runCli(['tenant', 'list', '--json'], storeEnv())
    expect(list.code).toBe(0)
    const tenants = JSON.parse(list.stdout)
    expect(tenants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: tenantId, name: 'acme', parentId: null }),
        expect.objectContaining({ id: childId, name: 'acme-client', parentId: tenantId }),
      ]),
    )
    const human = await runCli(['tenant', 'list'], storeEnv())
    expect(human.stdout).toContain(`${tenantId}  active     acme`)

    const key = await runCli(['key', 'create', '--tenant', tenantId, '--json'], storeEnv())
    expect(key.code).toBe(0)
    expect(JSON.parse(key.stdout).apiKey).toMatch(/^mr_tk_/)

    const missing = await runCli(['key', 'create', '--tenant', `tnt_${'0'.repeat(32)}`], storeEnv())
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^mailroom: no tenant tnt_0+\n/)

    // A top-level tenant deleted, its child with it.
    const deleted = await runCli(['tenant', 'delete', tenantId], storeEnv())
    expect(deleted.stderr).toBe('')
    expect(deleted.code).toBe(0)
    expect(deleted.stdout).toBe(`deleted tenant ${tenantId} (acme) and its 1 descendant: its data key destroyed, its data gone\n`)
    const left = JSON.parse((await runCli(['tenant', 'list', '--json'], storeEnv())).stdout) as { id: string }[]
    expect(left.map((t) => t.id)).not.toContain(tenantId)
    expect(left.map((t) => t.id)).not.toContain(childId)
    const again = await runCli(['tenant', 'delete', tenantId, '--json'], storeEnv())
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(new RegExp(`^mailroom: no tenant ${tenantId}\n`))
  }, 180_000)

  it('bad configuration stops with one clear line and a non-zero exit, no stack trace', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ DATABASE_URL: 'not a url' }, /^mailroom: invalid configuration: DATABASE_URL must be a postgres:\/\/ URL/],
      [{ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nothing' }, /^mailroom: cannot reach the database at 127\.0\.0\.1:1\/nothing as nobody: connection refused/],
      [{ MAILROOM_HTTP_PORT: 'eighty' }, /^mailroom: invalid configuration: MAILROOM_HTTP_PORT/],
    ]
    for (const [env, expected] of cases) {
      const res = await runCli(['migrate'], { MAILROOM_DATA_DIR: tempDir(), ...env })
      expect(res.code).toBe(1)
      expect(res.stderr).toMatch(expected)
      expect(res.stderr.trim().split('\n')).toHaveLength(1)
      expect(res.stderr).not.toMatch(/\n\s+at /)
    }
    const noKey = await runCli(['start'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nothing' })
    expect(noKey.code).toBe(1)
    expect(noKey.stderr).toMatch(/^mailroom: MAILROOM_MASTER_KEY is required with DATABASE_URL/)
    const badKey = await runCli(['start'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nothing', MAILROOM_MASTER_KEY: 'short' })
    expect(badKey.stderr).toMatch(/^mailroom: invalid MAILROOM_MASTER_KEY/)
    const usage = await runCli(['frobnicate'], {})
    expect(usage.code).toBe(1)
    expect(usage.stderr).toContain('unknown command: frobnicate')
  }, 120_000)

  it('a port in use stops start with one clear line', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    try {
      const res = await runCli(['start'], { ...storeEnv(), MAILROOM_HTTP_PORT: String(port), MAILROOM_SMTP_PORT: '0' })
      expect(res.code).toBe(1)
      expect(res.stderr.trim()).toBe(`mailroom: HTTP port ${port} on 127.0.0.1 is already in use (set MAILROOM_HTTP_PORT to another port)`)
    } finally {
      blocker.close()
    }
  }, 120_000)

  it('a server started without the flags node takes only at start says so once, naming them', async () => {
    const env = { MAILROOM_DATA_DIR: tempDir(), MAILROOM_HTTP_PORT: '0', MAILROOM_SMTP_PORT: '0', MAILROOM_LOG_LEVEL: 'info' }
    const started = await startCli(env, /\{[^\n]*"node was started without the server's start flags[^\n]*\n/, 60_000, { on: 'stderr', nodeFlags: [] })
    try {
      const line = JSON.parse(started.match[0]) as { missing: string }
      expect(line.missing).toBe('--max-semi-space-size=8')
      expect(started.stderr().match(/node was started without/g)).toHaveLength(1)
    } finally {
      await stopChild(started.child)
    }
  }, 120_000)

  it('first embedded start (pnpm start: the bundled server) creates the dev tenant and prints a key and a curl that works', async () => {
    const dataDir = tempDir()
    const env = { MAILROOM_DATA_DIR: dataDir, MAILROOM_HTTP_PORT: '0', MAILROOM_SMTP_PORT: '0', MAILROOM_LOG_LEVEL: 'warn' }
    const first = await startCli(env, /Try it:.*\n\s+curl .*\n/, 60_000, { via: 'bin' })
    let tenantKey: string
    let inbox: { id: string; address: string; apiKey: string }
    try {
      const out = first.stdout()
      expect(out).toMatch(/Created the dev tenant tnt_[0-9a-f]{32}/)
      tenantKey = /\b(mr_tk_\S+)/.exec(out)![1]!
      const curlLine = out.split('\n').find((l) => l.trim().startsWith('curl '))!.trim()
      const { stdout } = await promisify(execFile)('sh', ['-c', curlLine])
      inbox = JSON.parse(stdout)
      expect(inbox.address).toBe('hello@mailroom.localhost')
      // The same curl gives the inbox its own key, for an agent.
      expect(inbox.apiKey).toMatch(/^mr_ik_/)
    } finally {
      await stopChild(first.child)
    }
    // Second start (this file's bundle of the source, in a group of its own so it can be killed
    // like a crash): same store, no new tenant, the key is not printed again.
    const second = await startCli(env, /Lost it\? Stop the server, then: .*\n/, 60_000, { group: true })
    try {
      const out = second.stdout()
      expect(out).not.toMatch(/mr_tk_/)
      // What the banner suggests works while the server runs: minting an inbox key over HTTP ...
      const curlLine = out.split('\n').find((l) => l.trim().startsWith('curl '))!.trim().replace('inb_...', inbox.id)
      const { stdout } = await promisify(execFile)('sh', ['-c', curlLine], { env: { ...process.env, TENANT_KEY: tenantKey } })
      expect(JSON.parse(stdout)).toMatchObject({ scope: 'inbox', inboxId: inbox.id, key: expect.stringMatching(/^mr_ik_/) })
      // ... while the CLI, which would write where the server never looks, is refused in one line.
      const lock = JSON.parse(readFileSync(join(dataDir, 'mailroom.lock'), 'utf8')) as { pid: number; http: string }
      const refused = await runCli(['key', 'create', '--tenant', /dev tenant (tnt_\w+)/.exec(out)![1]!, '--inbox', inbox.id], { MAILROOM_DATA_DIR: dataDir })
      expect(refused.code).toBe(1)
      expect(refused.stdout).toBe('')
      expect(refused.stderr.trim().split('\n')).toHaveLength(1)
      expect(refused.stderr).toMatch(
        new RegExp(`^mailroom: the embedded database is in use by pid ${lock.pid}; stop it, or use the HTTP API: curl -s -X POST ${lock.http}/v1/api-keys `),
      )
    } finally {
      // A crash: no shutdown code runs, the lock stays behind with a dead pid ...
      await killChild(second.child)
    }
    expect(existsSync(join(dataDir, 'mailroom.lock'))).toBe(true)
    // ... and the next process takes it over, then leaves no lock behind.
    const after = await runCli(['tenant', 'list', '--json'], { MAILROOM_DATA_DIR: dataDir })
    expect(after.stderr).toBe('')
    expect(JSON.parse(after.stdout)).toEqual([expect.objectContaining({ name: 'dev' })])
    expect(existsSync(join(dataDir, 'mailroom.lock'))).toBe(false)
  }, 240_000)
})
