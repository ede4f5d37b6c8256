// Small helpers shared by the receiving benchmarks: flags, percentiles, the machine, loopback checks.
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { missingNodeFlags } from '../../apps/server/src/lib/v8-flags.js'

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>

/** `--name value` / `--flag`; unknown flags stop the run with a usage line. */
export function flags<T extends FlagSpec>(spec: T, usage: string): { [K in keyof T]: T[K]['type'] extends 'boolean' ? boolean : string } {
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { ...spec, help: { type: 'boolean' } }, strict: true, allowPositionals: false })
    if ((values as Record<string, unknown>).help) {
      console.log(usage)
      process.exit(0)
    }
    return values as never
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`)
    process.exit(2)
  }
}

export function int(v: string, name: string, min = 1): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${v}`)
    process.exit(2)
  }
  return n
}

/** Nearest-rank percentile of an already sorted array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

export function summarize(values: number[]) {
  const s = [...values].sort((a, b) => a - b)
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1)
  return { n: s.length, min: s[0] ?? NaN, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, mean }
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : Number.isNaN(n) ? '-' : String(n))
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** Benchmarks talk to 127.0.0.1 only: refuse any other database host. */
export function assertLoopbackUrl(url: string, what: string): void {
  const host = new URL(url).hostname
  if (!LOOPBACK.has(host)) {
    console.error(`${what} must point at 127.0.0.1 (benchmarks only talk to loopback), got host ${host}`)
    process.exit(2)
  }
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim()
  } catch {
    return '?'
  }
}

/** The soft limit on open files of this process. */
export function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const soft = line?.split(/\s{2,}/)[1]
    return soft === 'unlimited' ? Infinity : Number(soft)
  } catch {
    return NaN
  }
}

/** One header block every benchmark prints first, so figures can be compared across runs. */
export function machineBanner(bench: string, database: string): string {
  const memGiB = (totalmem() / 1024 ** 3).toFixed(1)
  return [
    `# ${bench}`,
    `machine: ${cpus().length} cpus (${cpus()[0]?.model.trim() ?? '?'}), ${memGiB} GiB RAM, node ${process.version}, ulimit -n ${openFilesLimit()}`,
    `database: ${database}`,
    `date: ${new Date().toISOString()}`,
  ].join('\n')
}

export function postgresVersion(url: string): string {
  return sh('psql', [url, '-Atc', 'show server_version']).split(' ')[0] ?? '?'
}

/** RSS of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!m) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(m[1]) * 1024
}

/**
 * The fields of /proc/<pid>/stat (or of one thread's) after "(comm) ": [0] is the state (field 3
 * of proc(5)), so field k is [k - 3]. Throws when the process is gone.
 */
export function procStat(pid: number, tid?: number): string[] {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/**
 * CPU time (user + system) of a process (or one of its threads) in ms; with `children`, plus what
 * its reaped children used (cutime + cstime). Clock ticks: 100 per second on Linux.
 */
export function cpuMsOf(pid: number, tid?: number, children = false): number {
  const f = procStat(pid, tid)
  return ((Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0)) * 1000) / 100
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= items.length) return
      out[i] = await fn(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** Scheduler statistics of a thread: ms on a CPU, ms runnable but waiting for a CPU (run queue). */
export function schedOf(pid: number, tid: number): { onCpuMs: number; runQueueMs: number } {
  const [on, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number)
  return { onCpuMs: on! / 1e6, runQueueMs: wait! / 1e6 }
}

/** Pids of the Postgres backends connected to one database (so other databases' load is not counted). */
export function backendPids(adminUrl: string, datname: string): number[] {
  return sh('psql', [adminUrl, '-Atc', `select pid from pg_stat_activity where datname = '${datname.replace(/'/g, "''")}'`])
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number)
}

/** CPU time (ms) of these processes (Postgres backends); ones that went away count 0. */
export function cpuMsOfAll(pids: number[]): number {
  let total = 0
  for (const pid of pids) {
    try {
      total += cpuMsOf(pid)
    } catch {
      /* gone */
    }
  }
  return total
}

