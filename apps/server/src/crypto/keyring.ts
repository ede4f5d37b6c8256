// The deployment's master keyring from configuration: MAILROOM_MASTER_KEY (and _OLD during a
// rotation). Embedded dev mode generates one into the data directory; with a real database a
// missing key stops start-up.
import type { Config } from '../config.js'
import { loadOrCreateDevMasterKey, MasterKeyring } from './masterKey.js'

export class MasterKeyError extends Error {}

export function keyringFromConfig(config: Config): MasterKeyring {
  let current = config.masterKey
  if (!current) {
    if (config.databaseUrl) {
      throw new MasterKeyError(
        'MAILROOM_MASTER_KEY is required with DATABASE_URL (32 random bytes, base64 or hex; e.g. `openssl rand -base64 32`)',
      )
    }
    current = loadOrCreateDevMasterKey(config.dataDir)
  }
  try {
    return MasterKeyring.fromStrings(current, config.masterKeyOld)
  } catch (err) {
    throw new MasterKeyError(`invalid MAILROOM_MASTER_KEY: ${(err as Error).message}`)
  }
}
