// One webhook endpoint: its settings, re-enable, delete, and its delivery log with every attempt and replay.
import { useState } from 'react'
import type { Webhook as WebhookT, WebhookDeliveryStatus } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Field, Loaded, PageHeader, Pager, Status, Time, useAsync, usePager, useConsole } from '../ui'
import { navigate, useParams } from '../router'
import { WebhookFields, webhookFields } from './Webhooks'

export default function Webhook() {
  const c = useConsole()
  const { webhookId } = useParams()
  const state = useAsync((signal) => c.api.webhooks.get(webhookId!, { signal }), [c.api, webhookId])
  return <Loaded state={state} what="webhook">{(w) => <WebhookBody w={w} reload={state.reload} />}</Loaded>
}

function WebhookBody({ w, reload }: { w: WebhookT; reload: () => void }) {
  const c = useConsole()
  const [status, setStatus] = useState<WebhookDeliveryStatus | ''>('')
  const pager = usePager((after, signal) => c.api.webhooks.deliveries(w.id, { limit: 25, ...(status ? { status } : {}) }).page({ after }, { signal }), [c.api, w.id, status])
  return (
    <>
      <PageHeader title={w.url} subtitle={w.description ?? <code>{w.id}</code>}>
        <Status value={w.status} />
        {w.status === 'disabled' && (
          <ActionButton
            action={async () => {
              await c.api.webhooks.update(w.id, { status: 'enabled' })
              c.notify('Re-enabled: pending deliveries resume')
              reload()
            }}
          >
            Re-enable
          </ActionButton>
        )}
        {w.status === 'enabled' && (
          <ActionButton
            confirm="Disable this endpoint? Its deliveries wait until it is enabled again."
            action={async () => {
              await c.api.webhooks.update(w.id, { status: 'disabled' })
              reload()
            }}
          >
            Disable
          </ActionButton>
        )}
        <ActionButton
          danger
          confirm={`Delete the endpoint ${w.url}?`}
          action={async () => {
            await c.api.webhooks.delete(w.id)
            c.notify('Endpoint deleted')
            navigate('/webhooks')
          }}
        >
          Delete
        </ActionButton>
      </PageHeader>
      {w.disabledReason && (
        <p className="notice error" role="status">
          Disabled <Time iso={w.disabledAt} />: {w.disabledReason}
        </p>
      )}
      <dl className="facts card">
        <dt>Events</dt>
        <dd>{w.eventTypes.length ? w.eventTypes.join(', ') : 'all'}</dd>
        <dt>Inbox</dt>
        <dd>{w.inboxId ? <code>{w.inboxId}</code> : 'every inbox'}</dd>
        <dt>Payload</dt>
        <dd>{w.payload}</dd>
      </dl>
      <details className="card">
        <summary>Edit the endpoint</summary>
        <AsyncForm
          label="Edit the webhook endpoint"
          onSubmit={async (f) => {
            const { description, ...rest } = webhookFields(f)
            await c.api.webhooks.update(w.id, { ...rest, description: description ?? null })
            c.notify('Saved')
            reload()
          }}
        >
          <WebhookFields w={w} />
          <button type="submit" className="primary">
            Save
          </button>
        </AsyncForm>
      </details>
      <section aria-labelledby="deliv-h">
        <div className="row spread">
          <h2 id="deliv-h">Deliveries</h2>
          <Field label="Status">
            {(id) => (
              <select id={id} value={status} onChange={(e) => setStatus(e.target.value as WebhookDeliveryStatus | '')}>
                <option value="">Any</option>
                <option value="pending">Pending</option>
                <option value="sending">Sending</option>
                <option value="succeeded">Succeeded</option>
                <option value="failed">Failed</option>
              </select>
            )}
          </Field>
        </div>
        <Loaded state={pager} what="deliveries">
          {(page) =>
            page.data.length === 0 && pager.pageNumber === 1 ? (
              <p className="muted">No deliveries.</p>
            ) : (
              <>
                <ul className="deliveries">
                  {page.data.map((d) => (
                    <li key={d.id} className="card">
                      <div className="row spread">
                        <span>
                          <code>{d.eventType}</code> <Status value={d.status} /> <span className="muted small">{d.attempts} attempts · event {d.eventId}</span>
                        </span>
                        <ActionButton
                          className="small"
                          action={async () => {
                            await c.api.webhooks.replay(w.id, d.id)
                            c.notify('Replay queued')
                            pager.reload()
                          }}
                        >
                          Replay
                        </ActionButton>
                      </div>
                      <p className="small">
                        Created <Time iso={d.createdAt} />
                        {d.nextAttemptAt && (
                          <>
                            {' '}
                            · next attempt <Time iso={d.nextAttemptAt} />
                          </>
                        )}
                        {d.lastError && <> · {d.lastError}</>}
                      </p>
                      {d.attemptLog.length > 0 && (
                        <details>
                          <summary>Attempts</summary>
                          <table>
                            <caption className="visually-hidden">Attempts of delivery {d.id}</caption>
                            <thead>
                              <tr>
                                <th scope="col">#</th>
                                <th scope="col">At</th>
                                <th scope="col">Status</th>
                                <th scope="col">Time</th>
                                <th scope="col">Error</th>
                              </tr>
                            </thead>
                            <tbody>
                              {d.attemptLog.map((a) => (
                                <tr key={a.attempt}>
                                  <td>{a.attempt}</td>
                                  <td>
                                    <Time iso={a.at} />
                                  </td>
                                  <td>{a.statusCode ?? '—'}</td>
                                  <td>{a.durationMs} ms</td>
                                  <td className="break">{a.error ?? ''}</td>
                                </tr>
                              ))}
                            </tbody>
                          </table>
                        </details>
                      )}
                    </li>
                  ))}
                </ul>
                <Pager label="Deliveries" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
              </>
            )
          }
        </Loaded>
      </section>
    </>
  )
}
