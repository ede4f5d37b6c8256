// /docs with no internet: the page loads Scalar's standalone bundle from this server (pinned in
// package.json, served from node_modules) and nothing from anywhere else. Checked over plain HTTP,
// and in headless Chromium (Debian's, through playwright-core) whose every request outside the
// server is refused and recorded: the operation list must render all the same.
import { readFileSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '@mailroom/testkit/server'
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumMissing } from '@mailroom/testkit/chromium'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
}, 120_000)
afterAll(() => server?.stop())

const serverPackage = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }

describe('/docs over HTTP', () => {
  it('references only its own bundle, pinned to an exact version, served with a long cache', async () => {
    const pinned = serverPackage.dependencies['@scalar/api-reference']
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/)
    const html = await (await fetch(`${server.baseUrl}/docs`)).text()
    const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1])
    expect(scripts).toEqual([`/docs/assets/api-reference-${pinned}.js`])
    expect(html).not.toMatch(/https?:\/\//)
    const res = await fetch(`${server.baseUrl}${scripts[0]}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(res.headers.get('cache-control')).toContain('immutable')
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100_000)
    expect((await fetch(`${server.baseUrl}/docs/assets/api-reference-0.0.1.js`)).status).toBe(404)
  })
})

const missing = chromiumMissing()
describe.skipIf(missing !== null)(`/docs in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  }, 120_000)
  afterAll(() => browser?.close())

  it('renders the operation list with every request kept on the server', async () => {
    const spec = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as {
      tags?: { name: string }[]
      paths: Record<string, Record<string, { tags?: string[]; summary?: string }>>
    }
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.values(methods).map((op) => ({ path, ...op })))
    const tags = [...new Set(operations.flatMap((op) => op.tags ?? []))]
    const firstTag = tags[0]!
    const page = await browser.newPage()
    const outside: string[] = []
    const served: string[] = []
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if (url.origin === server.baseUrl) {
        served.push(url.pathname)
        return route.continue()
      }
      outside.push(url.href)
      return route.abort('internetdisconnected')
    })
    await page.goto(`${server.baseUrl}/docs`)
    // The operations of the first group are listed (summary in the sidebar, method and path in the
    // group's operation list), and every group is there.
    const firstOps = operations.filter((op) => op.tags?.[0] === firstTag)
    expect(firstOps.length).toBeGreaterThan(1)
    for (const op of firstOps) await page.getByText(op.summary!, { exact: false }).first().waitFor({ state: 'visible', timeout: 60_000 })
    // The sidebar can be drawn before the group's operation list: wait until the page shows it all.
    const pageText = () => page.evaluate(() => document.body.innerText)
    const showsAll = (text: string) => firstOps.every((op) => text.includes(op.path)) && tags.every((tag) => text.includes(tag))
    await expect.poll(async () => showsAll(await pageText()), { timeout: 60_000, interval: 100 }).toBe(true)
    const text = await pageText()
    for (const op of firstOps) expect(text).toContain(op.path)
    for (const tag of tags) expect(text).toContain(tag)
    expect(served).toEqual(expect.arrayContaining(['/docs', '/openapi.json', expect.stringMatching(/^\/docs\/assets\/api-reference-[\d.]+\.js$/)]))
    expect(outside).toEqual([])
    await page.close()
  }, 120_000)
})
