// The deployment's DKIM key for the default domain: from config (PEM or path), else generated once
// into the data directory (embedded/dev), else an in-memory key (tests).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createPublicKey } from 'node:crypto'
import { generateDkimKey, signMessage } from '../mail/sender-auth.js'
import type { Config } from '../config.js'
import type { Logger } from '../lib/log.js'

export interface DkimSigner {
  domain: string
  selector: string
  /** The TXT record to publish at `${selector}._domainkey.${domain}`. */
  dnsValue: string
  sign(raw: Buffer, fromDomain: string): Promise<Buffer>
}

export function dnsValueOf(privateKeyPem: string): string {
  const der = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' })
  return `v=DKIM1; k=rsa; p=${der.toString('base64')}`
}

export function dkimSigner(domain: string, selector: string, privateKeyPem: string): DkimSigner {
  return {
    domain,
    selector,
    dnsValue: dnsValueOf(privateKeyPem),
    // Only mail from the default domain (or its subdomains) is signed with the deployment key.
    async sign(raw, fromDomain) {
      const d = fromDomain.toLowerCase()
      if (d !== domain && !d.endsWith(`.${domain}`)) return raw
      return signMessage(raw, { domain, selector, privateKeyPem })
    },
  }
}

export function loadDkim(config: Config, opts: { persist: boolean; log: Logger }): DkimSigner {
  const given = config.dkimPrivateKey
  if (given) {
    const pem = given.includes('-----BEGIN') ? given : readFileSync(given, 'utf8')
    return dkimSigner(config.domain, config.dkimSelector, pem)
  }
  if (!opts.persist) return dkimSigner(config.domain, config.dkimSelector, generateDkimKey().privateKeyPem)
  const path = resolve(config.dataDir, 'dkim-private.pem')
  if (!existsSync(path)) {
    mkdirSync(config.dataDir, { recursive: true })
    writeFileSync(path, generateDkimKey().privateKeyPem, { mode: 0o600 })
  }
  const signer = dkimSigner(config.domain, config.dkimSelector, readFileSync(path, 'utf8'))
  opts.log.debug('DKIM key for the default domain', { file: path, record: `${config.dkimSelector}._domainkey.${config.domain}`, value: signer.dnsValue })
  return signer
}
