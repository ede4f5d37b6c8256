// Suppressions: addresses mail is no longer sent to (hard bounces, complaints, added by hand).
import { AsyncForm, ActionButton, Field, Loaded, PageHeader, Pager, Time, optionalText, text, usePager, useConsole, Badge } from '../ui'

export default function Suppressions() {
  const c = useConsole()
  const pager = usePager((after, signal) => c.api.suppressions.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  return (
    <>
      <PageHeader title="Suppressions" subtitle="Mail to these addresses is not sent (status suppressed)." />
      <section className="card" aria-labelledby="supp-add-h">
        <h2 id="supp-add-h">Suppress an address</h2>
        <AsyncForm
          label="Suppress an address"
          className="inline-form"
          onSubmit={async (f) => {
            await c.api.suppressions.create({ address: text(f, 'address'), detail: optionalText(f, 'detail') })
            c.notify('Suppressed')
            pager.reload()
          }}
        >
          <Field label="Address">{(id) => <input id={id} name="address" type="email" required />}</Field>
          <Field label="Why">{(id) => <input id={id} name="detail" maxLength={500} />}</Field>
          <button type="submit" className="primary">
            Suppress
          </button>
        </AsyncForm>
      </section>
      <Loaded state={pager} what="suppressions">
        {(page) =>
          page.data.length === 0 && pager.pageNumber === 1 ? (
            <p className="muted">No suppressed addresses.</p>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Suppressed addresses</caption>
                  <thead>
                    <tr>
                      <th scope="col">Address</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Detail</th>
                      <th scope="col">Since</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((s) => (
                      <tr key={s.address}>
                        <td>{s.address}</td>
                        <td>
                          <Badge tone={s.reason === 'manual' ? 'info' : 'bad'}>{s.reason.replace('_', ' ')}</Badge>
                        </td>
                        <td className="break">{s.detail ?? ''}</td>
                        <td>
                          <Time iso={s.createdAt} />
                        </td>
                        <td>
                          <ActionButton
                            className="small"
                            confirm={`Remove ${s.address} from the suppression list? Mail to it will be sent again.`}
                            action={async () => {
                              await c.api.suppressions.delete(s.address)
                              c.notify('Removed')
                              pager.reload()
                            }}
                          >
                            Remove
                          </ActionButton>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager label="Suppressions" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
            </>
          )
        }
      </Loaded>
    </>
  )
}
