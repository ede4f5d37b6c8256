// Once per test run: the console's build, made or refreshed, so that tests never depend on a manual build.
import { ensureConsoleBuilt } from '../scripts/ensure-built.mjs'

export default function setup() {
  ensureConsoleBuilt({ log: (s) => process.stdout.write(`[console] ${s}\n`) })
}
