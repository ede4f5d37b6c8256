// Encryption at rest, its cost: the real ingest pipeline (store raw -> parse -> store parsed) and
// the read path (list, get, raw), once with per-tenant AES-256-GCM and once with a pass-through
// cipher, on the same messages and the same database. Also raw AES-GCM throughput.
//   pnpm exec tsx bench/encryption.ts [--n 1000] [--pglite]
import { blindTerms } from '../apps/server/src/crypto/blind-index.js'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import postgres from 'postgres'
import { openPglite, openPostgres, type Database, type Tx } from '../apps/server/src/db/client.js'
import { migrate } from '../apps/server/src/db/migrate.js'
import { deriveRuntimeUrl } from '../apps/server/src/config.js'
import { withTenant } from '../apps/server/src/db/scope.js'
import { TenantCrypto, type Cipher } from '../apps/server/src/crypto/service.js'
import { MasterKeyring } from '../apps/server/src/crypto/masterKey.js'
import { measureCryptoThroughput } from '../apps/server/src/crypto/measure.js'
import { createRootTenant } from '../apps/server/src/tenancy/service.js'
import { createInbox } from '../apps/server/src/inboxes/service.js'
import { Ingest } from '../apps/server/src/messages/ingest/index.js'
import { createParser } from '../apps/server/src/messages/parser.js'
import { getMessage, getRaw, listMessages, messageToWire, attachmentsOf } from '../apps/server/src/messages/service.js'
import { silentLogger } from '../apps/server/src/lib/log.js'
import { decodeCursor, type CursorPosition } from '../apps/server/src/lib/cursor.js'

const { values } = parseArgs({ options: { n: { type: 'string', default: '1000' }, pglite: { type: 'boolean', default: false } } })
const N = Number(values.n)

/** The same interface, no encryption: what the pipeline costs without it. */
const SEARCH_KEY = Buffer.alloc(32, 7)

class PlainCrypto extends TenantCrypto {
  override async createKey(): Promise<void> {}
  override async cipher(_tx: Tx, _tenantId: string): Promise<Cipher> {
    const c: Cipher = {
      seal: (_c, p) => (typeof p === 'string' ? Buffer.from(p) : p),
      open: (_c, b) => b,
      openString: (_c, b) => b.toString('utf8'),
      sealNullable: (_c, p) => (p == null ? null : Buffer.from(p)),
      openNullable: (_c, b) => (b ? b.toString('utf8') : null),
      // The blind index is keyed hashing, not encryption: kept, so only the encryption is left out.
      blindTerms: (inboxId, words) => blindTerms(SEARCH_KEY, inboxId, words),
    }
    return c
  }
}

async function message(i: number, to: string): Promise<Buffer> {
  return new MailComposer({
    from: 'Bench Sender <bench@example.com>',
    to,
    subject: `Benchmark message ${i}`,
    text: 'Lorem ipsum dolor sit amet. '.repeat(150),
    html: `<p>${'Lorem ipsum dolor sit amet. '.repeat(150)}</p>`,
    attachments: [{ filename: 'data.bin', content: randomBytes(6 * 1024) }],
  })
    .compile()
    .build()
}

async function openDb(): Promise<{ db: Database; close: () => Promise<void>; kind: string }> {
  if (values.pglite) {
    const db = await openPglite(undefined)
    await migrate(db)
    return { db, close: () => db.close(), kind: 'PGlite (in memory)' }
  }
  const base = process.env.MAILROOM_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `mailroom_bench_${randomBytes(4).toString('hex')}`
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(base)
  url.pathname = `/${name}`
  const owner = openPostgres({ url: url.toString(), max: 2, runtime: false })
  await migrate(owner)
  const db = openPostgres({ url: deriveRuntimeUrl(url.toString()), max: 20, runtime: true })
  const [row] = await admin<{ version: string }[]>`select split_part(version(), ' ', 2) as version`
  const version = row!.version
  return {
    db,
    kind: `PostgreSQL ${version}`,
    async close() {
      await db.close()
      await owner.close()
      await admin.unsafe(`drop database ${name} with (force)`)
      await admin.end()
    },
  }
}

