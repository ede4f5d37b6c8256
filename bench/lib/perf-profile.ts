// Where the machine's CPU goes during a measured phase, by Linux `perf` (system-wide sampling of
// the CPU clock, every thread of every process, kernel included): this process's main thread, its
// parse threads and V8's helper threads (TurboFan, GC), the bench database's Postgres backends and
// everything else; and for the JavaScript, which package the time is spent in.
//
// Unlike V8's own profiler (--cpu-prof), which samples a thread's stack on a timer whether or not
// the thread holds a CPU, perf counts a sample only where a CPU is actually running: on a loaded
// 2-core machine V8's profiler charges a thread's wait for a CPU to whatever it called last (a
// socket write that woke a Postgres backend, a postMessage that woke a parse thread).
//
// JavaScript frames get names from the map V8 writes with --perf-basic-prof-only-functions
// (/tmp/perf-<pid>.map); the caller starts node with it (ingest.ts re-runs itself with the flag).
// perf comes from Debian's `linux-perf`, installed when missing (as root), like Postfix.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { aptInstall, fmt } from './common.js'

export const PERF_NODE_FLAG = '--perf-basic-prof-only-functions'
const FREQ = 499

/** perf's version line, installing Debian's linux-perf first when it is missing (as root). */
export function ensurePerf(): string {
  const version = () => spawnSync('perf', ['--version'], { encoding: 'utf8' })
  let v = version()
  if (v.status !== 0) {
    if (process.getuid?.() !== 0) throw new Error('perf is not installed and this process is not root: install it as root (apt-get install -y linux-perf) or run without --perf.')
    process.stdout.write('perf: installing Debian package (apt-get install -y linux-perf)... ')
    aptInstall('linux-perf')
    console.log('done')
    v = version()
    if (v.status !== 0) throw new Error(`perf does not run: ${(v.stderr || '').trim()}`)
  }
  return v.stdout.trim()
}

/** One sample: the process and thread it ran in, and its stack from the leaf up. */
interface Sample {
  comm: string
  pid: number
  tid: number
  frames: { sym: string; dso: string }[]
}

export interface Attribution {
  /** Samples in which a CPU ran something (idle left out). */
  busy: number
  /** Rows of the breakdown: label, samples. */
  rows: [string, number][]
  /** This process's JavaScript (and the builtins, runtime and kernel work it called), by package. */
  js: { main: [string, number][]; parse: [string, number][] }
  /** CPU time one sample stands for (ms). */
  msPerSample: number
}

export interface PerfRun {
  stop(): Promise<Attribution>
}

/**
 * Starts system-wide sampling (`perf record -a -g`); `stop()` ends it and reads the samples, given
 * this process's pid and the bench database's backends (and the client's process, named apart when
 * given). `keep`: where to copy the samples (perf.data).
 */
