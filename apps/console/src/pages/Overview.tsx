// Overview: the last 30 days of usage as charts, quotas against their limits, sending state.
import { useMemo } from 'react'
import type { SendingState, Tenant, UsageReport } from '@mailroom/sdk'
import { DailyChart, type Series } from '../Chart'
import { Badge, Loaded, PageHeader, formatBytes, useAsync, useConsole } from '../ui'
import { Link } from '../router'

const DAYS = 30
const isoDay = (d: Date) => d.toISOString().slice(0, 10)
const count = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1)}k` : String(Math.round(n)))

interface OverviewData {
  tenant: Tenant
  usage: UsageReport
  sending: SendingState | null
  inboxes: { count: number; more: boolean }
}

export default function Overview() {
  const { api, tenantId } = useConsole()
  const state = useAsync<OverviewData>(async (signal) => {
    const to = new Date()
    const from = new Date(to.getTime() - (DAYS - 1) * 86_400_000)
    const [tenant, usage, sending, inboxes] = await Promise.all([
      api.tenants.get(tenantId!, { signal }),
      api.usage.get({ from: isoDay(from), to: isoDay(to), groupBy: 'day' }, { signal }),
      api.tenants.sending(tenantId!, { signal }).catch(() => null),
      api.inboxes.list({ limit: 100 }).page({}, { signal }),
    ])
    return { tenant, usage, sending, inboxes: { count: inboxes.data.length, more: inboxes.nextCursor !== null } }
  }, [api, tenantId])

  return (
    <>
      <PageHeader title="Overview" subtitle="The last 30 days of this tenant and its descendants (UTC days)." />
      <Loaded state={state} what="overview">
        {(d) => <OverviewBody data={d} />}
      </Loaded>
    </>
  )
}

function OverviewBody({ data }: { data: OverviewData }) {
  const { usage, tenant, sending, inboxes } = data
  const series = useMemo(() => {
    const byDay = new Map(usage.data.map((r) => [r.day ?? '', r]))
    const days: string[] = []
    for (let t = Date.parse(`${usage.from}T00:00:00Z`); t <= Date.parse(`${usage.to}T00:00:00Z`); t += 86_400_000) days.push(isoDay(new Date(t)))
    const pick = (k: 'messagesReceived' | 'messagesSent' | 'apiRequests' | 'bytesStored'): Series => ({ days, values: days.map((d) => byDay.get(d)?.[k] ?? 0) })
    return { received: pick('messagesReceived'), sent: pick('messagesSent'), api: pick('apiRequests'), stored: pick('bytesStored') }
  }, [usage])
  const today = series.received.days.length - 1
  const storedNow = usage.total.bytesStored
  const limits = tenant.limits
  const quotas: { label: string; used: number; limit: number | null | undefined; format: (n: number) => string }[] = [
    { label: 'Stored mail', used: storedNow, limit: limits.maxStoredBytes, format: formatBytes },
    { label: 'Received today', used: series.received.values[today] ?? 0, limit: limits.maxMessagesPerDay, format: count },
    { label: 'Sent today', used: series.sent.values[today] ?? 0, limit: limits.sendPerDay, format: count },
    { label: 'Inboxes', used: inboxes.count, limit: limits.maxInboxes, format: (n) => (inboxes.more ? `${n}+` : String(n)) },
  ]
  return (
    <>
      <section aria-labelledby="usage-h">
        <h2 id="usage-h">Usage</h2>
        <div className="charts">
          <DailyChart title="Received" series={series.received} format={count} color="#2f6feb" />
          <DailyChart title="Sent" series={series.sent} format={count} color="#1a7f37" />
          <DailyChart title="API requests" series={series.api} format={count} color="#8250df" />
          <DailyChart title="Bytes stored" series={series.stored} format={formatBytes} color="#bc4c00" bytes />
        </div>
      </section>
      <div className="two-col">
        <section aria-labelledby="quota-h" className="card">
          <h2 id="quota-h">Quotas</h2>
          <ul className="quotas">
            {quotas.map((q) => (
              <li key={q.label}>
                <div className="row spread">
                  <span>{q.label}</span>
                  <span>
                    {q.format(q.used)} {q.limit != null ? `of ${q.format(q.limit)}` : <span className="muted">(no limit of its own)</span>}
                  </span>
                </div>
                {q.limit != null && q.limit > 0 && (
                  <progress max={q.limit} value={Math.min(q.used, q.limit)} aria-label={`${q.label}: ${q.format(q.used)} of ${q.format(q.limit)}`} />
                )}
              </li>
            ))}
          </ul>
          <p className="muted small">
            Limits of this tenant; a parent&apos;s lower limit binds it too. <Link to={`/tenants/${tenant.id}`}>Tenant settings</Link>
          </p>
        </section>
        <section aria-labelledby="sending-h" className="card">
          <h2 id="sending-h">Sending</h2>
          {sending ? (
            <dl className="facts">
              <dt>State</dt>
              <dd>
                {sending.paused ? <Badge tone="bad">paused</Badge> : <Badge tone="ok">sending</Badge>} {sending.pausedReason}
              </dd>
              <dt>Bounce rate</dt>
              <dd>{(sending.bounceRate * 100).toFixed(2)}%</dd>
              <dt>Complaint rate</dt>
              <dd>{(sending.complaintRate * 100).toFixed(3)}%</dd>
              <dt>External sends in window</dt>
              <dd>{sending.windowSends}</dd>
              <dt>IP pool</dt>
              <dd>{sending.ipPool}</dd>
            </dl>
          ) : (
            <p className="muted">The sending state is not readable with this key.</p>
          )}
        </section>
      </div>
    </>
  )
}