async function run(database: Database, crypto: TenantCrypto, label: string) {
  const { tenant } = await createRootTenant(database, crypto, `bench-${label}`)
  const { inbox } = await withTenant(database, { tenantId: tenant.id }, (tx) => createInbox(tx, { tenantId: tenant.id, domain: 'bench.test' }))
  const raws = await Promise.all(Array.from({ length: N }, (_, i) => message(i, inbox.address)))
  const parser = createParser()
  const ingest = new Ingest({ database, crypto, parser, log: silentLogger, resolver: null, concurrency: 8 })
  const t0 = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const raw = raws[next++]!
        await ingest.accept([{ tenantId: tenant.id, inboxId: inbox.id, address: inbox.address }], raw, { mailFrom: 'bench@example.com', remoteIp: '127.0.0.1', helo: 'bench' })
      }
    }),
  )
  await ingest.idle()
  const ingestSeconds = (performance.now() - t0) / 1000
  // Read: page through the list, then get and fetch the raw bytes of every message.
  const t1 = performance.now()
  const scope = { tenantId: tenant.id }
  let ids: string[] = []
  let after: CursorPosition | null = null
  for (;;) {
    const page = await withTenant(database, scope, async (tx) => listMessages(tx, await crypto.cipher(tx, tenant.id), inbox.id, {}, 100, after))
    ids = ids.concat(page.rows.map((r) => r.id))
    if (!page.nextCursor) break
    after = decodeCursor(page.nextCursor)
  }
  let bytes = 0
  for (let i = 0; i < ids.length; i += 8) {
    await Promise.all(
      ids.slice(i, i + 8).map((id) =>
        withTenant(database, scope, async (tx) => {
          const cipher = await crypto.cipher(tx, tenant.id)
          const m = await getMessage(tx, inbox.id, id)
          const wire = messageToWire(m!, (await attachmentsOf(tx, [id])).get(id) ?? [], cipher)
          const raw = await getRaw(tx, cipher, m!.rawId)
          bytes += raw!.length + (wire.text?.length ?? 0)
        }),
      ),
    )
  }
  const readSeconds = (performance.now() - t1) / 1000
  await ingest.stop()
  await parser.close()
  if (ids.length !== N) throw new Error(`expected ${N} messages, listed ${ids.length}`)
  return { label, ingestPerSec: N / ingestSeconds, readPerSec: N / readSeconds, avgBytes: bytes / N }
}

const { db, close, kind } = await openDb()
try {
  const keyring = MasterKeyring.fromStrings(randomBytes(32).toString('base64'))
  // Warm-up (JIT, worker threads, connection pool), not reported.
  await run(db, new PlainCrypto(keyring), 'warmup').catch((e) => {
    throw e
  })
  const rows: Awaited<ReturnType<typeof run>>[] = []
  for (let round = 0; round < 2; round++) {
    rows.push(await run(db, new TenantCrypto(keyring), 'encrypted'))
    rows.push(await run(db, new PlainCrypto(keyring), 'plaintext'))
  }
  const aes = measureCryptoThroughput(64 * 1024, 2000)
  console.log(`database: ${kind}; messages per run: ${N} (~15 KB, one 6 KB attachment); 2 rounds`)
  console.log('mode        ingest msg/s   read msg/s (get + raw)')
  for (const r of rows) console.log(`${r.label.padEnd(11)} ${r.ingestPerSec.toFixed(0).padStart(12)} ${r.readPerSec.toFixed(0).padStart(12)}`)
  const avg = (label: string, k: 'ingestPerSec' | 'readPerSec') => rows.filter((r) => r.label === label).reduce((s, r) => s + r[k], 0) / 2
  console.log(
    `encryption cost: ingest ${(100 * (1 - avg('encrypted', 'ingestPerSec') / avg('plaintext', 'ingestPerSec'))).toFixed(1)}% slower, ` +
      `read ${(100 * (1 - avg('encrypted', 'readPerSec') / avg('plaintext', 'readPerSec'))).toFixed(1)}% slower`,
  )
  console.log(`AES-256-GCM on 64 KiB blobs: encrypt ${aes.encryptMBps.toFixed(0)} MB/s, decrypt ${aes.decryptMBps.toFixed(0)} MB/s`)
} finally {
  await close()
}
