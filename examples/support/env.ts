// Where the examples find a local Mailroom: the same environment variables `pnpm start` reads, so
// an example run beside a server started with other ports (or another host) reaches it without edits.
import { Mailroom } from '@mailroom/sdk'

const host = () => process.env.MAILROOM_HOST?.trim() || '127.0.0.1'
const port = (name: string, fallback: number) => {
  const value = Number(process.env[name]?.trim() || fallback)
  if (!Number.isInteger(value) || value <= 0 || value > 65535) throw new Error(`${name} must be a port number, got ${process.env[name]}`)
  return value
}

/**
 * The HTTP API: MAILROOM_BASE_URL, else MAILROOM_HOST and MAILROOM_HTTP_PORT (127.0.0.1:3000).
 *
 * @example
 * localBaseUrl() // 'http://127.0.0.1:3000', or what MAILROOM_BASE_URL / MAILROOM_HTTP_PORT say
 */
export function localBaseUrl(): string {
  return process.env.MAILROOM_BASE_URL?.trim() || `http://${host()}:${port('MAILROOM_HTTP_PORT', 3000)}`
}

/**
 * The SMTP door: MAILROOM_HOST and MAILROOM_SMTP_PORT (127.0.0.1:2525).
 *
 * @example
 * const { host, port } = localSmtp()
 */
export function localSmtp(): { host: string; port: number } {
  return { host: host(), port: port('MAILROOM_SMTP_PORT', 2525) }
}

/**
 * A client for the examples: MAILROOM_API_KEY, and the local server's address from the environment.
 *
 * @example
 * const mailroom = mailroomFromEnv()
 */
export function mailroomFromEnv(): Mailroom {
  return new Mailroom({ baseUrl: localBaseUrl() })
}
