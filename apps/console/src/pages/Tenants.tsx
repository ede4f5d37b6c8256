// Tenants: the tree of descendants (each level loaded when opened), create a child, suspend,
// resume, delete, act inside one. The operator sees the top-level tenants as the tree's first level
// (and so suspends, resumes, deletes or acts inside any of them), creates top-level tenants, and names
// any tenant by its id to act in or to delete.
import { useMemo, useState } from 'react'
import type { CreatedTenant, Tenant } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Field, Loaded, PageHeader, Pager, SecretOnce, Status, Time, text, usePager, useConsole, type Console } from '../ui'
import { Link } from '../router'
import { clientFor } from '../api'

export default function Tenants() {
  const c = useConsole()
  const [created, setCreated] = useState<CreatedTenant | null>(null)
  const [version, setVersion] = useState(0)
  const operatorAtRoot = c.session.scope === 'operator' && !c.actingTenantId
  return (
    <>
      <PageHeader title="Tenants" subtitle={operatorAtRoot ? 'Operator: the top-level tenants. Act inside one, suspend, resume or delete one, or create one.' : 'This tenant and its descendants.'} />
      {created && (
        <SecretOnce
          title={`Tenant ${created.name} (${created.id}) created. Its first tenant key:`}
          value={created.apiKey}
          onDone={() => setCreated(null)}
        />
      )}
      <section className="card" aria-labelledby="create-tenant-h">
        <h2 id="create-tenant-h">{operatorAtRoot ? 'Create a top-level tenant' : 'Create a child tenant'}</h2>
        <AsyncForm
          label="Create tenant"
          className="inline-form"
          onSubmit={async (f) => {
            const t = await c.api.tenants.create({ name: text(f, 'name') })
            setCreated(t)
            setVersion((v) => v + 1)
          }}
        >
          <Field label="Name">{(id) => <input id={id} name="name" required maxLength={200} />}</Field>
          <button type="submit" className="primary">
            Create
          </button>
        </AsyncForm>
      </section>
      {operatorAtRoot && (
        <section aria-labelledby="roots-h">
          <h2 id="roots-h">Top-level tenants</h2>
          <Children key={version} api={c.api} depth={0} empty="No tenants yet." label="Top-level tenants" />
        </section>
      )}
      {operatorAtRoot ? (
        <section className="card" aria-labelledby="act-h">
          <h2 id="act-h">Act inside a tenant</h2>
          <p className="muted">The operator key may act in any tenant, a nested one too, by its id.</p>
          <AsyncForm
            label="Act inside a tenant"
            className="inline-form"
            onSubmit={async (f) => {
              const id = text(f, 'tenantId')
              await clientFor(id).tenants.get(id)
              c.actAs(id)
            }}
          >
            <Field label="Tenant id">{(id) => <input id={id} name="tenantId" required pattern="tnt_[0-9a-f]{32}" placeholder="tnt_…" />}</Field>
            <button type="submit">Act inside</button>
          </AsyncForm>
          {created && (
            <p>
              <button type="button" onClick={() => c.actAs(created.id)}>
                Act inside {created.name}
              </button>
            </p>
          )}
        </section>
      ) : (
        <section aria-labelledby="tree-h">
          <h2 id="tree-h">Tree</h2>
          <SelfRow />
          <Children key={version} api={c.api} depth={0} />
        </section>
      )}
      {operatorAtRoot && <DeleteAnyTenant />}
    </>
  )
}

