// The `mailroom` command: start, migrate, tenant create|list|delete|dedicate, key create.
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { ConfigError, loadConfig, type Config } from './config.js'
import { openStores, StartupError } from './db/open.js'
import { withTenant } from './db/scope.js'
import { rawRows } from './db/client.js'
import { fromPublicId, toPublicId } from './lib/ids.js'
import { startMailroom } from './server.js'
import { createRootTenant, createTenantWithKey, deleteTenantFor, getTenant } from './tenancy/service.js'
import { OPERATOR } from './audit/service.js'
import { createApiKey } from './apikeys/service.js'
import { getInbox } from './inboxes/service.js'
import { dedicateTenant, parseNode } from './tenancy/placement.js'
import { ServiceError } from './errors.js'
import { TenantCrypto } from './crypto/service.js'
import { keyringFromConfig, MasterKeyError } from './crypto/keyring.js'
import { rotateMasterKey } from './crypto/rotate.js'
import { applyServerV8Flags, missingNodeFlags } from './lib/v8-flags.js'
import { guardProcess } from './lib/process-guards.js'
import { DataDirInUseError } from './lib/data-dir-lock.js'

const USAGE = `usage: mailroom <command>

  start                                       run the HTTP API, SMTP server and workers
  migrate                                     apply database migrations (creates the runtime role)
  tenant create --name <name> [--parent <tenantId>] [--json]
  tenant list [--json]
  tenant delete <tenantId> [--json]           delete a tenant (a top-level one too) with its data
                                              and its descendants; its data key is destroyed first
  tenant dedicate <tenantId> --node <host:port> [--json]
                                              on Citus: the tenant and its descendants on shards of
                                              their own, moved to that worker (online)
  key create --tenant <tenantId> [--inbox <inboxId>] [--name <name>] [--json]
  keys rotate-master                          rewrap every tenant's data key with MAILROOM_MASTER_KEY
                                              (old keys in MAILROOM_MASTER_KEY_OLD, comma-separated)

Environment: DATABASE_URL (unset: embedded PGlite under MAILROOM_DATA_DIR, default ./.mailroom),
MAILROOM_HTTP_PORT, MAILROOM_SMTP_PORT, MAILROOM_HOST, MAILROOM_DOMAIN, MAILROOM_OPERATOR_KEY ...`

class UsageError extends Error {}

function flags(args: string[], options: Record<string, { type: 'string' | 'boolean' }>) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

function need(v: string | boolean | undefined, name: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`missing --${name}`)
  return v
}

/** What to do over HTTP instead of `command`, while a server holds the embedded store. */
function httpInstead(command: string, http: string): string {
  const post = (path: string, body: string) =>
    `curl -s -X POST ${http}${path} -H "Authorization: Bearer $TENANT_KEY" -H "Content-Type: application/json" -d '${body}'`
  if (command === 'key create') return `${post('/v1/api-keys', '{"scope":"inbox","inboxId":"inb_..."}')} (or {} for a tenant key)`
  if (command === 'tenant create') return `${post('/v1/tenants', '{"name":"acme"}')} (a child tenant; a top-level one needs MAILROOM_OPERATOR_KEY)`
  if (command === 'tenant list') return `curl -s ${http}/v1/tenants -H "Authorization: Bearer $TENANT_KEY"`
  if (command === 'tenant delete') return `curl -s -X DELETE ${http}/v1/tenants/tnt_... -H "Authorization: Bearer $MAILROOM_OPERATOR_KEY"`
  return `${http}/docs`
}

async function withStores<T>(config: Config, command: string, fn: (s: Awaited<ReturnType<typeof openStores>>) => Promise<T>): Promise<T> {
  let stores: Awaited<ReturnType<typeof openStores>>
  try {
    stores = await openStores(config, { poolSize: 2, command })
  } catch (err) {
    if (err instanceof DataDirInUseError) {
      throw new DataDirInUseError(err.pid, err.http, err.lockPath, httpInstead(command, err.http ?? `http://${config.host}:${config.httpPort}`))
    }
    throw err
  }
  try {
    return await fn(stores)
  } finally {
    await stores.close()
  }
}

