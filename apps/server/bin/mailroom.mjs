#!/usr/bin/env -S node --max-semi-space-size=8
// The `mailroom` command (`pnpm start`, `pnpm mailroom ...`): bundles the server with esbuild
// (scripts/build.mjs, well under a second) in a child process, then runs the bundle here on plain
// node. `tsx src/cli.ts` runs the same code from source, as the tests do.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// `start` also serves the web console: build it first when its build is missing or stale.
if (process.argv[2] === 'start') {
  try {
    const { ensureConsoleBuilt } = await import('../../console/scripts/ensure-built.mjs')
    ensureConsoleBuilt()
  } catch (err) {
    process.stderr.write(`mailroom: building the console failed, starting without it: ${err?.message ?? err}\n`)
  }
}
try {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: 'inherit' })
} catch {
  process.stderr.write('mailroom: building the server failed (see above)\n')
  process.exit(1)
}
// Its isMain check sees this script's name (mailroom.mjs) in argv[1] and runs the command line.
await import('../dist/bin/mailroom.mjs')
