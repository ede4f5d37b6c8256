#!/usr/bin/env node
// `pnpm pack:packages [folder]`: builds @mailroom/sdk and @mailroom/ai (tsup: ESM + CJS + .d.ts)
// and packs both with `pnpm pack` into one folder (default dist/packages), ready for
// `npm install ./mailroom-sdk-<version>.tgz ./mailroom-ai-<version>.tgz` in an agent project.
// pnpm, not npm, because only pnpm applies publishConfig (the dist/ entry points) and turns
// `workspace:*` into the real version; each package's prepack refuses npm.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['packages/sdk', 'packages/ai']
const out = resolve(process.argv[2] ?? join(ROOT, 'dist', 'packages'))

mkdirSync(out, { recursive: true })
// Tarballs of an older version would be picked up by `npm install ./mailroom-*.tgz`.
for (const f of readdirSync(out)) if (/^mailroom-(sdk|ai)-.*\.tgz$/.test(f)) rmSync(join(out, f))

const tarballs = []
for (const dir of PACKAGES) {
  const stdout = execFileSync('pnpm', ['pack', '--pack-destination', out], {
    cwd: join(ROOT, dir),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  // pnpm prints the tarball's path on its last line.
  const tarball = stdout.trim().split('\n').at(-1)
  tarballs.push(tarball)
}
const shown = tarballs.map((t) => relative(process.cwd(), t) || t)
process.stdout.write(`${shown.join('\n')}\n\nIn your agent project:\n  npm install ${tarballs.join(' ')}\n`)
