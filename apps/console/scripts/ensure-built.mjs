// Builds the console (vite build into dist/) when dist/ is missing or older than its sources:
// `pnpm start` (apps/server/bin/mailroom.mjs) and the test suite's global setup call it, so a fresh
// clone needs no extra command. "Older" is decided by a hash of the inputs (the console's sources
// and the SDK it bundles), written beside the build, not by file times (a checkout resets those).
// Plain JavaScript run by plain node: it must work before anything is compiled.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const STAMP = '.inputs-hash'
const INPUTS = ['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json', 'src', '../../packages/sdk/src', '../../packages/sdk/package.json']

function* files(path) {
  if (!existsSync(path)) return
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) yield* files(join(path, name))
  } else yield path
}

/** A hash of every input's path and bytes. */
export function inputsHash() {
  const h = createHash('sha256')
  for (const input of INPUTS) {
    for (const file of files(join(root, input))) {
      h.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0')
    }
  }
  return h.digest('hex')
}

export function isFresh(dist = join(root, 'dist')) {
  try {
    return existsSync(join(dist, 'index.html')) && readFileSync(join(dist, STAMP), 'utf8').trim() === inputsHash()
  } catch {
    return false
  }
}

/**
 * Builds when needed; returns what it did. Builds into a directory of its own and swaps it in, so
 * a server reading dist/ meanwhile sees the old build or the new one, never half of one.
 */
export function ensureConsoleBuilt({ log = (s) => process.stderr.write(s + '\n') } = {}) {
  const dist = join(root, 'dist')
  if (isFresh(dist)) return 'fresh'
  let vite
  try {
    vite = join(dirname(createRequire(join(root, 'package.json')).resolve('vite/package.json')), 'bin/vite.js')
  } catch {
    log('mailroom: the console cannot be built: its dependencies are not installed (run pnpm install)')
    return 'missing-dependencies'
  }
  const hash = inputsHash()
  const out = join(root, `dist.build-${process.pid}`)
  const started = Date.now()
  log('mailroom: building the console (apps/console, vite build)...')
  try {
    execFileSync(process.execPath, [vite, 'build', '--outDir', out, '--logLevel', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      // Vite takes NODE_ENV from the environment: under vitest (NODE_ENV=test) it would bundle React's development build.
      env: { ...process.env, NODE_ENV: 'production' },
    })
    writeFileSync(join(out, STAMP), hash + '\n')
    rmSync(dist, { recursive: true, force: true })
    renameSync(out, dist)
  } catch (err) {
    rmSync(out, { recursive: true, force: true })
    throw err
  }
  log(`mailroom: console built in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return 'built'
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureConsoleBuilt()
}
