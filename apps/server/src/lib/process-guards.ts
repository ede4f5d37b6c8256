// The last line of defence of a running server: an error nothing caught (a rejected promise nobody
// awaited, an exception thrown from a timer or a driver's callback) is logged and counted, and the
// process goes on serving. Without this, Node ends the process, and every tenant's mail with it,
// for one bad moment of one component (postgres.js 3.4.9 threw from a setImmediate when a database
// connection dropped; see patches/). The causes found are fixed where they arise; this keeps the
// ones not yet found from being fatal.
import type { Logger } from './log.js'

export function guardProcess(log: Logger, count?: (kind: 'uncaught_exception' | 'unhandled_rejection') => void): () => void {
  const onRejection = (reason: unknown) => {
    count?.('unhandled_rejection')
    log.error('unhandled promise rejection (logged, the process goes on)', { err: (reason as Error)?.stack ?? String(reason) })
  }
  const onException = (err: Error, origin: string) => {
    count?.('uncaught_exception')
    log.error('uncaught exception (logged, the process goes on)', { origin, err: err?.stack ?? String(err) })
  }
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  return () => {
    process.off('unhandledRejection', onRejection)
    process.off('uncaughtException', onException)
  }
}
