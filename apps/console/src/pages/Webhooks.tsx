// Webhook endpoints: create (the signing secret is shown once), list, open one for its deliveries.
import { useState } from 'react'
import type { CreatedWebhook, EventType, Webhook } from '@mailroom/sdk'
import { AsyncForm, Field, PageHeader, PagedTable, SecretOnce, Status, Time, optionalText, text, usePager, useConsole, type Column } from '../ui'
import { Link } from '../router'

/** Every event type, in the order shown; a Record so the compiler says when the API gains one. */
const EVENT_LABELS: Record<EventType, true> = {
  'message.received': true,
  'message.quarantined': true,
  'message.released': true,
  'message.approval_requested': true,
  'message.approved': true,
  'message.rejected': true,
  'message.expired': true,
  'message.queued': true,
  'message.sending': true,
  'message.sent': true,
  'message.delivered': true,
  'message.deferred': true,
  'message.bounced': true,
  'message.suppressed': true,
  'message.held': true,
  'sending.paused': true,
  'sending.resumed': true,
  'webhook.disabled': true,
}
export const EVENT_TYPES = Object.keys(EVENT_LABELS) as EventType[]

export default function Webhooks() {
  const c = useConsole()
  const [created, setCreated] = useState<CreatedWebhook | null>(null)
  const pager = usePager((after, signal) => c.api.webhooks.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  const columns: Column<Webhook>[] = [
    {
      header: 'URL',
      className: 'break',
      cell: (w) => (
        <>
          <Link to={`/webhooks/${w.id}`}>{w.url}</Link>
          {w.description && <div className="muted small">{w.description}</div>}
        </>
      ),
    },
    { header: 'Events', className: 'small', cell: (w) => (w.eventTypes.length ? w.eventTypes.join(', ') : 'all') },
    { header: 'State', cell: (w) => <Status value={w.status} /> },
    { header: 'Created', cell: (w) => <Time iso={w.createdAt} /> },
  ]
  return (
    <>
      <PageHeader title="Webhooks" subtitle="Events POSTed to your endpoints, signed per Standard Webhooks, retried with backoff." />
      {created && <SecretOnce title={`Signing secret of ${created.url}:`} value={created.secret} onDone={() => setCreated(null)} />}
      <section className="card" aria-labelledby="wh-add-h">
        <h2 id="wh-add-h">Add an endpoint</h2>
        <AsyncForm
          label="Add a webhook endpoint"
          onSubmit={async (f) => {
            const w = await c.api.webhooks.create({ ...webhookFields(f), inboxId: optionalText(f, 'inboxId') })
            setCreated(w)
            pager.reload()
          }}
        >
          <WebhookFields withInbox />
          <button type="submit" className="primary">
            Add endpoint
          </button>
        </AsyncForm>
      </section>
      <PagedTable pager={pager} what="webhook endpoints" columns={columns} rowKey={(w) => w.id} empty="No endpoints." />
    </>
  )
}

/** What the endpoint form says: URL, events (none: all), payload and description. */
export function webhookFields(f: FormData) {
  return {
    url: text(f, 'url'),
    eventTypes: f.getAll('eventTypes').map(String) as EventType[],
    payload: text(f, 'payload') === 'summary' ? ('summary' as const) : ('full' as const),
    description: optionalText(f, 'description'),
  }
}

/** The fields of an endpoint, empty for a new one or filled from `w`. */
export function WebhookFields({ w, withInbox }: { w?: Webhook; withInbox?: boolean }) {
  return (
    <>
      <div className="grid-fields">
        <Field label="URL">{(id) => <input id={id} name="url" type="url" required defaultValue={w?.url} placeholder="https://example.com/hooks/mailroom" />}</Field>
        <Field label="Description">{(id) => <input id={id} name="description" maxLength={500} defaultValue={w?.description ?? ''} />}</Field>
        {withInbox && (
          <Field label="Only inbox" hint="Empty: every inbox">
            {(id) => <input id={id} name="inboxId" placeholder="inb_…" pattern="inb_[0-9a-f]{32}" />}
          </Field>
        )}
        <Field label="Payload">
          {(id) => (
            <select id={id} name="payload" defaultValue={w?.payload ?? 'full'}>
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
            <input type="checkbox" name="eventTypes" value={t} defaultChecked={w?.eventTypes.includes(t)} /> {t}
          </label>
        ))}
      </fieldset>
    </>
  )
}
