// Debian's Chromium driven by playwright-core (never a downloaded browser). `.ci/run` installs it;
// where it cannot be launched, browser tests skip and say why.
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@mailroom/testkit/chromium'

const CHROMIUM = CHROMIUM_PATH

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
