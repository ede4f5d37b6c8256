// Runs the real `mailroom` CLI as a child process: through tsx on the source, or (startCli `via: 'bin'`)
// through bin/mailroom.mjs, the bundled server that `pnpm start` and `pnpm mailroom` run.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url))
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url))
/** What `pnpm start` / `pnpm mailroom` run: bundles the server, then runs the bundle on plain node. */
const BIN = fileURLToPath(new URL('../../bin/mailroom.mjs', import.meta.url))

/** The JSON log line a server writes once it listens: group 1 its HTTP port, group 2 its SMTP port. */
export const STARTED_LINE = /"http":"[\d.]+:(\d+)","smtp":"[\d.]+:(\d+)"[^\n]*"msg":"mailroom started"/

/** The environment of a child: no inherited Mailroom or database variables. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MAILROOM_') && k !== 'DATABASE_URL' && !k.startsWith('VITEST') && k !== 'NODE_ENV') env[k] = v
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v
  return env
}

export function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], { cwd: SERVER_DIR, env: cleanEnv(env) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`mailroom ${args.join(' ')} timed out\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * Starts `mailroom start` and resolves once `until` matches its stdout (or, with `on: 'stderr'`, its
 * stderr, where the JSON log lines go), with the match.
 */
export function startCli(
  env: Record<string, string | undefined>,
  until: RegExp,
  timeoutMs = 60_000,
  opts: {
    on?: 'stdout' | 'stderr'
    /** In a process group of its own, for `killChild`. */
    group?: boolean
    /** `bin`: through bin/mailroom.mjs (the bundled server), as `pnpm start` runs it; default: tsx on the source. */
    via?: 'tsx' | 'bin'
  } = {},
) {
  const on = opts.on ?? 'stdout'
  return new Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string; match: RegExpMatchArray }>((resolve, reject) => {
    const [cmd, args] = opts.via === 'bin' ? [process.execPath, [BIN, 'start']] : [TSX, [CLI, 'start']]
    const child = spawn(cmd, args, { cwd: SERVER_DIR, env: cleanEnv(env), detached: opts.group ?? false })
    let stdout = ''
    let stderr = ''
    let done = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`mailroom start did not print ${until}\n${stdout}\n${stderr}`))
    }, timeoutMs)
    const check = () => {
      const match = (on === 'stdout' ? stdout : stderr).match(until)
      if (match && !done) {
        done = true
        clearTimeout(timer)
        resolve({ child, stdout: () => stdout, stderr: () => stderr, match })
      }
    }
    child.stdout!.on('data', (d) => {
      stdout += d
      check()
    })
    child.stderr!.on('data', (d) => {
      stderr += d
      check()
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      reject(new Error(`mailroom start exited ${code}\n${stdout}\n${stderr}`))
    })
  })
}

/**
 * SIGKILLs a child started with `group: true` and everything it started (tsx runs the server in a
 * child process of its own): no shutdown code runs, as in a crash. Resolves once the server is gone.
 */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const closed = new Promise((r) => child.once('close', r))
  process.kill(-child.pid!, 'SIGKILL')
  await closed
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const closed = new Promise((r) => child.once('close', r))
  child.kill('SIGTERM')
  await closed
}
