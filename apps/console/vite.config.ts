// The console is served by the Mailroom server under /console (apps/server/src/console/static.ts).
// `pnpm dev` runs Vite on :5173 and proxies the API and the session routes to a server on :3000.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The pages that are not the first one load on demand; this keeps the sign-in page small.
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/v1': 'http://127.0.0.1:3000',
      '/console/session': 'http://127.0.0.1:3000',
    },
  },
})
