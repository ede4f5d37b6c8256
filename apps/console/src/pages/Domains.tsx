// Custom domains: add one (its DNS records come back to publish), list them.
import { AsyncForm, Field, Loaded, PageHeader, Pager, Status, Time, text, usePager, useConsole } from '../ui'
import { Link, navigate } from '../router'

export default function Domains() {
  const c = useConsole()
  const pager = usePager((after, signal) => c.api.domains.list({ limit: 50 }).page({ after }, { signal }), [c.api])
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
      <Loaded state={pager} what="domains">
        {(page) =>
          page.data.length === 0 && pager.pageNumber === 1 ? (
            <p className="muted">No custom domains.</p>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Domains</caption>
                  <thead>
                    <tr>
                      <th scope="col">Domain</th>
                      <th scope="col">State</th>
                      <th scope="col">Last checked</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((d) => (
                      <tr key={d.id}>
                        <td>
                          <Link to={`/domains/${d.id}`}>{d.name}</Link>
                        </td>
                        <td>
                          <Status value={d.status} />
                        </td>
                        <td>
                          <Time iso={d.lastCheckedAt} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager label="Domains" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
            </>
          )
        }
      </Loaded>
    </>
  )
}
