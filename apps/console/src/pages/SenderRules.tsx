// Sender rules: allow and block lists for received and sent mail, per tenant or inbox.
import { AsyncForm, ActionButton, Field, Loaded, PageHeader, Pager, Time, optionalText, text, usePager, useConsole, Badge } from '../ui'

export default function SenderRules() {
  const c = useConsole()
  const pager = usePager((after, signal) => c.api.senderRules.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  return (
    <>
      <PageHeader title="Sender rules" subtitle="Inbound: refuse or hide mail from addresses or domains. Outbound: where an allow list exists, nobody else can be mailed." />
      <section className="card" aria-labelledby="rule-add-h">
        <h2 id="rule-add-h">Add a rule</h2>
        <AsyncForm
          label="Add a sender rule"
          className="inline-form"
          onSubmit={async (f) => {
            const direction = text(f, 'direction') === 'outbound' ? 'outbound' : 'inbound'
            const action = text(f, 'action') === 'allow' ? 'allow' : 'block'
            await c.api.senderRules.create({
              direction,
              action,
              pattern: text(f, 'pattern'),
              inboxId: optionalText(f, 'inboxId'),
              blockMode: text(f, 'blockMode') === 'hide' ? 'hide' : 'reject',
            })
            c.notify('Rule added')
            pager.reload()
          }}
        >
          <Field label="Address or domain">{(id) => <input id={id} name="pattern" required placeholder="spam.example or a@b.com" />}</Field>
          <Field label="Direction">
            {(id) => (
              <select id={id} name="direction">
                <option value="inbound">Inbound</option>
                <option value="outbound">Outbound</option>
              </select>
            )}
          </Field>
          <Field label="Action">
            {(id) => (
              <select id={id} name="action">
                <option value="block">Block</option>
                <option value="allow">Allow</option>
              </select>
            )}
          </Field>
          <Field label="Inbound block">
            {(id) => (
              <select id={id} name="blockMode">
                <option value="reject">Refuse at SMTP</option>
                <option value="hide">Accept, keep hidden</option>
              </select>
            )}
          </Field>
          <Field label="Only inbox" hint="Empty: the whole tenant">
            {(id) => <input id={id} name="inboxId" placeholder="inb_…" pattern="inb_[0-9a-f]{32}" />}
          </Field>
          <button type="submit" className="primary">
            Add
          </button>
        </AsyncForm>
      </section>
      <Loaded state={pager} what="sender rules">
        {(page) =>
          page.data.length === 0 && pager.pageNumber === 1 ? (
            <p className="muted">No rules.</p>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Sender rules</caption>
                  <thead>
                    <tr>
                      <th scope="col">Pattern</th>
                      <th scope="col">Rule</th>
                      <th scope="col">Applies to</th>
                      <th scope="col">Set by</th>
                      <th scope="col">Created</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((r) => (
                      <tr key={r.id}>
                        <td>
                          <code>{r.pattern}</code>
                        </td>
                        <td>
                          <Badge tone={r.action === 'block' ? 'bad' : 'ok'}>{r.action}</Badge> {r.direction}
                          {r.direction === 'inbound' && r.action === 'block' ? ` (${r.blockMode})` : ''}
                        </td>
                        <td>{r.inboxId ? <code className="small">{r.inboxId}</code> : 'whole tenant'}</td>
                        <td>
                          <code className="small">{r.setByTenantId}</code>
                        </td>
                        <td>
                          <Time iso={r.createdAt} />
                        </td>
                        <td>
                          <ActionButton
                            className="small"
                            danger
                            confirm={`Delete the rule for ${r.pattern}?`}
                            action={async () => {
                              await c.api.senderRules.delete(r.id)
                              c.notify('Rule deleted')
                              pager.reload()
                            }}
                          >
                            Delete
                          </ActionButton>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager label="Sender rules" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
            </>
          )
        }
      </Loaded>
    </>
  )
}
