// One message: who, what, headers, authentication results, the risk verdict when the message
// carries one, attachments, the raw download, the delivery state of sent mail per recipient, and
// the body (HTML in a sandboxed frame, see mail-frame.ts).
import { useEffect, useMemo, useState } from 'react'
import type { Delivery, EmailAddress, Inbox, Message as MessageT, Security } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Badge, Field, Loaded, PageHeader, Status, Time, formatBytes, text, useAsync, useConsole } from '../ui'
import { Link, navigate, useParams } from '../router'
import { MAIL_SANDBOX, cleanMail } from '../mail-frame'

interface Loaded_ {
  inbox: Inbox
  message: MessageT
  deliveries: Delivery[] | null
}

export default function Message() {
  const c = useConsole()
  const { inboxId, messageId } = useParams()
  const state = useAsync<Loaded_>(async (signal) => {
    const inbox = await c.api.inboxes.get(inboxId!, { signal })
    const message = await inbox.messages.get(messageId!, { signal })
    const deliveries = message.direction === 'outbound' ? await inbox.messages.deliveries(messageId!, { signal }) : null
    return { inbox, message, deliveries }
  }, [c.api, inboxId, messageId])
  return (
    <Loaded state={state} what="message">
      {(d) => <MessageBody {...d} onChange={(message) => state.set({ ...d, message })} />}
    </Loaded>
  )
}

const addr = (a: EmailAddress) => (a.name ? `${a.name} <${a.address}>` : a.address)
const addrs = (list: EmailAddress[]) => (list.length ? list.map(addr).join(', ') : '—')

