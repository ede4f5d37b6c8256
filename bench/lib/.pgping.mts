import postgres from 'postgres'
import { performance } from 'node:perf_hooks'
const sql = postgres('postgres://postgres@127.0.0.1:5432/postgres', { max: 10, onnotice: () => {} })
await sql`select 1`
for (const conc of [1, 10]) {
  const N = 20000
  const cpu0 = process.cpuUsage(); const elu0 = performance.eventLoopUtilization(); const t0 = performance.now()
  let i = 0
  await Promise.all(Array.from({ length: conc }, async () => { while (i++ < N) await sql`select ${i}::int as x` }))
  const wall = performance.now() - t0; const c = process.cpuUsage(cpu0)
  console.log(`conc ${conc}: ${(N / wall * 1000).toFixed(0)} q/s, client CPU ${((c.user + c.system) / N).toFixed(1)} us/query (sys ${(c.system / N).toFixed(1)}), ELU ${(performance.eventLoopUtilization(elu0).utilization*100).toFixed(0)}%`)
}
await sql.end()
