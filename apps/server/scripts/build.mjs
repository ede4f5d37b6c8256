// Bundles the server (src/ and the workspace's @mailroom/* packages) into one JavaScript file,
// dist/bin/mailroom.mjs, for plain `node`: the running process then carries no TypeScript loader
// (tsx costs about 70 MB of memory). npm dependencies stay external, resolved from node_modules.
// dist/bin/ sits two levels below apps/server like src/<domain>/, so the paths the code derives
// from import.meta.url (../../migrations, ./parse-worker.mjs) resolve the same as from src. The parse
// worker (src/messages/parse-worker.ts) is bundled beside it, as its own file.
// `node scripts/build.mjs dist/<name>` builds into another folder at that depth (tests build their
// own copy, so that a concurrent `pnpm start` rebuilding dist/bin cannot swap it under them).
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = process.argv[2] ? resolve(root, process.argv[2]) : `${root}dist/bin`
if (dirname(dirname(outdir)) !== resolve(root)) throw new Error(`build: ${outdir} must be two levels below ${root} (like src/<domain>/)`)
const { dependencies } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))
const external = Object.keys(dependencies)
  .filter((d) => !d.startsWith('@mailroom/'))
  .flatMap((d) => [d, `${d}/*`])

mkdirSync(outdir, { recursive: true })
// The parse threads' code, bundled on its own (it runs in worker threads, beside the server bundle).
await build({
  entryPoints: [`${root}src/messages/parse-worker.ts`],
  outfile: `${outdir}/parse-worker.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  logLevel: 'warning',
})
await build({
  entryPoints: [`${root}src/cli.ts`],
  outfile: `${outdir}/mailroom.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  sourcemap: true,
  logLevel: 'warning',
})
