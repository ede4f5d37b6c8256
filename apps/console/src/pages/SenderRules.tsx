// Sender rules: allow and block lists for received and sent mail, per tenant or inbox.
import type { SenderRule } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Badge, Field, PageHeader, PagedTable, Time, optionalText, text, usePager, useConsole, type Column } from '../ui'

export default function SenderRules() {
  const c = useConsole()
  const pager = usePager((after, signal) => c.api.senderRules.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  const columns: Column<SenderRule>[] = [
    { header: 'Pattern', cell: (r) => <code>{r.pattern}</code> },
    {
      header: 'Rule',
      cell: (r) => (
        <>
          <Badge tone={r.action === 'block' ? 'bad' : 'ok'}>{r.action}</Badge> {r.direction}
          {r.direction === 'inbound' && r.action === 'block' ? ` (${r.blockMode})` : ''}
        </>
      ),
    },
    { header: 'Applies to', cell: (r) => (r.inboxId ? <code className="small">{r.inboxId}</code> : 'whole tenant') },
    { header: 'Set by', cell: (r) => <code className="small">{r.setByTenantId}</code> },
    { header: 'Created', cell: (r) => <Time iso={r.createdAt} /> },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (r) => (
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
      ),
    },
  ]
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
      <PagedTable pager={pager} what="sender rules" columns={columns} rowKey={(r) => r.id} empty="No rules." />
    </>
  )
}
