// Custom domains: add one (its DNS records come back to publish), list them.
import type { Domain } from '@mailroom/sdk'
import { AsyncForm, Field, PageHeader, PagedTable, Status, Time, text, usePager, useConsole, type Column } from '../ui'
import { Link, navigate } from '../router'

export default function Domains() {
  const c = useConsole()
  const pager = usePager((after, signal) => c.api.domains.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  const columns: Column<Domain>[] = [
    { header: 'Domain', cell: (d) => <Link to={`/domains/${d.id}`}>{d.name}</Link> },
    { header: 'State', cell: (d) => <Status value={d.status} /> },
    { header: 'Last checked', cell: (d) => <Time iso={d.lastCheckedAt} /> },
  ]
  return (
    <>
      <PageHeader title="Domains" subtitle="Send and receive as your own domain: publish its records, then verify." />
      <section className="card" aria-labelledby="dom-add-h">
        <h2 id="dom-add-h">Add a domain</h2>
        <AsyncForm
          label="Add a domain"
          className="inline-form"
          onSubmit={async (f) => {
            const d = await c.api.domains.create({ name: text(f, 'name') })
            navigate(`/domains/${d.id}`)
          }}
        >
          <Field label="Domain">{(id) => <input id={id} name="name" required placeholder="mail.example.com" />}</Field>
          <button type="submit" className="primary">
            Add
          </button>
        </AsyncForm>
      </section>
      <PagedTable pager={pager} what="domains" columns={columns} rowKey={(d) => d.id} empty="No custom domains." />
    </>
  )
}
