// DKIM signatures that do not verify: signs many messages as the delivery worker does (relaxed/relaxed
// rsa-sha256, a handful of fresh 2048-bit keys, half the messages bare LF and half CRLF) and verifies
// each one as a receiver would, through mailauth with the key published in an in-memory DNS. Every
// failure is a message a real receiver would reject or junk, so the figure to read is "failed", and
// it must be 0. It also prints what a signature costs.
//
// A signature that fails only now and then points at something outside the message: the run keeps
// the first failures' messages and keys under --keep so they can be looked at.
//
//   pnpm exec tsx bench/dkim.ts [--messages 2000] [--keys 10] [--keep /tmp/dkim-failures]
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { flags, fmt, int, machineBanner, summarize } from './lib/common.js'
import { createFakeResolver, generateDkimKey, signMessage, verifyMessage } from '../apps/server/src/mail/sender-auth.js'

const USAGE = `usage: pnpm exec tsx bench/dkim.ts [options]
  --messages <n>   messages signed and verified (default 2000)
  --keys <n>       fresh RSA keys they are spread over (default 10)
  --keep <dir>     where the first 5 failing messages and their keys are written (default none)`

const f = flags({ messages: { type: 'string', default: '2000' }, keys: { type: 'string', default: '10' }, keep: { type: 'string' } }, USAGE)
const MESSAGES = int(f.messages, 'messages')
const KEYS = int(f.keys, 'keys')

console.log(machineBanner('bench/dkim.ts: DKIM signatures that do not verify', 'none'))
const keys = Array.from({ length: KEYS }, () => generateDkimKey())
const signMs: number[] = []
const failures: string[] = []
for (let i = 0; i < MESSAGES; i++) {
  const key = keys[i % KEYS]!
  const nl = i % 2 ? '\n' : '\r\n'
  const raw = Buffer.from(
    [
      `From: agent${i}@agents.test`,
      'To: someone@example.com',
      `Subject: message ${i}`,
      `Message-ID: <${i}.bench@agents.test>`,
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Message ${i}, signed as the delivery worker signs it.`,
      '',
    ].join(nl),
  )
  const t0 = performance.now()
  const signed = await signMessage(raw, { domain: 'agents.test', selector: 'mr1', privateKeyPem: key.privateKeyPem })
  signMs.push(performance.now() - t0)
  // A TXT record longer than 255 characters is published as several strings, as in real DNS.
  const resolver = createFakeResolver({ 'mr1._domainkey.agents.test': { TXT: [key.dnsRecord('mr1', 'agents.test').value.match(/.{1,255}/g)!] } })
  const auth = await verifyMessage(signed, { ip: '127.0.0.1', helo: 'localhost', mailFrom: `agent${i}@agents.test`, resolver })
  if (auth.dkim === 'pass') continue
  failures.push(`message ${i} (${nl === '\n' ? 'LF' : 'CRLF'}, key ${i % KEYS}): dkim=${auth.dkim}`)
  if (f.keep && failures.length <= 5) {
    mkdirSync(f.keep, { recursive: true })
    writeFileSync(join(f.keep, `message-${i}.eml`), signed)
    writeFileSync(join(f.keep, `message-${i}.key.pem`), key.privateKeyPem, { mode: 0o600 })
  }
}
const s = summarize(signMs)
console.log(`signed and verified: ${MESSAGES} messages over ${KEYS} keys (half bare LF, half CRLF)`)
console.log(`failed: ${failures.length} (${fmt((100 * failures.length) / MESSAGES, 2)}%)`)
for (const line of failures.slice(0, 10)) console.log(`  ${line}`)
console.log(`sign ms: p50 ${fmt(s.p50, 2)}, p99 ${fmt(s.p99, 2)}, max ${fmt(s.max, 2)}`)
process.exitCode = failures.length ? 1 : 0
