// Debian's Chromium for browser tests, driven by playwright-core (never a browser it downloads).
// CI installs it (`.ci/run`: apt-get install -y chromium); where it is missing, the browser tests
// are skipped and say why.
import { existsSync } from 'node:fs'

export const CHROMIUM_PATH = process.env.MAILROOM_CHROMIUM ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set MAILROOM_CHROMIUM)`
}

/** Flags for a headless Chromium that talks to nothing but the pages it is sent to. */
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
