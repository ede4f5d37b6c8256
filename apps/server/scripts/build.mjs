// Bundles the server (src/ and the workspace's @mailroom/* packages) into one JavaScript file,
// dist/bin/mailroom.mjs, for plain `node`: the running process then carries no TypeScript loader
// (tsx costs about 70 MB of memory). npm dependencies stay external, resolved from node_modules.
// dist/bin/ sits two levels below apps/server like src/<domain>/, so the paths the code derives
// from import.meta.url (../../migrations, ./parse-worker.mjs) resolve the same as from src.
// `node scripts/build.mjs dist/<name>` builds into another folder at that depth (tests build their
// own copy, so that a concurrent `pnpm start` rebuilding dist/bin cannot swap it under them).
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
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
copyFileSync(`${root}src/messages/parse-worker.mjs`, `${outdir}/parse-worker.mjs`)
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
