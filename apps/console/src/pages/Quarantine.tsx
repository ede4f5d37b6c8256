// Quarantine: received mail held back from agents by a policy (DESIGN section 7), oldest first
// across the tenant's inboxes, for a person to release (the agent then receives it, once) or
// delete. Each decision is in the audit log under the key that signed in.
import { useState } from 'react'
import type { Inbox, MessageSummary } from '@mailroom/sdk'
import { ActionButton, DataTable, Loaded, PageHeader, Status, Time, useAsync, useConsole, type Column } from '../ui'
import { Link } from '../router'
import { describeQuarantine } from '../components/QuarantinePolicy'

/** Inboxes looked through, and held messages read per inbox, on one load of the page. */
const MAX_INBOXES = 200
const PER_INBOX = 100

interface Held {
  inbox: Inbox
  message: MessageSummary
}

export default function Quarantine() {
  const c = useConsole()
  const [decided, setDecided] = useState<Set<string>>(new Set())
  const state = useAsync(async (signal) => {
    const held: Held[] = []
    let inboxes = 0
    let more = false
    for await (const inbox of c.api.inboxes.list({ limit: 100 }, { signal })) {
      if (++inboxes > MAX_INBOXES) {
        more = true
        break
      }
      const page = await inbox.messages.list({ quarantined: true, limit: PER_INBOX }).page({}, { signal })
      for (const message of page.data) held.push({ inbox, message })
      if (page.nextCursor) more = true
    }
    held.sort((a, b) => a.message.receivedAt.localeCompare(b.message.receivedAt) || a.message.id.localeCompare(b.message.id))
    const tenant = c.tenantId ? await c.api.tenants.get(c.tenantId, { signal }).catch(() => null) : null
    return { held, more, policy: tenant?.effectivePolicies }
  }, [c.api, c.tenantId])
  const decide = (id: string) => setDecided((d) => new Set(d).add(id))
  const columns: Column<Held>[] = [
    { header: 'Received', cell: ({ message: m }) => <Time iso={m.receivedAt} /> },
    { header: 'Inbox', className: 'break', cell: ({ inbox }) => inbox.address },
    { header: 'From', className: 'break', cell: ({ message: m }) => m.from?.address ?? '—' },
    {
      header: 'Subject',
      className: 'break',
      cell: ({ inbox, message: m }) => <Link to={`/inboxes/${inbox.id}/messages/${m.id}`}>{m.subject || '(no subject)'}</Link>,
    },
    {
      header: 'Risk',
      cell: ({ message: m }) =>
        m.security && (
          <>
            <Status value={m.security.risk} /> <span className="muted">{m.security.injectionScore.toFixed(2)}</span>
          </>
        ),
    },
    {
      header: 'Why',
      className: 'break',
      cell: ({ message: m }) => [...new Set((m.security?.signals ?? []).map((s) => s.category.replaceAll('_', ' ')))].join(', ') || (m.security?.auth.dmarc === 'fail' ? 'DMARC failed' : ''),
    },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'actions',
      cell: ({ inbox, message: m }) => (
        <>
          <ActionButton
            className="small"
            action={async () => {
              await inbox.messages.release(m.id)
              decide(m.id)
              c.notify(`Released to ${inbox.address}`)
            }}
          >
            Release
          </ActionButton>{' '}
          <ActionButton
            className="small"
            danger
            confirm={`Delete "${m.subject ?? '(no subject)'}" from ${m.from?.address ?? 'unknown sender'}? It cannot be restored.`}
            action={async () => {
              await inbox.messages.delete(m.id)
              decide(m.id)
              c.notify('Deleted')
            }}
          >
            Delete
          </ActionButton>
        </>
      ),
    },
  ]
  return (
    <>
      <PageHeader title="Quarantine" subtitle="Received mail held back from agents by a policy, oldest first. Released mail reaches the agent once; each decision is in the audit log." />
      <Loaded state={state} what="quarantined mail">
        {({ held, more, policy }) => {
          const open = held.filter((h) => !decided.has(h.message.id))
          return (
            <>
              {policy && (
                <p className="muted" data-testid="quarantine-policy">
                  Tenant-wide, mail is quarantined at: {describeQuarantine(policy.quarantine)}; an inbox may be stricter. Set it on the{' '}
                  <Link to={`/tenants/${c.tenantId}`}>tenant</Link> or in an inbox&apos;s settings.
                </p>
              )}
              {open.length === 0 ? (
                <p className="muted">Nothing is held.</p>
              ) : (
                <DataTable what="quarantined mail" columns={columns} rows={open} rowKey={(h) => h.message.id} testId="quarantine" />
              )}
              {more && <p className="muted">More is held than one page shows: decide on these, then reload.</p>}
            </>
          )
        }}
      </Loaded>
    </>
  )
}
