// Approvals: mail agents wrote under an approval policy (DESIGN section 7), waiting for a person,
// oldest first across the tenant's inboxes and its descendants'. Approve as written, edit then
// approve (the edit is recorded), or reject with a reason. Each decision is in the audit log under
// the key that signed in; an inbox key (an agent) can do none of it.
import { useState } from 'react'
import type { Approval, ApprovalStatus, Message } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Badge, Field, Loaded, PageHeader, PagedTable, Status, Time, optionalText, text, useAsync, usePager, useConsole, type Column } from '../ui'
import { Link } from '../router'

const STATUSES: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired']

export default function Approvals() {
  const c = useConsole()
  const [status, setStatus] = useState<ApprovalStatus>('pending')
  const [open, setOpen] = useState<string | null>(null)
  const pager = usePager((after, signal) => c.api.approvals.list({ status, limit: 50 }).page({ after }, { signal }), [c.api, status])
  const decided = (what: string) => {
    c.notify(what)
    setOpen(null)
    pager.reload()
  }
  const columns: Column<Approval>[] = [
    { header: 'Requested', className: 'nowrap', cell: (a) => <Time iso={a.requestedAt} /> },
    { header: 'To', className: 'break', cell: (a) => a.recipients.join(', ') },
    {
      header: 'Subject',
      className: 'break',
      cell: (a) => (
        <Link to={`/inboxes/${a.inboxId}/messages/${a.messageId}`}>
          {a.subject || '(no subject)'}
          {a.edited && ' (edited)'}
        </Link>
      ),
    },
    { header: 'Why held', className: 'break', cell: (a) => a.reasons.join('; ') },
    status === 'pending'
      ? { header: 'Expires', className: 'nowrap', cell: (a) => <Time iso={a.expiresAt} /> }
      : {
          header: 'Decided',
          className: 'break',
          cell: (a) => (
            <>
              <Status value={a.status} /> <Time iso={a.decidedAt} />
              {a.decidedBy?.keyId && (
                <div>
                  <code className="small">{a.decidedBy.keyId}</code>
                </div>
              )}
              {a.reason && <div className="muted">{a.reason}</div>}
            </>
          ),
        },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (a) =>
        a.status === 'pending' ? (
          <div className="row">
            <ActionButton
              className="small"
              action={async () => {
                await c.api.approvals.approve(a.inboxId, a.messageId)
                decided(`Approved: "${a.subject ?? '(no subject)'}" goes out now`)
              }}
            >
              Approve
            </ActionButton>
            <button type="button" className="small" aria-expanded={open === a.messageId} onClick={() => setOpen(open === a.messageId ? null : a.messageId)}>
              Review…
            </button>
          </div>
        ) : null,
    },
  ]
  const selected = open ? pager.data?.data.find((a) => a.messageId === open) : undefined
  return (
    <>
      <PageHeader title="Approvals" subtitle="Mail your agents wrote that waits for a person, oldest first. Agents cannot approve their own mail; each decision is in the audit log." />
      <div className="inline-form" role="group" aria-label="Show">
        {STATUSES.map((s) => (
          <button key={s} type="button" className="small" aria-pressed={s === status} onClick={() => setStatus(s)}>
            {s}
          </button>
        ))}
      </div>
      <PagedTable pager={pager} what="approvals" columns={columns} rowKey={(a) => a.messageId} empty={status === 'pending' ? 'Nothing waits for approval.' : `Nothing ${status}.`} testId="approvals" />
      {selected && <Review approval={selected} onDecided={decided} onClose={() => setOpen(null)} />}
    </>
  )
}

/** The held message in full, to edit then approve, or to reject with a reason. */
function Review({ approval: a, onDecided, onClose }: { approval: Approval; onDecided: (what: string) => void; onClose: () => void }) {
  const c = useConsole()
  const state = useAsync<Message>(async (signal) => (await c.api.inboxes.get(a.inboxId, { signal })).messages.get(a.messageId, { signal }), [c.api, a.inboxId, a.messageId])
  return (
    <section className="card" aria-labelledby="review-h" data-testid="review">
      <h2 id="review-h">Review: {a.subject || '(no subject)'}</h2>
      <Loaded state={state} what="held message">
        {(m) => (
          <>
            <p className="muted">
              From {m.from?.address ?? '—'} to {a.recipients.join(', ')}. Held because: {a.reasons.join('; ')}.{' '}
              <Badge tone="warn">pending</Badge>
            </p>
            <AsyncForm
              label="Edit then approve"
              onSubmit={async (f) => {
                const subject = text(f, 'subject')
                const body = String(f.get('text') ?? '')
                const edits = {
                  ...(subject !== (m.subject ?? '') ? { subject } : {}),
                  ...(body !== (m.text ?? '') ? { text: body } : {}),
                }
                await c.api.approvals.approve(a.inboxId, a.messageId, edits)
                onDecided(Object.keys(edits).length ? 'Approved with your edits (recorded)' : 'Approved')
              }}
            >
              <Field label="Subject">{(id) => <input id={id} name="subject" defaultValue={m.subject ?? ''} maxLength={998} />}</Field>
              <Field label="Text">{(id) => <textarea id={id} name="text" defaultValue={m.text ?? ''} rows={8} />}</Field>
              {m.html && <p className="muted">This message also has an HTML part; editing the text does not change it.</p>}
              <button type="submit" className="primary">
                Approve
              </button>
            </AsyncForm>
            <AsyncForm
              label="Reject"
              className="inline-form"
              onSubmit={async (f) => {
                await c.api.approvals.reject(a.inboxId, a.messageId, optionalText(f, 'reason') ?? 'rejected')
                onDecided('Rejected: it will not be sent')
              }}
            >
              <Field label="Reason">{(id) => <input id={id} name="reason" required maxLength={500} />}</Field>
              <button type="submit" className="danger">
                Reject
              </button>
            </AsyncForm>
            <button type="button" onClick={onClose}>
              Close
            </button>
          </>
        )}
      </Loaded>
    </section>
  )
}
