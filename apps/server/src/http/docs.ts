// `/docs`: the API reference, rendered from /openapi.json by Scalar's standalone bundle, which the
// server itself serves from node_modules (@scalar/api-reference, pinned exact in package.json).
// Nothing is loaded from a CDN, so the page works without internet: fonts are the browser's own,
// Scalar's telemetry and its agent chat are off, and "try it" requests go straight to this server.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './context.js'

const BUNDLE = '@scalar/api-reference/browser/standalone.js'

interface Bundle {
  version: string
  body: Buffer
}

let loaded: Bundle | undefined
/** Read once, on the first request for it (3.5 MB: no cost to processes that never serve /docs). */
function bundle(): Bundle {
  if (!loaded) {
    const file = createRequire(import.meta.url).resolve(BUNDLE)
    // <package>/dist/browser/standalone.js; the package does not export its package.json.
    const { version } = JSON.parse(readFileSync(join(dirname(file), '..', '..', 'package.json'), 'utf8')) as { version: string }
    loaded = { version, body: readFileSync(file) }
  }
  return loaded
}

/** The bundle's URL: versioned, so browsers may keep it for good. */
export const docsScriptPath = () => `/docs/assets/api-reference-${bundle().version}.js`

const CONFIGURATION = { url: '/openapi.json', withDefaultFonts: false, telemetry: false, agent: { disabled: true } }

export function registerDocsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.get('/docs', (c) =>
    c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>Mailroom API</title></head>
<body><div id="app"></div>
<script src="${docsScriptPath()}"></script>
<script>Scalar.createApiReference('#app', ${JSON.stringify(CONFIGURATION)})</script>
<noscript>The API description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body></html>`),
  )
  app.get('/docs/assets/:file', (c) => {
    const { version, body } = bundle()
    if (c.req.param('file') !== `api-reference-${version}.js`) return c.notFound()
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=31536000, immutable',
    })
  })
}
