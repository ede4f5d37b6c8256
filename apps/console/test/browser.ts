// Debian's Chromium driven by playwright-core (never a downloaded browser). `.ci/run` installs it;
// where it cannot be launched, browser tests skip and say why.
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.MAILROOM_CHROMIUM ?? '/usr/bin/chromium'

/** Flags that keep Chromium from reaching for the network on its own (this machine has none). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]

export interface Launched {
  browser: Browser
  close(): Promise<void>
}

/** A browser, or the reason there is none. */
export async function launchChromium(): Promise<Launched | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run does)`
  try {
    // Playwright gives each launch a new empty profile of its own.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 })
    return { browser, close: () => browser.close().catch(() => {}) }
  } catch (err) {
    return `Chromium at ${CHROMIUM} could not be launched: ${(err as Error).message.split('\n')[0]}`
  }
}
