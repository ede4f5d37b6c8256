// JSON logs through pino, one line per event on stderr. Callers write `log.info(msg, fields)`; a
// child logger carries fields every line of a request repeats (request id, tenant).
import pino from 'pino'

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /** A logger whose every line also carries `bindings`. */
  child(bindings: Record<string, unknown>): Logger
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (bindings) => wrap(p.child(bindings)),
  }
}

/**
 * A logger at `level`. `write` receives each line (tests); by default lines go to stderr,
 * synchronously, so the last lines before a crash are not lost in a buffer.
 */
export function createLogger(level: Level, write?: (line: string) => void): Logger {
  const destination = write ? { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) } : pino.destination({ dest: 2, sync: true })
  return wrap(
    pino(
      {
        level,
        base: { pid: process.pid },
        timestamp: pino.stdTimeFunctions.isoTime,
        messageKey: 'msg',
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    ),
  )
}

export const silentLogger: Logger = createLogger('silent')
