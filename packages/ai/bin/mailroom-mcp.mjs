#!/usr/bin/env node
// `mailroom-mcp`: the MCP server over stdio. Runs the compiled program (dist/mcp-main.js, built by
// tsup; a packed or installed package always has it) on plain node: no TypeScript loader.
// In the repository, run the source with `pnpm --filter @mailroom/ai exec tsx src/mcp-main.ts`, or build first.
try {
  await import('../dist/mcp-main.js')
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('mcp-main.js')) {
    process.stderr.write('mailroom-mcp: dist/ is missing; build the package first (pnpm --filter @mailroom/ai build)\n')
    process.exit(1)
  }
  throw err
}