export function startPerf(o: { pgPids: number[]; clientPid?: number; keep?: string }): PerfRun {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-perf-'))
  const data = join(dir, 'perf.data')
  const rec: ChildProcess = spawn('perf', ['record', '-q', '-F', String(FREQ), '-a', '-g', '-o', data], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  rec.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => rec.once('exit', (code) => resolve(code)))
  return {
    async stop() {
      try {
        rec.kill('SIGINT')
        await exited
        if (!existsSync(data)) throw new Error(`perf record wrote nothing: ${err.trim()}`)
        const a = await attribute(data, process.pid, new Set(o.pgPids), o.clientPid)
        if (o.keep) {
          mkdirSync(dirname(o.keep), { recursive: true })
          copyFileSync(data, o.keep)
          const map = `perf-${process.pid}.map`
          console.log(`  perf samples kept: ${o.keep}; by function: cp ${join(dirname(o.keep), map)} /tmp/ && perf report -i ${o.keep} --no-children --sort comm,sym`)
        }
        return a
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

async function attribute(data: string, self: number, pg: Set<number>, clientPid?: number): Promise<Attribution> {
  const samples: Sample[] = []
  const script = spawn('perf', ['script', '-i', data, '-F', 'comm,pid,tid,ip,sym,dso'], { stdio: ['ignore', 'pipe', 'ignore'] })
  let cur: Sample | null = null
  for await (const line of createInterface({ input: script.stdout! })) {
    if (line.trim() === '') {
      if (cur) samples.push(cur)
      cur = null
    } else if (!line.startsWith('\t') && !line.startsWith(' ')) {
      const m = /^(.*?)\s+(\d+)\/(\d+)\s*$/.exec(line)
      cur = m ? { comm: m[1]!.trim(), pid: Number(m[2]), tid: Number(m[3]), frames: [] } : null
    } else if (cur) {
      const m = /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(line)
      if (m) cur.frames.push({ sym: m[1]!, dso: m[2]! })
    }
  }
  if (cur) samples.push(cur)

  // Parse threads: this process's threads that run the parse worker's bundle.
  const parseTids = new Set<number>()
  for (const s of samples) if (s.pid === self && s.tid !== self && s.frames.some((f) => f.sym.includes('parse-worker'))) parseTids.add(s.tid)

  const count = new Map<string, number>()
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
  const jsMain = new Map<string, number>()
  const jsParse = new Map<string, number>()
  let busy = 0
  for (const s of samples) {
    if (s.pid === 0) continue
    busy++
    if (s.pid !== self) {
      add(
        count,
        pg.has(s.pid)
          ? "Postgres: the bench database's backends"
          : s.comm === 'postgres'
            ? 'Postgres: its other processes (WAL writer, checkpointer...)'
            : s.pid === clientPid
              ? 'the SMTP client (its own process)'
              : 'other processes',
      )
      continue
    }
    const kind = workKind(s.frames)
    const thread = s.tid === self ? 'main thread' : parseTids.has(s.tid) ? 'parse threads' : 'V8 and libuv helper threads'
    if (kind === 'gc' || kind === 'compiler') add(count, `this process, ${thread}: V8 ${kind === 'gc' ? 'garbage collection' : 'optimizing compiler (TurboFan)'}`)
    else {
      add(count, `this process, ${thread}: ${thread === 'V8 and libuv helper threads' ? 'other work' : 'JavaScript and what it calls'}`)
      const owner = ownerOf(s.frames)
      if (thread === 'main thread') add(jsMain, owner)
      else if (thread === 'parse threads') add(jsParse, owner)
    }
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1])
  return { busy, rows: sorted(count), js: { main: sorted(jsMain), parse: sorted(jsParse) }, msPerSample: 1000 / FREQ }
}

/** Garbage collection or compilation: a V8 frame of either between the leaf and the innermost JS frame. */
function workKind(frames: { sym: string; dso: string }[]): 'gc' | 'compiler' | 'other' {
  for (const { sym } of frames) {
    if (sym.startsWith('JS:')) return 'other'
    if (/Scaveng|Marking|MarkCompact|Sweep|Evacuat|ConcurrentMark|RememberedSet|SlotSet|MinorMC|Heap::|heap::base::|cppgc::/.test(sym)) return 'gc'
    if (/compiler::|maglev::|Maglev|turboshaft|OptimizedCompilationJob|PipelineCompilationJob|RegExpCompiler|RegExpMacroAssembler|BytecodeGenerator|Parser::|Scanner::/.test(sym)) return 'compiler'
  }
  return 'other'
}

/** The package of the innermost JavaScript frame of a stack (what called the builtin, runtime or kernel work). */
function ownerOf(frames: { sym: string; dso: string }[]): string {
  for (const { sym } of frames) {
    if (!sym.startsWith('JS:') && !sym.includes('file://') && !/\bnode:/.test(sym)) continue
    const pkg = /node_modules\/\.pnpm\/([^/]+)\//.exec(sym)
    if (pkg) return pkg[1]!.replace(/@[\d.]+(?:_.*)?$/, '').replace(/^@?([^+]+)\+/, '@$1/')
    if (sym.includes('parse-worker')) return 'parse worker bundle (the safety scorer, the parse glue)'
    const server = /\/apps\/server\/src\/([\w/-]+)\.[tj]s/.exec(sym)
    if (server) return `server: ${server[1]!.split('/').slice(0, 2).join('/')}`
    if (/\/packages\/([\w-]+)\//.test(sym)) return `@mailroom/${/\/packages\/([\w-]+)\//.exec(sym)![1]}`
    if (sym.includes('/bench/')) return 'the bench (its client)'
    const internal = /\b(node:[\w/]+)/.exec(sym)
    if (internal) return internal[1]!.replace(/^node:internal\/(?:per_context\/|process\/|streams\/)?/, 'node:')
  }
  return '(no JavaScript frame: V8 runtime, native code)'
}

/** The attribution as report lines: each row's share of the busy CPU and its ms per message. */
export function attributionLines(a: Attribution, messages: number, top = 12): string[] {
  const per = (n: number) => `${fmt((n * a.msPerSample) / messages, 2)} ms/msg`
  const pct = (n: number) => `${fmt((100 * n) / a.busy, 1)}%`
  const out = [`  where the machine's CPU went (perf, ${a.busy} samples at ${FREQ} Hz on each core; idle left out): ${per(a.busy)} in all`]
  for (const [k, n] of a.rows) out.push(`    ${pct(n).padStart(6)}  ${per(n).padStart(13)}  ${k}`)
  for (const [label, rows] of [
    ['main thread', a.js.main],
    ['parse threads', a.js.parse],
  ] as const) {
    out.push(`  JavaScript of the ${label}, by the package of its innermost JS frame:`)
    for (const [k, n] of rows.slice(0, top)) out.push(`    ${pct(n).padStart(6)}  ${per(n).padStart(13)}  ${k}`)
  }
  return out
}