/** The operator deletes any tenant by its id, a top-level one included (a customer leaving). */
function DeleteAnyTenant() {
  const c = useConsole()
  const [id, setId] = useState('')
  const valid = /^tnt_[0-9a-f]{32}$/.test(id)
  return (
    <section className="card" aria-labelledby="delete-any-h">
      <h2 id="delete-any-h">Delete a tenant</h2>
      <p className="muted">Any tenant, a top-level one too: its data key first, then its inboxes, mail, keys and descendants.</p>
      <div className="inline-form">
        <Field label="Tenant id to delete">{(fid) => <input id={fid} value={id} onChange={(e) => setId(e.target.value.trim())} pattern="tnt_[0-9a-f]{32}" placeholder="tnt_…" />}</Field>
        <ActionButton
          danger
          disabled={!valid}
          confirm={`Delete ${id} with all its inboxes, mail, keys and descendants? Its data key is destroyed first. This cannot be undone.`}
          action={async () => {
            await c.api.tenants.delete(id)
            c.notify(`${id} deleted`)
            setId('')
          }}
        >
          Delete tenant
        </ActionButton>
      </div>
    </section>
  )
}

function SelfRow() {
  const c = useConsole()
  return (
    <p>
      <strong>This tenant:</strong> <Link to={`/tenants/${c.tenantId}`}>{c.tenantId}</Link>
    </p>
  )
}

/**
 * One level of the tree: the direct children of the tenant `api` acts in (the operator's, acting in
 * none: the top-level tenants).
 */
function Children({ api, depth, empty, label }: { api: Console['api']; depth: number; empty?: string; label?: string }) {
  const pager = usePager((after, signal) => api.tenants.list({ limit: 50 }).page({ after }, { signal }), [api])
  return (
    <Loaded state={pager} what="tenants">
      {(page) =>
        page.data.length === 0 && pager.pageNumber === 1 ? (
          <p className="muted">{empty ?? (depth === 0 ? 'No child tenants yet.' : 'No children.')}</p>
        ) : (
          <>
            <ul className="tree" aria-label={label ?? (depth === 0 ? 'Child tenants' : undefined)}>
              {page.data.map((t) => (
                <TenantNode key={t.id} tenant={t} depth={depth} onChanged={pager.reload} />
              ))}
            </ul>
            <Pager label="Tenants" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
          </>
        )
      }
    </Loaded>
  )
}

function TenantNode({ tenant, depth, onChanged }: { tenant: Tenant; depth: number; onChanged: () => void }) {
  const c = useConsole()
  const [open, setOpen] = useState(false)
  const childApi = useMemo(() => clientFor(tenant.id), [tenant.id])
  const suspended = tenant.status === 'suspended'
  return (
    <li>
      <div className="tree-row">
        <button type="button" className="small twisty" aria-expanded={open} aria-label={`Children of ${tenant.name}`} onClick={() => setOpen((o) => !o)}>
          {open ? '▾' : '▸'}
        </button>
        <Link to={`/tenants/${tenant.id}`}>{tenant.name}</Link>
        <code className="muted small">{tenant.id}</code>
        <Status value={tenant.status} />
        <span className="muted small">
          created <Time iso={tenant.createdAt} />
        </span>
        <span className="row actions">
          <button type="button" className="small" onClick={() => c.actAs(tenant.id)} disabled={suspended}>
            Act inside
          </button>
          <ActionButton
            className="small"
            action={async () => {
              await (suspended ? c.api.tenants.resume(tenant.id) : c.api.tenants.suspend(tenant.id))
              c.notify(`${tenant.name} ${suspended ? 'resumed' : 'suspended'}`)
              onChanged()
            }}
            confirm={suspended ? undefined : `Suspend ${tenant.name}? Its keys stop working and its mail waits until it is resumed.`}
          >
            {suspended ? 'Resume' : 'Suspend'}
          </ActionButton>
          <ActionButton
            className="small"
            danger
            confirm={`Delete ${tenant.name} (${tenant.id}) with all its inboxes, mail, keys and descendants? This cannot be undone.`}
            action={async () => {
              await c.api.tenants.delete(tenant.id)
              c.notify(`${tenant.name} deleted`)
              onChanged()
            }}
          >
            Delete
          </ActionButton>
        </span>
      </div>
      {open && (suspended ? <p className="muted small nested">Suspended: resume it to see its children.</p> : <div className="nested"><Children api={childApi} depth={depth + 1} /></div>)}
    </li>
  )
}
