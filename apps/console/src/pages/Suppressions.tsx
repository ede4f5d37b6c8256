// Suppressions: addresses mail is no longer sent to (hard bounces, complaints, added by hand).
import type { Suppression } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Badge, Field, PageHeader, PagedTable, Time, optionalText, text, usePager, useConsole, type Column } from '../ui'

export default function Suppressions() {
  const c = useConsole()
  const pager = usePager((after, signal) => c.api.suppressions.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  const columns: Column<Suppression>[] = [
    { header: 'Address', cell: (s) => s.address },
    { header: 'Reason', cell: (s) => <Badge tone={s.reason === 'manual' ? 'info' : 'bad'}>{s.reason.replace('_', ' ')}</Badge> },
    { header: 'Detail', className: 'break', cell: (s) => s.detail ?? '' },
    { header: 'Since', cell: (s) => <Time iso={s.createdAt} /> },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (s) => (
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
      ),
    },
  ]
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
      <PagedTable pager={pager} what="suppressed addresses" columns={columns} rowKey={(s) => s.address} empty="No suppressed addresses." />
    </>
  )
}
