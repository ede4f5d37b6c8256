// Regenerates the console screenshots in docs/console/ (linked from the README): a real server on
// an in-memory database with seeded data, Debian's Chromium at 1280 px and at phone width (390 px).
// Run: pnpm --filter @mailroom/console screenshots
import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startInProcess } from '../../../bench/lib/server.js'
import { ensureConsoleBuilt } from './ensure-built.mjs'
import { launchChromium } from '../test/browser.js'
import { pages, seed } from '../test/seed.js'

const OUT = fileURLToPath(new URL('../../../docs/console/', import.meta.url))
const SHOWN = ['overview', 'inboxes', 'inbox', 'message', 'sent-message', 'approvals', 'quarantine', 'tenants', 'tenant', 'webhook', 'domain', 'audit-log']
const SIZES = [
  { width: 1280, height: 800, suffix: '1280' },
  { width: 390, height: 844, suffix: 'phone' },
]

ensureConsoleBuilt()
// The benches' in-process server: embedded PGlite in memory, HTTP and SMTP on free ports.
const server = await startInProcess({ pglite: true, config: { domain: 'agents.example.com', logLevel: 'silent' } })
const base = server.baseUrl
const launched = await launchChromium()
if (typeof launched === 'string') throw new Error(launched)
try {
  const { key: apiKey } = await server.makeTenant('Northwind Agents')
  const seeded = await seed(base, server.smtpPort, apiKey)
  rmSync(OUT, { recursive: true, force: true })
  mkdirSync(OUT, { recursive: true })
  for (const size of SIZES) {
    const ctx = await launched.browser.newContext({ viewport: { width: size.width, height: size.height }, colorScheme: 'light', deviceScaleFactor: 1 })
    const page = await ctx.newPage()
    await page.goto(`${base}/console`)
    await page.screenshot({ path: `${OUT}sign-in-${size.suffix}.png` })
    await page.getByLabel('Key').fill(apiKey)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor()
    for (const p of pages(seeded).filter((x) => SHOWN.includes(x.name))) {
      await page.goto(`${base}/console${p.path}`)
      await page.getByText(p.ready).first().waitFor()
      await page.waitForFunction(() => !document.querySelector('main [role="status"]')?.textContent?.includes('Loading'))
      await page.waitForTimeout(300)
      await page.screenshot({ path: `${OUT}${p.name}-${size.suffix}.png` })
    }
    await ctx.close()
  }
  process.stdout.write(`screenshots written to ${OUT}\n`)
} finally {
  await launched.close()
  await server.stop()
}
