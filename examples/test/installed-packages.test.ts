// What a user does before the packages are on a registry: `pnpm pack:packages`, then `npm install`
// of both tarballs into a plain npm project outside the workspace. Then, from that project, on plain
// node (no TypeScript loader): import and require both packages, type-check an agent file against
// their .d.ts (strict, exactOptionalPropertyTypes; nodenext for ESM and CJS, and bundler), run an ESM
// agent that creates an inbox, receives a mail over SMTP and replies, against a real server, and
// drive the installed `mailroom-mcp` bin with the official MCP client (create, cursor, wait, send).
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { Mailroom } from '@mailroom/sdk'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTenant, startTestServer, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
// Brings the helpers' `inject('templateDatabase')` typing into this program (tsc only).
import type {} from '@mailroom/testkit/global-setup'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

let work: string
let project: string
let tarballs: string[]
let server: TestServer
let tenant: TenantFixture
let mailroom: Mailroom

/** The environment of a child: none of the test runner's variables, no TypeScript loader. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('VITEST') && !k.startsWith('MAILROOM_') && k !== 'NODE_OPTIONS' && k !== 'NODE_ENV' && k !== 'DATABASE_URL') env[k] = v
  }
  return { ...env, ...extra }
}

/** `npm install` in the project, preferring npm's cache; once more if the registry hiccups. */
async function npmInstall(args: string[]): Promise<void> {
  const cmd = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...args]
  for (let attempt = 1; ; attempt++) {
    try {
      await run('npm', cmd, { cwd: project, env: childEnv(), maxBuffer: 16 * 1024 * 1024 })
      return
    } catch (err) {
      if (attempt >= 2) throw err
    }
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mailroom-installed-'))
  // 1. The documented command: both tarballs in one folder.
  const packed = join(work, 'tarballs')
  await run(process.execPath, [join(ROOT, 'scripts', 'pack-packages.mjs'), packed], { cwd: ROOT, env: childEnv(), maxBuffer: 16 * 1024 * 1024 })
  tarballs = readdirSync(packed)
    .filter((f) => f.endsWith('.tgz'))
    .sort()
    .map((f) => join(packed, f))
  // 2. A plain npm project outside the workspace (no pnpm, no workspace links), as the READMEs say.
  project = join(work, 'agent')
  rmSync(project, { recursive: true, force: true })
  await run('mkdir', ['-p', project])
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-agent', version: '1.0.0', private: true }, null, 2))
  await npmInstall([...tarballs, '@types/node@^20.19.0'])

  server = await startTestServer()
  tenant = await makeTenant(server, 'installed')
  mailroom = new Mailroom({ apiKey: tenant.key, baseUrl: server.baseUrl, maxRetries: 0 })
}, 600_000)

