// One domain: the DNS records to publish (with copy buttons), verify with the state of each record,
// the catch-all inbox, delete.
import type { Domain as DomainT } from '@mailroom/sdk'
import { ActionButton, AsyncForm, CopyButton, Field, Loaded, PageHeader, Status, Time, optionalText, useAsync, useConsole } from '../ui'
import { navigate, useParams } from '../router'

export default function Domain() {
  const c = useConsole()
  const { domainId } = useParams()
  const state = useAsync((signal) => c.api.domains.get(domainId!, { signal }), [c.api, domainId])
  return <Loaded state={state} what="domain">{(d) => <DomainBody d={d} set={state.set} />}</Loaded>
}

function DomainBody({ d, set }: { d: DomainT; set: (d: DomainT) => void }) {
  const c = useConsole()
  return (
    <>
      <PageHeader
        title={d.name}
        subtitle={
          <>
            {d.verifiedAt ? (
              <>
                Verified <Time iso={d.verifiedAt} />
              </>
            ) : (
              'Not verified yet'
            )}
            {' · '}
            {d.lastCheckedAt ? (
              <>
                last checked <Time iso={d.lastCheckedAt} />
              </>
            ) : (
              'never checked'
            )}
          </>
        }
      >
        <Status value={d.status} />
        <ActionButton
          className="primary"
          action={async () => {
            const next = await c.api.domains.verify(d.id)
            set(next)
            c.notify(next.status === 'verified' ? 'Verified' : 'Not verified yet: see the records')
          }}
        >
          Verify now
        </ActionButton>
        <ActionButton
          danger
          confirm={`Delete ${d.name}? (A domain with inboxes cannot be deleted.)`}
          action={async () => {
            await c.api.domains.delete(d.id)
            c.notify('Domain deleted')
            navigate('/domains')
          }}
        >
          Delete
        </ActionButton>
      </PageHeader>
      <section aria-labelledby="records-h">
        <h2 id="records-h">DNS records</h2>
        <p className="muted">Publish these at your DNS provider, then verify. Required records make the domain verified.</p>
        <div className="table-wrap">
          <table className="records" data-testid="dns-records">
            <caption className="visually-hidden">Records to publish</caption>
            <thead>
              <tr>
                <th scope="col">Purpose</th>
                <th scope="col">Type</th>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {d.records.map((r) => (
                <tr key={`${r.purpose}:${r.name}`}>
                  <td>
                    {r.purpose}
                    {!r.required && <div className="muted small">recommended</div>}
                  </td>
                  <td>{r.type}</td>
                  <td>
                    <code className="break">{r.name}</code> <CopyButton value={r.name} label="Copy name" />
                  </td>
                  <td>
                    <code className="break">
                      {r.priority !== undefined ? `${r.priority} ` : ''}
                      {r.value}
                    </code>{' '}
                    <CopyButton value={r.value} label="Copy value" />
                  </td>
                  <td>
                    <Status value={r.state} />
                    {r.detail && <div className="muted small break">{r.detail}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="card" aria-labelledby="catchall-h">
        <h2 id="catchall-h">Catch-all</h2>
        <AsyncForm
          label="Catch-all inbox"
          className="inline-form"
          onSubmit={async (f) => {
            set(await c.api.domains.update(d.id, { catchAllInboxId: optionalText(f, 'inbox') ?? null }))
            c.notify('Saved')
          }}
        >
          <Field label="Inbox for unknown addresses" hint="Empty: unknown addresses are refused (550)">
            {(id) => <input id={id} name="inbox" defaultValue={d.catchAllInboxId ?? ''} placeholder="inb_…" pattern="inb_[0-9a-f]{32}" />}
          </Field>
          <button type="submit">Save</button>
        </AsyncForm>
      </section>
    </>
  )
}
