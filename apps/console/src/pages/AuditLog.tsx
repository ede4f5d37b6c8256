// The audit log: who (tenant, key) did what, when, in this tenant and its descendants.
import { useState } from 'react'
import { AsyncForm, Field, Loaded, PageHeader, Pager, Time, optionalText, usePager, useConsole } from '../ui'

export default function AuditLog() {
  const c = useConsole()
  const [tenantFilter, setTenantFilter] = useState<string | undefined>(undefined)
  const pager = usePager((after, signal) => c.api.auditLog.list({ limit: 50, tenantId: tenantFilter }).page({ after }, { signal }), [c.api, tenantFilter])
  return (
    <>
      <PageHeader title="Audit log" subtitle="Administrative actions, newest first. Console actions are recorded under the key that signed in." />
      <AsyncForm label="Filter audit log" className="inline-form" onSubmit={async (f) => setTenantFilter(optionalText(f, 'tenantId'))}>
        <Field label="Only tenant">{(id) => <input id={id} name="tenantId" placeholder="tnt_… (empty: all)" pattern="tnt_[0-9a-f]{32}" />}</Field>
        <button type="submit">Filter</button>
      </AsyncForm>
      <Loaded state={pager} what="audit log">
        {(page) =>
          page.data.length === 0 ? (
            <p className="muted">Nothing recorded.</p>
          ) : (
            <>
              <div className="table-wrap">
                <table data-testid="audit">
                  <caption className="visually-hidden">Audit entries</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Action</th>
                      <th scope="col">Target</th>
                      <th scope="col">Who</th>
                      <th scope="col">Tenant</th>
                      <th scope="col">Details</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((e) => (
                      <tr key={e.id}>
                        <td className="nowrap">
                          <Time iso={e.createdAt} />
                        </td>
                        <td>
                          <code>{e.action}</code>
                        </td>
                        <td className="break">
                          {e.targetType} <code className="small">{e.targetId}</code>
                        </td>
                        <td className="break">
                          {e.actor.kind}
                          {e.actor.keyId && (
                            <div>
                              <code className="small">{e.actor.keyId}</code>
                            </div>
                          )}
                        </td>
                        <td>
                          <code className="small">{e.tenantId}</code>
                        </td>
                        <td className="break small">{Object.keys(e.details).length ? JSON.stringify(e.details) : ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager label="Audit log" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
            </>
          )
        }
      </Loaded>
    </>
  )
}
