import postgres from 'postgres'
const url='postgres://postgres@127.0.0.1:5432/postgres'
const client = postgres(url, { max: 1, onnotice: () => {} })
const admin = postgres(url, { max: 1, onnotice: () => {} })
await client`create table if not exists tx_probe (n int)`
const [{ pid }] = await client`select pg_backend_pid() as pid`
await admin`select pg_terminate_backend(${pid})`
let inside = 0
try {
const err = await client.begin(async (tx) => { inside++; console.log('inside'); await tx`insert into tx_probe values (1)` }).catch((e) => e)
console.log('err', err?.code, err?.message, err?.transactionNotBegun, inside)
console.log(await client`select count(*)::int as n from tx_probe`)
} catch (e) { console.log('THROWN', e) }
await client`drop table tx_probe`
await client.end(); await admin.end()
