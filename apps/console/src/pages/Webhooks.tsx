// Webhook endpoints: create (the signing secret is shown once), list, open one for its deliveries.
import { useState } from 'react'
import type { CreatedWebhook, EventType } from '@mailroom/sdk'
import { AsyncForm, Field, Loaded, PageHeader, Pager, SecretOnce, Status, Time, optionalText, text, usePager, useConsole } from '../ui'
import { Link } from '../router'

export const EVENT_TYPES: EventType[] = [
  'message.received',
  'message.queued',
  'message.sending',
  'message.sent',
  'message.delivered',
  'message.deferred',
  'message.bounced',
  'message.suppressed',
  'message.held',
  'sending.paused',
  'sending.resumed',
  'webhook.disabled',
]

export default function Webhooks() {
  const c = useConsole()
  const [created, setCreated] = useState<CreatedWebhook | null>(null)
  const pager = usePager((after, signal) => c.api.webhooks.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  return (
    <>
      <PageHeader title="Webhooks" subtitle="Events POSTed to your endpoints, signed per Standard Webhooks, retried with backoff." />
      {created && <SecretOnce title={`Signing secret of ${created.url}:`} value={created.secret} onDone={() => setCreated(null)} />}
      <section className="card" aria-labelledby="wh-add-h">
        <h2 id="wh-add-h">Add an endpoint</h2>
        <AsyncForm
          label="Add a webhook endpoint"
          onSubmit={async (f) => {
            const types = f.getAll('eventTypes').map(String) as EventType[]
            const w = await c.api.webhooks.create({
              url: text(f, 'url'),
              inboxId: optionalText(f, 'inboxId'),
              eventTypes: types,
              payload: text(f, 'payload') === 'summary' ? 'summary' : 'full',
              description: optionalText(f, 'description'),
            })
            setCreated(w)
            pager.reload()
          }}
        >
          <div className="grid-fields">
            <Field label="URL">{(id) => <input id={id} name="url" type="url" required placeholder="https://example.com/hooks/mailroom" />}</Field>
            <Field label="Description">{(id) => <input id={id} name="description" maxLength={500} />}</Field>
            <Field label="Only inbox" hint="Empty: every inbox">
              {(id) => <input id={id} name="inboxId" placeholder="inb_…" pattern="inb_[0-9a-f]{32}" />}
            </Field>
            <Field label="Payload">
              {(id) => (
                <select id={id} name="payload">
                  <option value="full">Full message</option>
                  <option value="summary">Summary</option>
                </select>
              )}
            </Field>
          </div>
          <fieldset className="checks">
            <legend>Events (none checked: all)</legend>
            {EVENT_TYPES.map((t) => (
              <label key={t} className="check">
                <input type="checkbox" name="eventTypes" value={t} /> {t}
              </label>
            ))}
          </fieldset>
          <button type="submit" className="primary">
            Add endpoint
          </button>
        </AsyncForm>
      </section>
      <Loaded state={pager} what="webhooks">
        {(page) =>
          page.data.length === 0 && pager.pageNumber === 1 ? (
            <p className="muted">No endpoints.</p>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Webhook endpoints</caption>
                  <thead>
                    <tr>
                      <th scope="col">URL</th>
                      <th scope="col">Events</th>
                      <th scope="col">State</th>
                      <th scope="col">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((w) => (
                      <tr key={w.id}>
                        <td className="break">
                          <Link to={`/webhooks/${w.id}`}>{w.url}</Link>
                          {w.description && <div className="muted small">{w.description}</div>}
                        </td>
                        <td className="small">{w.eventTypes.length ? w.eventTypes.join(', ') : 'all'}</td>
                        <td>
                          <Status value={w.status} />
                        </td>
                        <td>
                          <Time iso={w.createdAt} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager label="Webhooks" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
            </>
          )
        }
      </Loaded>
    </>
  )
}
