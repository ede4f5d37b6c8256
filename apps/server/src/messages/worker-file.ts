// Where the parse thread's code is: plain JavaScript, so no TypeScript loader runs in the threads.
// The bundled server (scripts/build.mjs) has it beside itself; running from source (tests, `pnpm
// dev`), it is bundled here once with esbuild (a fraction of a second) into node_modules/.cache,
// named by its content so that processes share it and a changed source gets a new file.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

let fromSource: Promise<string> | null = null

export function parseWorkerFile(): Promise<string> {
  const bundled = fileURLToPath(new URL('./parse-worker.mjs', import.meta.url))
  if (existsSync(bundled)) return Promise.resolve(bundled)
  return (fromSource ??= bundleFromSource())
}

async function bundleFromSource(): Promise<string> {
  const { build } = await import('esbuild')
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./parse-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Resolved from the server's node_modules (the cache sits inside it).
    external: ['mailparser'],
    write: false,
    logLevel: 'warning',
  })
  const code = result.outputFiles[0]!.text
  const dir = fileURLToPath(new URL('../../node_modules/.cache/mailroom/', import.meta.url))
  const file = join(dir, `parse-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, code)
    renameSync(tmp, file)
  }
  return file
}