export async function runCli(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const [cmd, sub, ...rest] = argv
  const config = loadConfig()
  switch (cmd) {
    case 'start': {
      applyServerV8Flags()
      const running = await startMailroom({ config })
      guardProcess(running.deps.log, (kind) => running.deps.metrics.processErrors.inc({ kind }))
      const missing = missingNodeFlags()
      if (missing.length > 0) {
        running.deps.log.info('node was started without the server\'s start flags (pnpm start gives them): the heap keeps more memory under many idle waits', { missing: missing.join(' ') })
      }
      const stop = async () => {
        await running.stop()
        process.exit(0)
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      return -1 // keep running
    }
    case 'migrate': {
      await withStores(config, 'migrate', async () => {})
      out('migrations applied')
      return 0
    }
    case 'tenant': {
      if (sub === 'create') {
        const f = flags(rest, { name: { type: 'string' }, parent: { type: 'string' }, json: { type: 'boolean' } })
        const name = need(f.name, 'name')
        const result = await withStores(config, 'tenant create', async ({ runtime }) => {
          const crypto = new TenantCrypto(keyringFromConfig(config))
          if (typeof f.parent !== 'string') return createRootTenant(runtime, crypto, name)
          const parentId = fromPublicId('tenant', f.parent)
          if (!parentId) throw new UsageError(`--parent: not a tenant id: ${f.parent}`)
          return withTenant(runtime, { tenantId: parentId }, async (tx) => {
            if (!(await getTenant(tx, parentId))) throw new UsageError(`no tenant ${f.parent}`)
            return createTenantWithKey(tx, crypto, { parentId, name })
          })
        })
        const tenantId = toPublicId('tenant', result.tenant.id)
        if (f.json) out(JSON.stringify({ tenantId, apiKey: result.apiKey }))
        else out(`tenant ${tenantId} (${name})\ntenant key (shown once): ${result.apiKey}`)
        return 0
      }
      if (sub === 'list') {
        const f = flags(rest, { json: { type: 'boolean' } })
        const rows = await withStores(config, 'tenant list', async ({ owner }) =>
          rawRows<{ id: string; parent_id: string | null; name: string; status: string; created_at: string | Date }>(
            owner.db,
            sql`select * from mailroom_admin_tenants()`,
          ),
        )
        const list = rows.map((r) => ({
          id: toPublicId('tenant', r.id),
          parentId: r.parent_id ? toPublicId('tenant', r.parent_id) : null,
          name: r.name,
          status: r.status,
          createdAt: new Date(r.created_at).toISOString(),
        }))
        if (f.json) out(JSON.stringify(list))
        else if (list.length === 0) out('no tenants')
        else for (const t of list) out(`${t.id}  ${t.status.padEnd(9)}  ${t.name}${t.parentId ? `  (parent ${t.parentId})` : ''}`)
        return 0
      }
      if (sub === 'delete') {
        const [idArg, ...more] = rest
        const f = flags(more, { json: { type: 'boolean' } })
        const tenantId = idArg ? fromPublicId('tenant', idArg) : null
        if (!tenantId) throw new UsageError(`tenant delete: not a tenant id: ${idArg ?? '(none)'}`)
        const done = await withStores(config, 'tenant delete', ({ runtime }) =>
          deleteTenantFor(runtime, new TenantCrypto(keyringFromConfig(config)), { tenantId: null, actor: OPERATOR }, tenantId),
        )
        if (!done) throw new UsageError(`no tenant ${idArg}`)
        const descendants = done.deleted - 1
        if (f.json) out(JSON.stringify({ tenantId: idArg, deleted: done.deleted }))
        else out(`deleted tenant ${idArg} (${done.tenant.name})${descendants ? ` and its ${descendants} descendant${descendants === 1 ? '' : 's'}` : ''}: its data key destroyed, its data gone`)
        return 0
      }
      if (sub === 'dedicate') {
        const [idArg, ...more] = rest
        const f = flags(more, { node: { type: 'string' }, json: { type: 'boolean' } })
        const tenantId = idArg ? fromPublicId('tenant', idArg) : null
        if (!tenantId) throw new UsageError(`tenant dedicate: not a tenant id: ${idArg ?? '(none)'}`)
        const node = parseNode(need(f.node, 'node'))
        const steps = await withStores(config, 'tenant dedicate', ({ owner }) =>
          dedicateTenant(owner, tenantId, node, (s) => {
            if (!f.json) out(`${toPublicId('tenant', s.tenantId)}: ${s.isolated ? 'isolated to' : 'already alone on'} shard ${s.placement.shardId}, ${s.moved ? 'moved to' : 'already on'} ${s.placement.node}`)
          }),
        )
        if (f.json) out(JSON.stringify(steps.map((s) => ({ tenantId: toPublicId('tenant', s.tenantId), ...s.placement, isolated: s.isolated, moved: s.moved }))))
        return 0
      }
      throw new UsageError(`unknown command: tenant ${sub ?? ''}`.trim())
    }
    case 'keys': {
      if (sub !== 'rotate-master') throw new UsageError(`unknown command: keys ${sub ?? ''}`.trim())
      flags(rest, {})
      const crypto = new TenantCrypto(keyringFromConfig(config))
      const result = await withStores(config, 'keys rotate-master', ({ owner, runtime }) => rotateMasterKey(owner, runtime, crypto))
      out(`rewrapped ${result.rewrapped} of ${result.tenants} tenant keys with master key ${crypto.keyring.current.id}`)
      for (const f of result.failed) process.stderr.write(`mailroom: could not unwrap the key of tenant ${toPublicId('tenant', f.tenantId)}: ${f.reason} (add its master key to MAILROOM_MASTER_KEY_OLD)\n`)
      return result.failed.length ? 1 : 0
    }
    case 'key': {
      if (sub !== 'create') throw new UsageError(`unknown command: key ${sub ?? ''}`.trim())
      const f = flags(rest, { tenant: { type: 'string' }, inbox: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } })
      const tenantArg = need(f.tenant, 'tenant')
      const tenantId = fromPublicId('tenant', tenantArg)
      if (!tenantId) throw new UsageError(`--tenant: not a tenant id: ${tenantArg}`)
      const inboxId = typeof f.inbox === 'string' ? fromPublicId('inbox', f.inbox) : null
      if (typeof f.inbox === 'string' && !inboxId) throw new UsageError(`--inbox: not an inbox id: ${f.inbox}`)
      const { row, key } = await withStores(config, 'key create', ({ runtime }) =>
        withTenant(runtime, { tenantId }, async (tx) => {
          if (!(await getTenant(tx, tenantId))) throw new UsageError(`no tenant ${tenantArg}`)
          if (inboxId && !(await getInbox(tx, inboxId))) throw new UsageError(`no inbox ${f.inbox} in tenant ${tenantArg}`)
          return createApiKey(tx, { tenantId, scope: inboxId ? 'inbox' : 'tenant', inboxId, name: typeof f.name === 'string' ? f.name : null })
        }),
      )
      if (f.json) out(JSON.stringify({ keyId: toPublicId('apiKey', row.id), apiKey: key }))
      else out(`key ${toPublicId('apiKey', row.id)} (shown once): ${key}`)
      return 0
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE)
      return cmd === undefined ? 1 : 0
    default:
      throw new UsageError(`unknown command: ${cmd}`)
  }
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)
if (isMain) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code)
    },
    (err: unknown) => {
      if (err instanceof ConfigError || err instanceof StartupError || err instanceof UsageError || err instanceof MasterKeyError || err instanceof ServiceError) {
        process.stderr.write(`mailroom: ${err.message}\n`)
        if (err instanceof UsageError) process.stderr.write(`run "mailroom help" for usage\n`)
      } else {
        process.stderr.write(`mailroom: ${(err as Error).message ?? String(err)}\n`)
      }
      process.exit(1)
    },
  )
}
