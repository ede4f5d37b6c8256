// The audit log: who (tenant, key) did what, when, in this tenant and its descendants.
import { useState } from 'react'
import type { AuditEntry } from '@mailroom/sdk'
import { AsyncForm, Field, PageHeader, PagedTable, Time, optionalText, usePager, useConsole, type Column } from '../ui'

export default function AuditLog() {
  const c = useConsole()
  const [tenantFilter, setTenantFilter] = useState<string | undefined>(undefined)
  const pager = usePager((after, signal) => c.api.auditLog.list({ limit: 50, tenantId: tenantFilter }).page({ after }, { signal }), [c.api, tenantFilter])
  const columns: Column<AuditEntry>[] = [
    { header: 'When', className: 'nowrap', cell: (e) => <Time iso={e.createdAt} /> },
    { header: 'Action', cell: (e) => <code>{e.action}</code> },
    {
      header: 'Target',
      className: 'break',
      cell: (e) => (
        <>
          {e.targetType} <code className="small">{e.targetId}</code>
        </>
      ),
    },
    {
      header: 'Who',
      className: 'break',
      cell: (e) => (
        <>
          {e.actor.kind}
          {e.actor.keyId && (
            <div>
              <code className="small">{e.actor.keyId}</code>
            </div>
          )}
        </>
      ),
    },
    { header: 'Tenant', cell: (e) => <code className="small">{e.tenantId}</code> },
    { header: 'Details', className: 'break small', cell: (e) => (Object.keys(e.details).length ? JSON.stringify(e.details) : '') },
  ]
  return (
    <>
      <PageHeader title="Audit log" subtitle="Administrative actions, newest first. Console actions are recorded under the key that signed in." />
      <AsyncForm label="Filter audit log" className="inline-form" onSubmit={async (f) => setTenantFilter(optionalText(f, 'tenantId'))}>
        <Field label="Only tenant">{(id) => <input id={id} name="tenantId" placeholder="tnt_… (empty: all)" pattern="tnt_[0-9a-f]{32}" />}</Field>
        <button type="submit">Filter</button>
      </AsyncForm>
      <PagedTable pager={pager} what="audit entries" columns={columns} rowKey={(e) => e.id} empty="Nothing recorded." testId="audit" />
    </>
  )
}
