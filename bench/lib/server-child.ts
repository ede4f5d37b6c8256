// The server process of the latency and memory benchmarks: what `mailroom start` does (config from
// the environment, startMailroom), plus an IPC line to the bench for its stats.
import { writeHeapSnapshot } from 'node:v8'
import { loadConfig } from '../../apps/server/src/config.js'
import { startMailroom } from '../../apps/server/src/server.js'
import { applyServerV8Flags } from '../../apps/server/src/lib/v8-flags.js'
import { guardProcess } from '../../apps/server/src/lib/process-guards.js'

// As `mailroom start` does, under tsx and compiled alike.
applyServerV8Flags()
const running = await startMailroom({ config: loadConfig(), print: () => {} })
guardProcess(running.deps.log, (kind) => running.deps.metrics.processErrors.inc({ kind }))

process.on('message', (m: any) => {
  // Diagnosis: a heap snapshot of the server, written where the bench asks.
  if (m?.type === 'heapsnapshot') {
    ;(globalThis as { gc?: () => void }).gc?.()
    process.send!({ type: 'heapsnapshot', id: m.id, file: writeHeapSnapshot(m.file) })
    return
  }
  if (m?.type !== 'stats') return
  // --expose-gc is on: a full collection first tells retained memory from garbage not yet collected.
  if (m.gc) (globalThis as { gc?: () => void }).gc?.()
  const mem = process.memoryUsage()
  process.send!({
    type: 'stats',
    id: m.id,
    stats: {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      waiters: running.deps.hub.waiterCount,
    },
  })
})

const stop = async () => {
  await running.stop()
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
// The bench went away without stopping us: stop too.
process.once('disconnect', () => void stop())

process.send!({ type: 'ready', httpPort: running.httpPort, smtpPort: running.smtpPort })
