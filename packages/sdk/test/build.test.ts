// The published bundle: built once with the package's tsup config (into a temporary folder, so that a
// concurrent build of dist/ cannot interfere), then loaded by real `node` processes with require()
// and import, checked for runtime-specific imports, and its .d.ts compiled by a strict consumer.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const PKG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')) as {
  files: string[]
  engines: { node: string }
  publishConfig: { main: string; module: string; types: string; exports: Record<string, unknown> }
}

let out: string
let server: Server
let baseUrl: string

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'mailroom-sdk-build-'))
  const tsupCli = join(dirname(createRequire(join(PKG_DIR, 'package.json')).resolve('tsup/package.json')), 'dist', 'cli-default.js')
  await run(process.execPath, [tsupCli, '--out-dir', out], { cwd: PKG_DIR, env: { ...process.env, NODE_ENV: 'production' } })

  // A tiny stand-in API for the child processes to call (msw does not reach into them).
  server = createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json')
    res.setHeader('X-Request-Id', 'req_child')
    if (req.url === '/v1/me' && req.headers.authorization === 'Bearer mr_ik_child') {
      res.end(JSON.stringify({ keyId: 'key_1', scope: 'inbox', tenant: null, inbox: null }))
    } else {
      res.statusCode = 404
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'nope', requestId: 'req_child' } }))
    }
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
}, 60_000)

afterAll(async () => {
  await new Promise((ok) => server?.close(ok))
  if (out) rmSync(out, { recursive: true, force: true })
})

/** A script that uses the SDK the way a user would, with `load` producing the module. */
const usage = (load: string) => `
${load}
const mailroom = new m.Mailroom({ apiKey: 'mr_ik_child', baseUrl: ${JSON.stringify('BASE')} })
const me = await mailroom.me()
const err = await mailroom.inboxes.get('inb_nope').catch((e) => e)
console.log(JSON.stringify({
  ctor: typeof m.Mailroom,
  scope: me.scope,
  notFound: err instanceof m.MailroomNotFoundError && err instanceof m.MailroomError,
  requestId: err.requestId,
}))
`

describe('built package', () => {
  it('require() works from the CJS build', async () => {
    const file = join(out, 'index.cjs')
    const script = `(async () => {${usage(`const m = require(${JSON.stringify(file)})`).replace('"BASE"', JSON.stringify(baseUrl))}})().catch((e) => { console.error(e); process.exit(1) })`
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: tmpdir() })
    expect(JSON.parse(stdout)).toEqual({ ctor: 'function', scope: 'inbox', notFound: true, requestId: 'req_child' })
  })

  it('import works from the ESM build', async () => {
    const url = pathToFileURL(join(out, 'index.js')).href
    const script = usage(`const m = await import(${JSON.stringify(url)})`).replace('"BASE"', JSON.stringify(baseUrl))
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: tmpdir() })
    expect(JSON.parse(stdout)).toEqual({ ctor: 'function', scope: 'inbox', notFound: true, requestId: 'req_child' })
  })

  it('imports no runtime-specific module and no package at all (self-contained)', () => {
    for (const file of ['index.js', 'index.cjs']) {
      // Code only: the JSDoc kept in the bundle may mention anything.
      const code = readFileSync(join(out, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
      expect(code, file).not.toMatch(/["']node:/)
      expect(code, file).not.toMatch(/\brequire\s*\(/)
      expect(code, file).not.toMatch(/^\s*import\s[^(]/m)
      expect(code, file).not.toMatch(/\bimport\s*\(/)
      expect(code, file).not.toMatch(/\bBuffer\.|\bprocess\.env\b|__dirname/)
    }
  })

  it('ships declarations for both formats that need neither the contract nor zod', () => {
    for (const file of ['index.d.ts', 'index.d.cts']) {
      const dts = readFileSync(join(out, file), 'utf8')
      expect(dts, file).not.toMatch(/@mailroom\/contract|from ['"]zod['"]/)
      expect(dts, file).toContain('declare class Mailroom')
    }
  })

  it('the declarations type-check a strict consumer without @types/node', () => {
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }))
    const consumer = join(out, 'consumer.ts')
    writeFileSync(
      consumer,
      `import { Mailroom, MailroomTimeoutError, type Inbox, type Message } from './index.js'
const mailroom = new Mailroom({ apiKey: 'mr_tk_x' })
const inbox: Inbox = await mailroom.createInbox({ name: 'support' })
const msg: Message = await inbox.waitForMessage({ from: 'a@b.c', subject: /hi/i, timeout: 1000 })
await inbox.reply(msg, { text: 'ok' })
for await (const m of inbox.messages.list({ hasAttachments: true })) console.log(m.subject)
const bytes: Uint8Array = await inbox.messages.raw(msg.id)
const err: unknown = null
if (err instanceof MailroomTimeoutError) console.log(err.code, bytes.length)
// @ts-expect-error unknown option
new Mailroom({ apiKye: 'typo' })
`,
    )
    const program = ts.createProgram([consumer], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      skipLibCheck: false,
    })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    expect(diagnostics).toEqual([])

    // Every public export, and every method of an exported class, documents itself with an @example.
    const checker = program.getTypeChecker()
    const dts = program.getSourceFile(join(out, 'index.d.ts'))!
    const missing: string[] = []
    const hasExample = (sym: ts.Symbol) => sym.getJsDocTags(checker).some((t) => t.name === 'example')
    for (let sym of checker.getExportsOfModule(checker.getSymbolAtLocation(dts)!)) {
      if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym)
      if (!hasExample(sym)) missing.push(sym.name)
      if (sym.flags & ts.SymbolFlags.Class) {
        for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym))) {
          if (member.flags & ts.SymbolFlags.Method && !member.name.startsWith('#') && !hasExample(member)) missing.push(`${sym.name}.${member.name}`)
        }
      }
    }
    expect(missing).toEqual([])
  })

  it('publishConfig points main, module, types and exports at files the build produces', () => {
    expect(pkg.files).toEqual(['dist'])
    expect(pkg.engines.node).toBe('>=18')
    const targets = [pkg.publishConfig.main, pkg.publishConfig.module, pkg.publishConfig.types]
    const walk = (v: unknown): void => {
      if (typeof v === 'string') targets.push(v)
      else if (v && typeof v === 'object') Object.values(v).forEach(walk)
    }
    walk(pkg.publishConfig.exports)
    const built = targets.filter((t) => t.startsWith('./dist/'))
    expect(built.length).toBeGreaterThanOrEqual(7)
    for (const t of built) expect(existsSync(join(out, t.slice('./dist/'.length))), t).toBe(true)
  })
})
