// One inbox: its mail (newest first, filters, search by whole words, read state and labels, new
// mail appearing live from the event stream), its threads, its contacts, its inbox keys (minted and
// shown once, revoked) and its settings, limits and policies.
import { useEffect, useMemo, useRef, useState } from 'react'
import type { ApiKey, Contact, CreatedApiKey, Inbox as InboxT, InboxLimits, MessageListParams, MessageSummary, Thread as ThreadT } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Badge, Field, Loaded, PageHeader, PagedTable, Pager, SecretOnce, Status, Time, formatBytes, optionalInt, optionalText, text, useAsync, usePager, useConsole, type Column } from '../ui'
import { QuarantinePolicyCard } from '../components/QuarantinePolicy'
import { Link, navigate, useLocation, useParams } from '../router'
import { onEventsConnected } from '../api'

const TABS = ['mail', 'threads', 'contacts', 'keys', 'settings'] as const
type Tab = (typeof TABS)[number]
const TAB_LABELS: Record<Tab, string> = { mail: 'Mail', threads: 'Threads', contacts: 'Contacts', keys: 'Inbox keys', settings: 'Settings' }

export default function Inbox() {
  const c = useConsole()
  const { inboxId } = useParams()
  const loc = useLocation()
  const tab: Tab = (TABS as readonly string[]).includes(loc.search.get('tab') ?? '') ? (loc.search.get('tab') as Tab) : 'mail'
  const state = useAsync((signal) => c.api.inboxes.get(inboxId!, { signal }), [c.api, inboxId])
  return (
    <Loaded state={state} what="inbox">
      {(inbox) => (
        <>
          <PageHeader title={inbox.address} subtitle={inbox.displayName ?? <code>{inbox.id}</code>} />
          <div role="tablist" aria-label="Inbox sections" className="tabs">
            {TABS.map((t) => (
              <button
                key={t}
                role="tab"
                type="button"
                id={`tab-${t}`}
                aria-selected={tab === t}
                aria-controls={`panel-${t}`}
                tabIndex={tab === t ? 0 : -1}
                onClick={() => navigate(`/inboxes/${inbox.id}${t === 'mail' ? '' : `?tab=${t}`}`, { replace: true })}
                onKeyDown={(e) => {
                  const i = TABS.indexOf(tab)
                  const next = e.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : e.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : null
                  if (next) {
                    navigate(`/inboxes/${inbox.id}${next === 'mail' ? '' : `?tab=${next}`}`, { replace: true })
                    requestAnimationFrame(() => document.getElementById(`tab-${next}`)?.focus())
                  }
                }}
              >
                {TAB_LABELS[t]}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === 'mail' && <Mail inbox={inbox} />}
            {tab === 'threads' && <Threads inbox={inbox} />}
            {tab === 'contacts' && <Contacts inbox={inbox} />}
            {tab === 'keys' && <Keys inbox={inbox} />}
            {tab === 'settings' && <Settings inbox={inbox} onChanged={state.reload} />}
          </div>
        </>
      )}
    </Loaded>
  )
}

interface Filters {
  /** Whole words: the inbox's search (a blind index), not the list. */
  q?: string | undefined
  label?: string | undefined
  unread?: boolean | undefined
  from?: string | undefined
  to?: string | undefined
  subject?: string | undefined
  direction?: 'inbound' | 'outbound' | undefined
  hasAttachments?: boolean | undefined
}

function Mail({ inbox }: { inbox: InboxT }) {
  const c = useConsole()
  const [filters, setFilters] = useState<Filters>({})
  const params: MessageListParams & { q?: string | undefined } = useMemo(() => ({ limit: 50, ...filters }), [filters])
  const pager = usePager(
    (after, signal) =>
      params.q
        ? inbox.messages.search({ q: params.q, limit: 50, from: params.from, to: params.to, label: params.label, unread: params.unread }).page({ after }, { signal })
        : inbox.messages.list(params).page({ after }, { signal }),
    [inbox, params],
  )
  const counts = useAsync((signal) => inbox.counts({ signal }), [inbox, pager.data])
  const [arrived, setArrived] = useState<MessageSummary[]>([])
  const [waiting, setWaiting] = useState(0)
  const [live, setLive] = useState<'connecting' | 'live' | 'off'>('connecting')
  const unfiltered = Object.values(filters).every((v) => v === undefined)
  const onFirstPage = pager.pageNumber === 1

  useEffect(() => setArrived([]), [params])
  // Read by the stream's loop without restarting it on every page turn.
  const showLive = useRef(true)
  showLive.current = unfiltered && onFirstPage

  // New mail from the event stream: shown at the top of the first unfiltered page, counted otherwise.
  // Each time the stream (re)connects the page is read again, so mail that arrived before the
  // stream's starting point is listed and mail after it is streamed: nothing falls in between.
  const reload = pager.reload
  useEffect(() => {
    const ctrl = new AbortController()
    const offConnected = onEventsConnected(() => {
      setLive('live')
      reload()
    })
    void (async () => {
      try {
        for await (const ev of c.api.events.stream({ signal: ctrl.signal })) {
          if (ev.inboxId !== inbox.id) continue
          if (ev.type !== 'message.received' && ev.type !== 'message.queued') continue
          const msg = (ev.data as { message?: MessageSummary }).message
          if (!msg) continue
          if (showLive.current) setArrived((a) => (a.some((m) => m.id === msg.id) ? a : [msg, ...a]))
          else setWaiting((n) => n + 1)
        }
      } catch {
        if (!ctrl.signal.aborted) setLive('off')
      }
    })()
    return () => {
      offConnected()
      ctrl.abort()
    }
  }, [c.api, inbox.id, reload])

  return (
    <>
      <details className="filter-box">
        <summary>Filters{unfiltered ? '' : ' (active)'}</summary>
      <AsyncForm
        label="Filter messages"
        className="filters"
        onSubmit={async (f) => {
          const dir = text(f, 'direction')
          const att = text(f, 'hasAttachments')
          const unread = text(f, 'unread')
          setWaiting(0)
          setFilters({
            q: optionalText(f, 'q'),
            label: optionalText(f, 'label')?.toLowerCase(),
            unread: unread === 'yes' ? true : undefined,
            from: optionalText(f, 'from'),
            to: optionalText(f, 'to'),
            subject: optionalText(f, 'subject'),
            direction: dir === 'inbound' || dir === 'outbound' ? dir : undefined,
            hasAttachments: att === 'yes' ? true : att === 'no' ? false : undefined,
          })
        }}
      >
        <Field label="Words" hint="Whole words of subject, text, names and addresses">
          {(id) => <input id={id} name="q" type="search" placeholder="invoice overdue" maxLength={500} />}
        </Field>
        <Field label="Label">{(id) => <input id={id} name="label" placeholder="needs_reply" maxLength={40} />}</Field>
        <Field label="Read state">
          {(id) => (
            <select id={id} name="unread" defaultValue="">
              <option value="">Any</option>
              <option value="yes">Unread only</option>
            </select>
          )}
        </Field>
        <Field label="From">{(id) => <input id={id} name="from" type="email" placeholder="sender@example.com" />}</Field>
        <Field label="To">{(id) => <input id={id} name="to" type="email" />}</Field>
        <Field label="Subject contains">{(id) => <input id={id} name="subject" />}</Field>
        <Field label="Direction">
          {(id) => (
            <select id={id} name="direction" defaultValue="">
              <option value="">Any</option>
              <option value="inbound">Received</option>
              <option value="outbound">Sent</option>
            </select>
          )}
        </Field>
        <Field label="Attachments">
          {(id) => (
            <select id={id} name="hasAttachments" defaultValue="">
              <option value="">Any</option>
              <option value="yes">With</option>
              <option value="no">Without</option>
            </select>
          )}
        </Field>
        <div className="row">
          <button type="submit">Filter</button>
          <button
            type="reset"
            onClick={() => {
              setWaiting(0)
              setFilters({})
            }}
          >
            Clear
          </button>
        </div>
      </AsyncForm>
      </details>
      <p className="live" role="status" data-testid="live-state">
        <span className={`dot ${live}`} aria-hidden="true" /> {live === 'live' ? 'Live: new mail appears here' : live === 'off' ? 'Live updates stopped (reload to retry)' : 'Connecting…'}
        {waiting > 0 && (
          <button
            type="button"
            className="small"
            onClick={() => {
              setWaiting(0)
              pager.first()
              pager.reload()
            }}
          >
            {waiting} new — show
          </button>
        )}
      </p>
      {counts.data && (
        <p className="muted small" data-testid="counts">
          {counts.data.total} messages, {counts.data.unread} unread
          {counts.data.labels.map((l) => (
            <span key={l.label}>
              {' · '}
              <button type="button" className="link" onClick={() => setFilters({ label: l.label })}>
                {l.label}
              </button>{' '}
              {l.total}
              {l.unread > 0 ? ` (${l.unread} unread)` : ''}
            </span>
          ))}
        </p>
      )}
      <Loaded state={pager} what="messages">
        {(page) => {
          const rows = [...arrived.filter((a) => !page.data.some((m) => m.id === a.id)), ...page.data]
          return rows.length === 0 && pager.pageNumber === 1 ? (
            <p className="muted">{unfiltered ? `No mail yet. Send some to ${inbox.address}.` : 'No messages match these filters.'}</p>
          ) : (
            <>
              <MessageTable inboxId={inbox.id} rows={rows} fresh={new Set(arrived.map((a) => a.id))} />
              <Pager label="Messages" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
            </>
          )
        }}
      </Loaded>
    </>
  )
}

/** Received mail nobody marked read (sent mail is never unread). */
const unreadOf = (m: MessageSummary) => m.direction === 'inbound' && !m.seenAt

export function MessageTable({ inboxId, rows, fresh }: { inboxId: string; rows: MessageSummary[]; fresh?: Set<string> }) {
  return (
    <div className="table-wrap">
      <table className="messages" data-testid="messages">
        <caption className="visually-hidden">Messages, newest first</caption>
        <thead>
          <tr>
            <th scope="col">From / to</th>
            <th scope="col">Subject</th>
            <th scope="col">Status</th>
            <th scope="col">Received</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((m) => (
            <tr key={m.id} className={[fresh?.has(m.id) ? 'fresh' : '', unreadOf(m) ? 'unread' : ''].join(' ').trim() || undefined}>
              <td className="who-cell">
                {m.direction === 'outbound' ? (
                  <span>
                    <span className="muted">to </span>
                    {m.to.map((a) => a.address).join(', ')}
                  </span>
                ) : (
                  (m.from?.name ?? m.from?.address ?? <span className="muted">(no sender)</span>)
                )}
              </td>
              <td>
                {unreadOf(m) && <span className="visually-hidden">Unread: </span>}
                <Link to={`/inboxes/${inboxId}/messages/${m.id}`}>{m.subject || <span className="muted">(no subject)</span>}</Link>
                {(m.labels ?? []).map((l) => (
                  <Badge key={l} tone="info">
                    {l}
                  </Badge>
                ))}
                {m.attachments.length > 0 && (
                  <span className="muted small">
                    {' '}
                    · {m.attachments.length} attachment{m.attachments.length > 1 ? 's' : ''}
                  </span>
                )}
                {m.preview && <div className="preview muted">{m.preview}</div>}
              </td>
              <td>
                <Status value={m.status} />
                {m.parseStatus === 'failed' && <Badge tone="bad">unparsed</Badge>}
              </td>
              <td className="nowrap">
                <Time iso={m.receivedAt} />
                <div className="muted small">{formatBytes(m.size)}</div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

const THREAD_COLUMNS = (inboxId: string): Column<ThreadT>[] => [
  { header: 'Subject', cell: (t) => <Link to={`/inboxes/${inboxId}/threads/${t.id}`}>{t.subject || '(no subject)'}</Link> },
  { header: 'Messages', cell: (t) => t.messageCount },
  { header: 'Last message', cell: (t) => <Time iso={t.lastMessageAt} /> },
]

function Threads({ inbox }: { inbox: InboxT }) {
  const pager = usePager((after, signal) => inbox.threads.list({ limit: 50 }).page({ after }, { signal }), [inbox])
  return <PagedTable pager={pager} what="threads" columns={THREAD_COLUMNS(inbox.id)} rowKey={(t) => t.id} empty="No threads yet." />
}

function Contacts({ inbox }: { inbox: InboxT }) {
  const c = useConsole()
  const [q, setQ] = useState<string | undefined>(undefined)
  const pager = usePager((after, signal) => inbox.contacts.list({ q, limit: 50 }).page({ after }, { signal }), [inbox, q])
  const columns: Column<Contact>[] = [
    {
      header: 'Contact',
      className: 'break',
      cell: (x) => (
        <>
          {x.name && <div>{x.name}</div>}
          <code className="small">{x.address}</code> {x.blocked && <Badge tone="bad">blocked</Badge>}
          {x.tags.map((t) => (
            <Badge key={t} tone="info">
              {t}
            </Badge>
          ))}
          {x.notes && <div className="muted small">{x.notes}</div>}
        </>
      ),
    },
    { header: 'Received', cell: (x) => x.receivedCount },
    { header: 'Sent', cell: (x) => x.sentCount },
    { header: 'First contact', className: 'nowrap', cell: (x) => <Time iso={x.firstContactAt} /> },
    { header: 'Last contact', className: 'nowrap', cell: (x) => <Time iso={x.lastContactAt} /> },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (x) => (
        <ActionButton
          className="small"
          action={async () => {
            await inbox.contacts.update(x.id, { blocked: !x.blocked })
            c.notify(x.blocked ? `${x.address} unblocked` : `${x.address} marked blocked`)
            pager.reload()
          }}
        >
          {x.blocked ? 'Unblock' : 'Mark blocked'}
        </ActionButton>
      ),
    },
  ]
  return (
    <>
      <AsyncForm label="Find contacts" className="inline-form" onSubmit={async (f) => setQ(optionalText(f, 'q'))}>
        <Field label="Find">{(id) => <input id={id} name="q" type="search" placeholder="name or address" maxLength={200} />}</Field>
        <button type="submit">Find</button>
      </AsyncForm>
      <PagedTable pager={pager} what="contacts" columns={columns} rowKey={(x) => x.id} empty="Nobody yet: contacts are kept from the mail this inbox receives and sends." testId="contacts" />
    </>
  )
}

function Keys({ inbox }: { inbox: InboxT }) {
  const c = useConsole()
  const [created, setCreated] = useState<CreatedApiKey | null>(null)
  const keys = useAsync(async () => {
    const found: ApiKey[] = []
    for await (const k of c.api.apiKeys.list({ limit: 100 })) {
      if (k.inboxId === inbox.id) found.push(k)
      if (found.length >= 200) break
    }
    return found
  }, [c.api, inbox.id])
  return (
    <>
      {created && <SecretOnce title={`Inbox key ${created.name ?? created.id}:`} value={created.key} onDone={() => setCreated(null)} />}
      <section className="card" aria-labelledby="mint-h">
        <h2 id="mint-h">Mint an inbox key</h2>
        <p className="muted">An inbox key reads this inbox&apos;s mail and sends as it, nothing else. Give it to the agent.</p>
        <AsyncForm
          label="Mint inbox key"
          className="inline-form"
          onSubmit={async (f) => {
            const key = await c.api.apiKeys.create({ scope: 'inbox', inboxId: inbox.id, name: optionalText(f, 'name') })
            setCreated(key)
            keys.reload()
          }}
        >
          <Field label="Name">{(id) => <input id={id} name="name" maxLength={200} placeholder="e.g. support agent" />}</Field>
          <button type="submit" className="primary">
            Mint key
          </button>
        </AsyncForm>
      </section>
      <Loaded state={keys} what="keys">
        {(list) => (list.length === 0 ? <p className="muted">No inbox keys.</p> : <KeyTable keys={list} onChanged={keys.reload} />)}
      </Loaded>
    </>
  )
}

export function KeyTable({ keys, onChanged }: { keys: ApiKey[]; onChanged: () => void }) {
  const c = useConsole()
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Scope</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const expired = k.expiresAt !== null && Date.parse(k.expiresAt) <= Date.now()
            return (
              <tr key={k.id}>
                <td>{k.name ?? <span className="muted">—</span>}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.scope}</td>
                <td>
                  <Time iso={k.lastUsedAt} />
                </td>
                <td>{k.revokedAt ? <Status value="revoked" /> : expired ? <Badge tone="bad">expired</Badge> : <Badge tone="ok">active</Badge>}</td>
                <td>
                  {!k.revokedAt && (
                    <ActionButton
                      className="small"
                      danger
                      confirm={`Revoke key ${k.name ?? k.prefix}? Whatever uses it stops working at once${k.id === c.session.keyId ? ', including this console session' : ''}.`}
                      action={async () => {
                        await c.api.apiKeys.revoke(k.id)
                        c.notify('Key revoked')
                        onChanged()
                      }}
                    >
                      Revoke
                    </ActionButton>
                  )}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

const INBOX_LIMITS: { key: keyof InboxLimits; label: string }[] = [
  { key: 'sendPerMinute', label: 'Sends per minute' },
  { key: 'sendPerDay', label: 'Sends per day' },
  { key: 'receivePerMinute', label: 'Received per minute' },
  { key: 'retentionDays', label: 'Keep mail for (days)' },
  { key: 'apiRequestsPerSecond', label: 'API requests per second (its keys)' },
  { key: 'apiBurst', label: 'API burst (its keys)' },
]

function Settings({ inbox, onChanged }: { inbox: InboxT; onChanged: () => void }) {
  const c = useConsole()
  const limits = useAsync((signal) => c.api.inboxes.getLimits(inbox.id, { signal }), [c.api, inbox.id])
  return (
    <>
      <section className="card" aria-labelledby="inbox-name-h">
        <h2 id="inbox-name-h">Display name</h2>
        <AsyncForm
          label="Display name"
          className="inline-form"
          onSubmit={async (f) => {
            await c.api.inboxes.update(inbox.id, { displayName: optionalText(f, 'displayName') ?? null })
            c.notify('Saved')
            onChanged()
          }}
        >
          <Field label="Display name">{(id) => <input id={id} name="displayName" defaultValue={inbox.displayName ?? ''} maxLength={200} />}</Field>
          <button type="submit">Save</button>
        </AsyncForm>
      </section>
      <section className="card" aria-labelledby="inbox-limits-h">
        <h2 id="inbox-limits-h">Limits</h2>
        <Loaded state={limits} what="limits">
          {(l) => (
            <AsyncForm
              label="Inbox limits"
              onSubmit={async (f) => {
                const next: Record<string, number | null> = {}
                for (const x of INBOX_LIMITS) next[x.key] = optionalInt(f, x.key)
                limits.set(await c.api.inboxes.setLimits(inbox.id, next as InboxLimits))
                c.notify('Limits saved')
              }}
            >
              <div className="grid-fields">
                {INBOX_LIMITS.map((x) => (
                  <Field key={x.key} label={x.label} hint={l.effective[x.key] != null ? `In effect: ${l.effective[x.key]}` : 'In effect: none'}>
                    {(id) => <input id={id} name={x.key} type="number" min={0} inputMode="numeric" defaultValue={l.limits[x.key] ?? ''} placeholder="none" />}
                  </Field>
                ))}
              </div>
              <button type="submit" className="primary">
                Save limits
              </button>
            </AsyncForm>
          )}
        </Loaded>
      </section>
      <QuarantinePolicyCard
        id="inbox-quarantine"
        editing={inbox.policies}
        effective={inbox.effectivePolicies}
        note="This inbox's own policy. Its tenant's (and what is imposed on the tenant) still applies: the strictest wins."
        save={async (policies) => {
          await c.api.inboxes.update(inbox.id, { policies })
          c.notify('Policy saved')
          onChanged()
        }}
      />
      <section className="card danger-zone" aria-labelledby="inbox-delete-h">
        <h2 id="inbox-delete-h">Delete</h2>
        <p>Deleting the inbox deletes its mail and its keys; its address stops receiving.</p>
        <ActionButton
          danger
          confirm={`Delete ${inbox.address} with all its mail and keys? This cannot be undone.`}
          action={async () => {
            await c.api.inboxes.delete(inbox.id)
            c.notify(`${inbox.address} deleted`)
            navigate('/inboxes')
          }}
        >
          Delete inbox
        </ActionButton>
      </section>
    </>
  )
}

