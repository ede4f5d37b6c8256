// Inboxes: the tenant's inboxes (paged), and creating one (optionally with its inbox key, shown once).
import { useState } from 'react'
import type { Inbox } from '@mailroom/sdk'
import { AsyncForm, Field, PageHeader, PagedTable, SecretOnce, Time, optionalText, usePager, useConsole, type Column } from '../ui'
import { Link, navigate } from '../router'

export default function Inboxes() {
  const c = useConsole()
  const [created, setCreated] = useState<Inbox | null>(null)
  const pager = usePager((after, signal) => c.api.inboxes.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  const columns: Column<Inbox>[] = [
    { header: 'Address', cell: (i) => <Link to={`/inboxes/${i.id}`}>{i.address}</Link> },
    { header: 'Display name', cell: (i) => i.displayName ?? <span className="muted">—</span> },
    { header: 'Id', cell: (i) => <code className="small">{i.id}</code> },
    { header: 'Created', cell: (i) => <Time iso={i.createdAt} /> },
  ]
  return (
    <>
      <PageHeader title="Inboxes" subtitle="Each agent's mailbox: an address, its keys and limits." />
      {created?.apiKey && <SecretOnce title={`Inbox key of ${created.address}:`} value={created.apiKey} onDone={() => navigate(`/inboxes/${created.id}`)} />}
      <section className="card" aria-labelledby="create-inbox-h">
        <h2 id="create-inbox-h">Create an inbox</h2>
        <AsyncForm
          label="Create inbox"
          className="inline-form"
          onSubmit={async (f) => {
            const inbox = await c.api.inboxes.create({
              name: optionalText(f, 'name'),
              displayName: optionalText(f, 'displayName'),
              domain: optionalText(f, 'domain'),
              createKey: f.get('createKey') === 'on',
            })
            c.notify(`Created ${inbox.address}`)
            if (inbox.apiKey) setCreated(inbox)
            else navigate(`/inboxes/${inbox.id}`)
          }}
        >
          <Field label="Name" hint="The address's local part; generated when empty">
            {(id) => <input id={id} name="name" maxLength={64} pattern="[A-Za-z0-9]([A-Za-z0-9._+\-]*[A-Za-z0-9])?" autoComplete="off" />}
          </Field>
          <Field label="Display name">{(id) => <input id={id} name="displayName" maxLength={200} />}</Field>
          <Field label="Domain" hint="A verified domain; empty: the deployment's">
            {(id) => <input id={id} name="domain" maxLength={253} autoComplete="off" />}
          </Field>
          <label className="check">
            <input type="checkbox" name="createKey" /> Also mint an inbox key
          </label>
          <button type="submit" className="primary">
            Create
          </button>
        </AsyncForm>
      </section>
      <PagedTable pager={pager} what="inboxes" columns={columns} rowKey={(i) => i.id} empty="No inboxes yet." />
    </>
  )
}
