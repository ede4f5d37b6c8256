// Builds the publishable bundle: ESM + CJS + .d.ts, self-contained (no runtime dependencies).
import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  // Inline the contract's types: it is a private workspace package, users cannot install it.
  dts: { resolve: ['@mailroom/contract'] },
  // Anything taken from the private contract package (or ky, ESM-only) must end up inside the bundle.
  noExternal: ['@mailroom/contract', 'ky'],
  platform: 'neutral',
  target: 'es2022',
  sourcemap: true,
  clean: true,
  treeshake: true,
  splitting: false,
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
})