afterAll(async () => {
  await server?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

const installed = (name: 'sdk' | 'ai') => join(project, 'node_modules', '@mailroom', name)
const packageJson = (name: 'sdk' | 'ai') => JSON.parse(readFileSync(join(installed(name), 'package.json'), 'utf8'))

describe('the packed packages', () => {
  it('are two tarballs whose package.json names real versions and points at dist/', () => {
    expect(tarballs.map((t) => t.split('/').pop())).toEqual([expect.stringMatching(/^mailroom-ai-\d+\.\d+\.\d+\.tgz$/), expect.stringMatching(/^mailroom-sdk-\d+\.\d+\.\d+\.tgz$/)])
    const sdk = packageJson('sdk')
    const ai = packageJson('ai')
    expect(JSON.stringify([sdk, ai])).not.toMatch(/workspace:|src\/[\w-]+\.ts/)
    expect(ai.dependencies['@mailroom/sdk']).toBe(sdk.version)
    // Nothing a user installs needs a TypeScript loader at run time.
    for (const pkg of [sdk, ai]) expect(Object.keys(pkg.dependencies ?? {})).not.toContain('tsx')
    expect(existsSync(join(project, 'node_modules', 'tsx'))).toBe(false)
    // Every entry point the package.json names is in the tarball.
    for (const [name, pkg] of [['sdk', sdk], ['ai', ai]] as const) {
      const targets: string[] = [pkg.main, pkg.module, pkg.types, ...Object.values(pkg.bin ?? {})].filter(Boolean)
      const walk = (v: unknown): void => {
        if (typeof v === 'string') targets.push(v)
        else if (v && typeof v === 'object') Object.values(v).forEach(walk)
      }
      walk(pkg.exports)
      for (const t of targets) expect(existsSync(join(installed(name), t)), `${name}: ${t}`).toBe(true)
    }
  })

  it('the SDK bundle is self-contained (no runtime-specific module, no package) and its types need neither zod nor the contract', () => {
    for (const file of ['index.js', 'index.cjs']) {
      // Code only: the JSDoc kept in the bundle may mention anything.
      const code = readFileSync(join(installed('sdk'), 'dist', file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
      expect(code, file).not.toMatch(/["']node:/)
      expect(code, file).not.toMatch(/\brequire\s*\(/)
      expect(code, file).not.toMatch(/^\s*import\s[^(]/m)
      expect(code, file).not.toMatch(/\bimport\s*\(/)
      expect(code, file).not.toMatch(/\bBuffer\.|\bprocess\.env\b|__dirname/)
    }
    for (const file of ['index.d.ts', 'index.d.cts']) {
      const dts = readFileSync(join(installed('sdk'), 'dist', file), 'utf8')
      expect(dts, file).not.toMatch(/@mailroom\/contract|from ['"]zod['"]/)
      expect(dts, file).toContain('declare class Mailroom')
    }
  })

  it('import and require both work on plain node', async () => {
    const probe = (m: string) =>
      `JSON.stringify({ sdk: typeof ${m}.sdk.Mailroom, timeoutError: typeof ${m}.sdk.MailroomTimeoutError, tools: typeof ${m}.ai.createMailroomTools, ` +
      `strict: ${m}.ai.openAITools(${m}.ai.createMailroomTools({ mailroom: new ${m}.sdk.Mailroom({ apiKey: 'mr_ik_x' }) })).every((t) => t.function.strict), ` +
      `mcp: typeof ${m}.mcp.createMcpServer, flags: process.execArgv.filter((a) => a.startsWith('--')) })`
    const esm = await run(
      process.execPath,
      ['--input-type=module', '-e', `const m = { sdk: await import('@mailroom/sdk'), ai: await import('@mailroom/ai'), mcp: await import('@mailroom/ai/mcp') }; console.log(${probe('m')})`],
      { cwd: project, env: childEnv() },
    )
    const cjs = await run(
      process.execPath,
      ['-e', `const m = { sdk: require('@mailroom/sdk'), ai: require('@mailroom/ai'), mcp: require('@mailroom/ai/mcp') }; console.log(${probe('m')})`],
      { cwd: project, env: childEnv() },
    )
    // Plain node: no --import / --require / --loader of a TypeScript loader.
    const expected = { sdk: 'function', timeoutError: 'function', tools: 'function', strict: true, mcp: 'function' }
    expect(JSON.parse(esm.stdout)).toEqual({ ...expected, flags: ['--input-type=module'] })
    expect(JSON.parse(cjs.stdout)).toEqual({ ...expected, flags: [] })
  })
})

/** What an agent author writes; it must compile as ESM and as CommonJS. */
const AGENT_SOURCE = `import { Mailroom, MailroomTimeoutError, type Inbox, type Message } from '@mailroom/sdk'
import { createMailroomTools, createToolExecutor, openAITools, openAIResponsesTools, vercelTools, strictJsonSchemaOf, type MailroomTool, type ToolResult } from '@mailroom/ai'
import { createMcpServer } from '@mailroom/ai/mcp'

export async function agent(): Promise<string | undefined> {
  const mailroom = new Mailroom({ apiKey: process.env.MAILROOM_API_KEY, baseUrl: process.env.MAILROOM_BASE_URL })
  const inbox: Inbox = await mailroom.createInbox({ name: 'signup', createKey: true })
  const key: string | undefined = inbox.apiKey
  let since: string | undefined = await inbox.cursor()
  try {
    const msg: Message & { cursor: string } = await inbox.waitForMessage({ since, from: { contains: '@example.com' }, subject: /code/i, timeout: 30_000 })
    since = msg.cursor
    await inbox.reply(msg, { text: 'thanks' })
  } catch (err) {
    if (err instanceof MailroomTimeoutError) since = err.cursor ?? since
  }
  for await (const m of inbox.messages.list({ hasAttachments: true })) console.log(m.subject)

  const tools: MailroomTool[] = createMailroomTools({ mailroom: new Mailroom({ apiKey: key }), maxChars: 4000 })
  const definitions = openAITools(tools)
  const plain = openAIResponsesTools(tools, { strict: false })
  const result: ToolResult = await createToolExecutor(tools).execute('wait_for_email', '{"timeout_seconds": 5}')
  const schema = strictJsonSchemaOf(tools[0]!.inputSchema)
  console.log(definitions.length, plain.length, result, schema, Object.keys(vercelTools(tools)))
  createMcpServer(tools, { name: 'my-agent' })
  return since
}
`

/**
 * The type errors of the agent files and of every .d.ts of @mailroom/* they load. Libraries' .d.ts
 * are checked too (skipLibCheck off: ours must hold under these options); the third-party ones are
 * only read, not reported, which also keeps this fast.
 */
function typeErrors(files: string[], options: ts.CompilerOptions): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    skipLibCheck: false,
    ...options,
  })
  const ours = program.getSourceFiles().filter((f) => files.includes(f.fileName) || f.fileName.includes('/node_modules/@mailroom/'))
  expect(ours.filter((f) => f.fileName.includes('/node_modules/@mailroom/')).length).toBeGreaterThanOrEqual(2)
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...ours.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ]
  return diagnostics.map((d) => `${d.file ? `${d.file.fileName.slice(project.length + 1)}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
}

describe('type-checking an agent file against the installed packages', () => {
  it('nodenext: ESM (.mts, the import conditions) and CommonJS (.cts, the require conditions)', () => {
    writeFileSync(join(project, 'agent.mts'), AGENT_SOURCE)
    writeFileSync(join(project, 'agent.cts'), AGENT_SOURCE)
    const errors = typeErrors([join(project, 'agent.mts'), join(project, 'agent.cts')], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    })
    expect(errors).toEqual([])
  })

  it('bundler resolution', () => {
    writeFileSync(join(project, 'agent-bundled.ts'), AGENT_SOURCE)
    const errors = typeErrors([join(project, 'agent-bundled.ts')], {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    })
    expect(errors).toEqual([])
  })

  it('every public export (and method of an exported class) documents itself with an @example', () => {
    const program = ts.createProgram([join(installed('sdk'), 'dist', 'index.d.ts'), join(installed('ai'), 'dist', 'index.d.ts')], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
      types: ['node'],
    })
    const checker = program.getTypeChecker()
    const missing: string[] = []
    const hasExample = (sym: ts.Symbol) => sym.getJsDocTags(checker).some((t) => t.name === 'example')
    for (const name of ['sdk', 'ai'] as const) {
      const dts = program.getSourceFile(join(installed(name), 'dist', 'index.d.ts'))!
      for (let sym of checker.getExportsOfModule(checker.getSymbolAtLocation(dts)!)) {
        if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym)
        if (!hasExample(sym)) missing.push(`${name}: ${sym.name}`)
        if (sym.flags & ts.SymbolFlags.Class) {
          for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym))) {
            if (member.flags & ts.SymbolFlags.Method && !member.name.startsWith('#') && !hasExample(member)) missing.push(`${name}: ${sym.name}.${member.name}`)
          }
        }
      }
    }
    expect(missing).toEqual([])
  })
})

/** Runs an ESM script of the project; resolves with its exit code and output, calling `onLine` per stdout line. */
function runScript(file: string, env: Record<string, string>, onLine: (line: string) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: project, env: childEnv(env) })
    let stdout = ''
    let stderr = ''
    let partial = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
      partial += d
      const lines = partial.split('\n')
      partial = lines.pop()!
      for (const l of lines) if (l.trim()) onLine(l)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('an agent in the project, against a real Mailroom', () => {
  it('an ESM script creates an inbox, receives a mail over SMTP and replies', async () => {
    writeFileSync(
      join(project, 'reply-agent.mjs'),
      `import { Mailroom } from '@mailroom/sdk'

const mailroom = new Mailroom() // MAILROOM_API_KEY and MAILROOM_BASE_URL
const inbox = await mailroom.createInbox({ name: 'installed-agent', createKey: true })
const since = await inbox.cursor()
console.log(JSON.stringify({ address: inbox.address }))
const msg = await inbox.waitForMessage({ since, subject: /question/i, timeout: 60_000 })
const sent = await inbox.reply(msg, { text: 'Answered by an installed @mailroom/sdk.' })
console.log(JSON.stringify({ received: msg.subject, from: msg.from?.address, reply: sent.id }))
`,
    )
    const customer = await mailroom.createInbox({ name: 'installed-customer' })
    const customerSince = await customer.cursor()
    let mailed: Promise<unknown> | undefined
    const result = await runScript('reply-agent.mjs', { MAILROOM_API_KEY: tenant.key, MAILROOM_BASE_URL: server.baseUrl }, (line) => {
      const { address } = JSON.parse(line) as { address?: string }
      // Outside mail over SMTP to the address the agent printed.
      if (address) mailed = sendMail(server, { from: customer.address, to: address, subject: 'A question', text: 'Are you there?' })
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    await mailed
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!)
    expect(last).toEqual({ received: 'A question', from: customer.address, reply: expect.stringMatching(/^msg_/) })
    const reply = await customer.waitForMessage({ since: customerSince, subject: 'Re: A question', timeout: 30_000 })
    expect(reply.text).toContain('Answered by an installed @mailroom/sdk.')
  })

  it('the installed mailroom-mcp bin, driven by the MCP client as a host config would: create, cursor, wait, send', async () => {
    // The host configuration the ai README shows: node and the bin's absolute path in the project.
    const transport = new StdioClientTransport({
      command: 'node',
      args: [join(installed('ai'), 'bin', 'mailroom-mcp.mjs')],
      env: { PATH: process.env.PATH ?? '', MAILROOM_API_KEY: tenant.key, MAILROOM_BASE_URL: server.baseUrl },
      stderr: 'pipe',
    })
    let log = ''
    transport.stderr?.on('data', (d: Buffer) => (log += d.toString()))
    const client = new Client({ name: 'installed-test-host', version: '1.0.0' })
    await client.connect(transport)
    try {
      const call = async (name: string, args: Record<string, unknown>) => {
        const res = await client.callTool({ name, arguments: args })
        expect(res.isError, `${name}: ${JSON.stringify(res.structuredContent)}`).toBeFalsy()
        return res.structuredContent as any
      }
      const names = (await client.listTools()).tools.map((t) => t.name)
      expect(names).toEqual(expect.arrayContaining(['create_inbox', 'get_email_cursor', 'wait_for_email', 'send_email']))

      const { inbox } = await call('create_inbox', { name: 'mcp-installed' })
      expect(inbox.address).toBe(`mcp-installed@${server.config.domain}`)
      // Nothing yet: a timed-out wait still answers a cursor.
      const quiet = await call('wait_for_email', { inbox_id: inbox.id, timeout_seconds: 1 })
      expect(quiet).toMatchObject({ received: false, cursor: expect.any(String) })

      const { cursor } = await call('get_email_cursor', { inbox_id: inbox.id })
      await sendMail(server, { from: 'human@customer.example', to: inbox.address, subject: 'Your code 731904', text: 'Your code is 731904' })
      await settled(server)
      const got = await call('wait_for_email', { inbox_id: inbox.id, after_cursor: cursor, subject: 'code', timeout_seconds: 30 })
      expect(got.received).toBe(true)
      expect(got.content).toContain('Your code is 731904')

      const peer = await mailroom.createInbox({ name: 'mcp-installed-peer' })
      const since = await peer.cursor()
      const sent = await call('send_email', { inbox_id: inbox.id, to: peer.address, subject: 'The code was 731904', text: 'Done.' })
      expect(sent.sent).toMatchObject({ to: [peer.address] })
      const arrived = await peer.waitForMessage({ since, from: inbox.address, timeout: 30_000 })
      expect(arrived.subject).toBe('The code was 731904')
      expect(log).toMatch(/serving \d+ tools/)
    } finally {
      await client.close()
    }
  })
})