/** Pids whose parent is `ppid` (one scan of /proc). */
export function childPidsOf(ppid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (Number(procStat(Number(name))[1]) === ppid) out.push(Number(name))
    } catch {
      /* gone */
    }
  }
  return out
}

/** The machine's CPU ticks since boot (USER_HZ, 100 per second), from /proc/stat's first line. */
function cpuTicks(): { busy: number; steal: number; total: number } {
  const t = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  // busy: user + nice + system + irq + softirq (not idle, iowait, steal; guest is inside user)
  const busy = t[0]! + t[1]! + t[2]! + (t[5] ?? 0) + (t[6] ?? 0)
  return { busy, steal: t[7] ?? 0, total: t.slice(0, 8).reduce((a, b) => a + b, 0) }
}

/**
 * CPU time (ms, all cores together) since boot, from one read of /proc/stat: `busyMs`, what the whole
 * machine spent busy; `stealMs`, what the hypervisor gave to others while this machine's cores wanted
 * it ("steal": where it is high, a round's CPU figures are of a slowed VM).
 */
export function machineCpu(): { busyMs: number; stealMs: number } {
  const t = cpuTicks()
  return { busyMs: t.busy * 10, stealMs: t.steal * 10 }
}

/** How busy the whole machine is (0..1 of all cores) over `ms`, before we start: other runs skew figures. */
export async function machineBusy(ms = 1000): Promise<number> {
  const a = cpuTicks()
  await sleep(ms)
  const b = cpuTicks()
  return (b.busy - a.busy) / Math.max(1, b.total - a.total)
}

export async function quietCheck(): Promise<string> {
  const busy = await machineBusy()
  const line = `machine busy before start: ${fmt(busy * 100, 0)}% of ${cpus().length} cores${busy > 0.1 ? '  <-- WARNING: something else is running; figures will be low' : ''}`
  return line
}

/**
 * Waits (at most `maxMs`) until the machine is nearly idle, so a measured phase does not share the
 * two cores with someone else's test run. Returns a note when it gave up waiting.
 */
export async function awaitQuiet(maxMs: number, threshold = 0.1): Promise<string> {
  const deadline = Date.now() + maxMs
  let busy = await machineBusy(500)
  while (busy > threshold && Date.now() < deadline) busy = await machineBusy(1000)
  return busy > threshold ? `  (WARNING: machine still ${fmt(busy * 100, 0)}% busy with other work when this phase started)` : ''
}

/**
 * Installs a Debian package non-interactively (as root), without recommends; on failure updates the
 * package index once and tries again (a stale index is the usual cause). Throws with apt's last lines.
 */
export function aptInstall(pkg: string, env: NodeJS.ProcessEnv = {}): void {
  const run = (args: string[]) => execFileSync('apt-get', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...env }, timeout: 600_000 })
  try {
    run(['install', '-y', '--no-install-recommends', pkg])
  } catch {
    try {
      run(['update'])
      run(['install', '-y', '--no-install-recommends', pkg])
    } catch (err) {
      const e = err as { stderr?: string; message: string }
      throw new Error(`could not install ${pkg} (apt-get install -y ${pkg}): ${(e.stderr || e.message).trim().split('\n').slice(-5).join('\n')}`)
    }
  }
}

/**
 * Runs this bench again in a new node process when this one lacks flags that node takes only at
 * start: the server's own (SERVER_NODE_FLAGS, which `pnpm start` gives; a bench that runs the server
 * in its own process must have them to measure it as it runs) and `extra`. Returns at once when
 * none is missing; otherwise exits, with the new process's status, once it has ended and `after`
 * has been told its pid.
 */
export function runAgainWithStartFlags(extra: string[] = [], after?: (pid: number) => void): void {
  const missing = [...extra.filter((flag) => !process.execArgv.includes(flag)), ...missingNodeFlags()]
  if (missing.length === 0) return
  const r = spawnSync(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  after?.(r.pid)
  process.exit(r.status ?? 1)
}
