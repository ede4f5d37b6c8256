// One process at a time on the embedded store. PGlite is single-process: a second process opening the
// same files (the CLI beside a running `mailroom start`) writes where the first never looks, and the
// first later writes over it, so a key "created" that way never works. A lock file in
// MAILROOM_DATA_DIR names the process holding the store and, once it listens, its HTTP address, so
// a refusal can say what to do instead. A lock left by a process that died is taken over.
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const LOCK_FILE = 'mailroom.lock'

interface LockContent {
  pid: number
  /** What holds it: `start` or the CLI command. */
  command: string
  startedAt: string
  /** The running server's HTTP root, once it listens. */
  http?: string
}

/** The store is held by another live process. */
export class DataDirInUseError extends Error {
  constructor(
    readonly pid: number,
    readonly http: string | undefined,
    readonly lockPath: string,
    hint?: string,
  ) {
    super(`the embedded database is in use by pid ${pid}; stop it, or use the HTTP API: ${hint ?? `${http ?? 'http://127.0.0.1:3000'}/docs`}`)
  }
}

export interface DataDirLock {
  readonly path: string
  /** Records the server's HTTP root in the lock, for the message other processes get. */
  announce(info: { http: string }): void
  /** Removes the lock (if it is still ours). Safe to call twice. */
  release(): void
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function read(path: string): { raw: string; content: LockContent | null } | null {
  let raw: string
  try {
    raw = readFileSync(path, 'utf8')
  } catch {
    return null // gone in the meantime
  }
  try {
    const content = JSON.parse(raw) as LockContent
    return { raw, content: Number.isInteger(content.pid) && content.pid > 0 ? content : null }
  } catch {
    return { raw, content: null }
  }
}

/** Writes `content` to `path` whole or not at all (a reader never sees half a lock). */
function writeAtomically(path: string, content: LockContent, create: boolean): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(content) + '\n')
  try {
    // link() fails if the lock exists: creation and content in one step. rename() replaces ours.
    if (create) linkSync(tmp, path)
    else renameSync(tmp, path)
  } finally {
    rmSync(tmp, { force: true })
  }
}

/**
 * Takes the data directory for this process, or throws `DataDirInUseError` naming the live process
 * that has it. A lock whose process is gone (killed, crashed) is taken over.
 *
 * @example
 * const lock = lockDataDir(config.dataDir, 'start')
 * try { ... } finally { lock.release() }
 */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true })
  const path = resolve(join(dataDir, LOCK_FILE))
  const mine: LockContent = { pid: process.pid, command, startedAt: new Date().toISOString() }
  for (let attempt = 0; ; attempt++) {
    try {
      writeAtomically(path, mine, true)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 10) throw err
    }
    const held = read(path)
    if (!held) continue
    if (held.content && held.content.pid !== process.pid && alive(held.content.pid)) {
      throw new DataDirInUseError(held.content.pid, held.content.http, path)
    }
    // Stale (its process is gone) or unreadable: remove it, unless another process replaced it
    // since we read it (then the next round reads the new one).
    if (read(path)?.raw === held.raw) rmSync(path, { force: true })
  }

  let released = false
  const release = () => {
    if (released) return
    released = true
    process.off('exit', release)
    if (read(path)?.content?.pid === process.pid) rmSync(path, { force: true })
  }
  // However the process ends short of a crash, the lock goes with it.
  process.on('exit', release)
  return {
    path,
    announce(info) {
      if (!released && existsSync(path)) writeAtomically(path, { ...mine, http: info.http }, false)
    },
    release,
  }
}