function download(bytes: Uint8Array, filename: string, type: string) {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

function MessageBody({ inbox, message: m, deliveries, onChange }: Loaded_ & { onChange: (m: MessageT) => void }) {
  const c = useConsole()
  const security = m.security
  return (
    <>
      <PageHeader title={m.subject || '(no subject)'} subtitle={<Link to={`/inboxes/${inbox.id}`}>← {inbox.address}</Link>}>
        <ActionButton
          action={async () => download(await inbox.messages.raw(m.id), `${m.id}.eml`, 'message/rfc822')}
          title="The message exactly as received (.eml)"
        >
          Download raw
        </ActionButton>
        {m.direction === 'inbound' && (
          <ActionButton
            action={async () => {
              onChange(await (m.seenAt ? inbox.messages.markUnread(m.id) : inbox.messages.markRead(m.id)))
              c.notify(m.seenAt ? 'Marked unread' : 'Marked read')
            }}
          >
            {m.seenAt ? 'Mark unread' : 'Mark read'}
          </ActionButton>
        )}
        {security?.quarantined && (
          <ActionButton
            action={async () => {
              await inbox.messages.release(m.id)
              c.notify('Released: the agent receives it now (recorded in the audit log)')
              navigate(`/inboxes/${inbox.id}`)
            }}
          >
            Release to the agent
          </ActionButton>
        )}
        <ActionButton
          danger
          confirm="Delete this message? It cannot be restored."
          action={async () => {
            await inbox.messages.delete(m.id)
            c.notify('Message deleted')
            navigate(`/inboxes/${inbox.id}`)
          }}
        >
          Delete
        </ActionButton>
      </PageHeader>
      <div className="two-col">
        <section className="card" aria-labelledby="msg-facts-h">
          <h2 id="msg-facts-h">Message</h2>
          <dl className="facts">
            <dt>From</dt>
            <dd>{m.from ? addr(m.from) : '—'}</dd>
            <dt>Labels</dt>
            <dd data-testid="labels">
              {m.labels.map((l) => (
                <span key={l} className="label-chip">
                  <Badge tone="info">{l}</Badge>
                  <ActionButton
                    className="small"
                    title={`Remove the label ${l}`}
                    action={async () => {
                      onChange(await inbox.messages.unlabel(m.id, l))
                    }}
                  >
                    <span aria-hidden="true">×</span>
                    <span className="visually-hidden">Remove {l}</span>
                  </ActionButton>
                </span>
              ))}
              <AsyncForm
                label="Label this message"
                className="inline-form"
                onSubmit={async (f) => {
                  onChange(await inbox.messages.label(m.id, text(f, 'label').toLowerCase()))
                }}
              >
                <Field label="Add a label">{(id) => <input id={id} name="label" required maxLength={40} pattern="[A-Za-z0-9_.:/-]+" placeholder="needs_reply" />}</Field>
                <button type="submit" className="small">
                  Add
                </button>
              </AsyncForm>
            </dd>
            <dt>To</dt>
            <dd>{addrs(m.to)}</dd>
            {m.cc.length > 0 && (
              <>
                <dt>Cc</dt>
                <dd>{addrs(m.cc)}</dd>
              </>
            )}
            {m.replyTo.length > 0 && (
              <>
                <dt>Reply-To</dt>
                <dd>{addrs(m.replyTo)}</dd>
              </>
            )}
            <dt>Date</dt>
            <dd>
              <Time iso={m.date} />
            </dd>
            <dt>Received</dt>
            <dd>
              <Time iso={m.receivedAt} />
            </dd>
            <dt>Status</dt>
            <dd>
              <Status value={m.status} /> {m.direction === 'inbound' ? 'incoming' : 'outgoing'} · {formatBytes(m.size)}
            </dd>
            <dt>Message-ID</dt>
            <dd>
              <code className="break">{m.messageId ?? '—'}</code>
            </dd>
            {m.threadId && (
              <>
                <dt>Thread</dt>
                <dd>
                  <Link to={`/inboxes/${inbox.id}/threads/${m.threadId}`}>Open the thread</Link>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="msg-auth-h">
          <h2 id="msg-auth-h">Authentication</h2>
          {m.authentication ? (
            <dl className="facts">
              <dt>SPF</dt>
              <dd>
                <Status value={m.authentication.spf} />
              </dd>
              <dt>DKIM</dt>
              <dd>
                <Status value={m.authentication.dkim} />
              </dd>
              <dt>DMARC</dt>
              <dd>
                <Status value={m.authentication.dmarc} />
              </dd>
            </dl>
          ) : (
            <p className="muted">{m.direction === 'outbound' ? 'Sent from here: signed when it leaves.' : 'Not checked.'}</p>
          )}
          {security && <SecurityVerdict s={security} />}
        </section>
      </div>
      {m.parseStatus === 'failed' && (
        <div className="notice error" role="alert">
          This message could not be parsed ({m.parseError ?? 'unknown error'}). The raw copy is kept: download it above.
        </div>
      )}
      {deliveries && <Deliveries list={deliveries} />}
      {m.attachments.length > 0 && (
        <section className="card" aria-labelledby="att-h">
          <h2 id="att-h">Attachments</h2>
          <ul className="attachments">
            {m.attachments.map((a) => (
              <li key={a.id}>
                <ActionButton className="small" action={async () => download(await inbox.messages.attachment(m.id, a.id), a.filename ?? a.id, a.contentType)}>
                  Download
                </ActionButton>{' '}
                {a.filename ?? <span className="muted">(no name)</span>} <span className="muted small">{a.contentType} · {formatBytes(a.size)}{a.inline ? ' · inline' : ''}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <Body inbox={inbox} message={m} />
      <details className="card">
        <summary>All headers ({m.headers.length})</summary>
        <div className="table-wrap">
          <table className="headers">
            <caption className="visually-hidden">Headers as received</caption>
            <tbody>
              {m.headers.map((h, i) => (
                <tr key={i}>
                  <th scope="row">{h.name}</th>
                  <td className="break">{h.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  )
}

function SecurityVerdict({ s }: { s: Security }) {
  return (
    <div className="verdict" data-testid="security">
      <h3>Risk</h3>
      <p>
        <Status value={s.risk} /> <span>injection score {s.injectionScore.toFixed(2)}</span>{' '}
        {s.quarantined && <Badge tone="bad">quarantined</Badge>} {s.autoReply && <Badge>auto-reply</Badge>} {s.bulk && <Badge>bulk</Badge>}
        {s.auth.aligned === false && <Badge tone="warn">not aligned</Badge>}
      </p>
      {s.signals.length > 0 && (
        <table>
          <caption className="visually-hidden">Signals</caption>
          <thead>
            <tr>
              <th scope="col">Signal</th>
              <th scope="col">Where</th>
              <th scope="col">Excerpt</th>
            </tr>
          </thead>
          <tbody>
            {s.signals.map((x, i) => (
              <tr key={i}>
                <td>{x.category.replaceAll('_', ' ')}</td>
                <td>{x.location.replaceAll('_', ' ')}</td>
                <td className="break">{x.excerpt}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

function Deliveries({ list }: { list: Delivery[] }) {
  return (
    <section className="card" aria-labelledby="deliv-h">
      <h2 id="deliv-h">Delivery</h2>
      {list.length === 0 ? (
        <p className="muted">No recipients recorded.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="deliveries">
            <caption className="visually-hidden">Delivery per recipient</caption>
            <thead>
              <tr>
                <th scope="col">Recipient</th>
                <th scope="col">Status</th>
                <th scope="col">Route</th>
                <th scope="col">Attempts</th>
                <th scope="col">Detail</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.recipient}>
                  <td>{d.recipient}</td>
                  <td>
                    <Status value={d.status} />
                  </td>
                  <td>{d.route ?? '—'}</td>
                  <td>{d.attempts}</td>
                  <td className="break">
                    {d.lastError ?? ''}
                    {d.nextAttemptAt && (
                      <div className="muted small">
                        next try <Time iso={d.nextAttemptAt} />
                      </div>
                    )}
                  </td>
                  <td>
                    <Time iso={d.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

/** Inline parts (cid:) as data: URLs, so they show without any request leaving the frame. */
function useInlineParts(inbox: Inbox, m: MessageT): Map<string, string> | null {
  const inline = useMemo(() => m.attachments.filter((a) => a.contentId && a.contentType.startsWith('image/') && a.size <= 2_000_000), [m])
  const [map, setMap] = useState<Map<string, string> | null>(inline.length ? null : new Map())
  useEffect(() => {
    if (!inline.length) return
    let gone = false
    void Promise.all(
      inline.map(async (a) => {
        const bytes = await inbox.messages.attachment(m.id, a.id)
        const data: string = await new Promise((resolve) => {
          const r = new FileReader()
          r.onload = () => resolve(String(r.result))
          r.readAsDataURL(new Blob([bytes as BlobPart], { type: a.contentType }))
        })
        return [a.contentId!.replace(/^<|>$/g, ''), data] as const
      }),
    ).then(
      (pairs) => !gone && setMap(new Map(pairs)),
      () => !gone && setMap(new Map()),
    )
    return () => {
      gone = true
    }
  }, [inbox, m.id, inline])
  return map
}

function Body({ inbox, message: m }: { inbox: Inbox; message: MessageT }) {
  const [view, setView] = useState<'html' | 'text'>(m.html ? 'html' : 'text')
  const [remote, setRemote] = useState(false)
  const inline = useInlineParts(inbox, m)
  const clean = useMemo(() => (m.html && inline ? cleanMail(m.html, { remoteImages: remote, inline }) : null), [m.html, remote, inline])
  return (
    <section className="card" aria-labelledby="body-h">
      <div className="row spread">
        <h2 id="body-h">Body</h2>
        {m.html && m.text && (
          <div className="row" role="group" aria-label="Show the body as">
            <button type="button" aria-pressed={view === 'html'} onClick={() => setView('html')}>
              HTML
            </button>
            <button type="button" aria-pressed={view === 'text'} onClick={() => setView('text')}>
              Text
            </button>
          </div>
        )}
      </div>
      {view === 'html' && m.html ? (
        <>
          {clean && clean.remoteCount > 0 && !remote && (
            <p className="notice" role="status">
              Remote images are blocked ({clean.remoteCount}): loading them tells the sender you opened this mail.{' '}
              <button type="button" className="small" onClick={() => setRemote(true)}>
                Load remote images
              </button>
            </p>
          )}
          {clean ? (
            <iframe title="Message body" className="mail-frame" sandbox={MAIL_SANDBOX} srcDoc={clean.srcdoc} referrerPolicy="no-referrer" data-testid="mail-frame" />
          ) : (
            <p role="status">Loading…</p>
          )}
        </>
      ) : m.text ? (
        <pre className="mail-text">{m.text}</pre>
      ) : (
        <p className="muted">No body.</p>
      )}
    </section>
  )
}
