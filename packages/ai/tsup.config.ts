// Builds the publishable package: ESM + CJS + .d.ts of the library (`.` and `./mcp`), and the
// compiled `mailroom-mcp` program (dist/mcp-main.js) that bin/mailroom-mcp.mjs runs on plain node.
// Dependencies stay external: npm installs them beside the package.
import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', mcp: 'src/mcp.ts', 'mcp-main': 'src/mcp-main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', mcp: 'src/mcp.ts' } },
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  clean: true,
  treeshake: true,
  splitting: false,
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
})
