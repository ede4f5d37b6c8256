// One tenant: rename, suspend or resume, delete, its limits and policies, its sending state, act
// inside it.
import type { SendingState, Tenant as TenantT, TenantLimits } from '@mailroom/sdk'
import { ActionButton, AsyncForm, Badge, Field, Loaded, PageHeader, Status, Time, formatBytes, optionalInt, text, useAsync, useConsole } from '../ui'
import { navigate, useParams } from '../router'
import { QuarantinePolicyCard } from '../components/QuarantinePolicy'

export const TENANT_LIMITS: { key: keyof TenantLimits; label: string; hint?: string }[] = [
  { key: 'maxInboxes', label: 'Inboxes at most' },
  { key: 'maxStoredBytes', label: 'Stored bytes at most', hint: 'SMTP answers 552 past it' },
  { key: 'maxMessagesPerDay', label: 'Messages received per day', hint: 'UTC days; SMTP answers 452 past it' },
  { key: 'maxMessageBytes', label: 'Largest message (bytes)', hint: 'At least 1024' },
  { key: 'sendPerMinute', label: 'Sends per minute' },
  { key: 'sendPerDay', label: 'Sends per day' },
  { key: 'receivePerMinute', label: 'Received per minute' },
  { key: 'retentionDays', label: 'Keep mail for (days)' },
  { key: 'apiRequestsPerSecond', label: 'API requests per second' },
  { key: 'apiBurst', label: 'API burst' },
]

export default function Tenant() {
  const c = useConsole()
  const { tenantId } = useParams()
  const state = useAsync(async (signal) => {
    const [tenant, sending] = await Promise.all([c.api.tenants.get(tenantId!, { signal }), c.api.tenants.sending(tenantId!, { signal }).catch(() => null)])
    return { tenant, sending }
  }, [c.api, tenantId])
  return (
    <Loaded state={state} what="tenant">
      {({ tenant, sending }) => <TenantBody tenant={tenant} sending={sending} reload={state.reload} />}
    </Loaded>
  )
}

function TenantBody({ tenant, sending, reload }: { tenant: TenantT; sending: SendingState | null; reload: () => void }) {
  const c = useConsole()
  const isSelf = tenant.id === c.tenantId
  const suspended = tenant.status === 'suspended'
  return (
    <>
      <PageHeader title={tenant.name} subtitle={<code>{tenant.id}</code>}>
        <Status value={tenant.status} />
        {!isSelf && (
          <>
            <button type="button" onClick={() => c.actAs(tenant.id)} disabled={suspended}>
              Act inside
            </button>
            <ActionButton
              action={async () => {
                await (suspended ? c.api.tenants.resume(tenant.id) : c.api.tenants.suspend(tenant.id))
                c.notify(`${tenant.name} ${suspended ? 'resumed' : 'suspended'}`)
                reload()
              }}
              confirm={suspended ? undefined : `Suspend ${tenant.name}? Its keys stop working and its mail waits until it is resumed.`}
            >
              {suspended ? 'Resume' : 'Suspend'}
            </ActionButton>
            <ActionButton
              danger
              confirm={`Delete ${tenant.name} (${tenant.id}) with all its inboxes, mail, keys and descendants? This cannot be undone.`}
              action={async () => {
                await c.api.tenants.delete(tenant.id)
                c.notify(`${tenant.name} deleted`)
                navigate('/tenants')
              }}
            >
              Delete
            </ActionButton>
          </>
        )}
      </PageHeader>
      <div className="two-col">
        <section className="card" aria-labelledby="rename-h">
          <h2 id="rename-h">Name</h2>
          <AsyncForm
            label="Rename tenant"
            className="inline-form"
            onSubmit={async (f) => {
              await c.api.tenants.update(tenant.id, { name: text(f, 'name') })
              c.notify('Renamed')
              reload()
            }}
          >
            <Field label="Name">{(id) => <input id={id} name="name" defaultValue={tenant.name} required maxLength={200} />}</Field>
            <button type="submit">Rename</button>
          </AsyncForm>
          <dl className="facts">
            <dt>Parent</dt>
            <dd>{tenant.parentId ? <code>{tenant.parentId}</code> : 'none (top level)'}</dd>
            <dt>Created</dt>
            <dd>
              <Time iso={tenant.createdAt} />
            </dd>
            <dt>Metadata</dt>
            <dd>
              <code className="break">{JSON.stringify(tenant.metadata)}</code>
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="sending-h">
          <h2 id="sending-h">Sending</h2>
          {sending ? (
            <>
              <dl className="facts">
                <dt>State</dt>
                <dd>
                  {sending.paused ? <Badge tone="bad">paused</Badge> : <Badge tone="ok">sending</Badge>} {sending.pausedReason}{' '}
                  {sending.pausedAt && <Time iso={sending.pausedAt} />}
                </dd>
                <dt>Bounce rate</dt>
                <dd>{(sending.bounceRate * 100).toFixed(2)}%</dd>
                <dt>Complaint rate</dt>
                <dd>{(sending.complaintRate * 100).toFixed(3)}%</dd>
                <dt>IP pool</dt>
                <dd>{sending.ipPool}</dd>
              </dl>
              {sending.paused && !isSelf && (
                <ActionButton
                  action={async () => {
                    await c.api.tenants.resumeSending(tenant.id)
                    c.notify('Sending resumed')
                    reload()
                  }}
                >
                  Resume sending
                </ActionButton>
              )}
            </>
          ) : (
            <p className="muted">Not readable with this key.</p>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="limits-h">
        <h2 id="limits-h">Limits</h2>
        {isSelf && <p className="muted">A tenant&apos;s limits are set by its parent. Empty: none of its own (its parent&apos;s or the deployment&apos;s apply).</p>}
        <AsyncForm
          label="Tenant limits"
          onSubmit={async (f) => {
            const limits: Record<string, number | null> = {}
            for (const l of TENANT_LIMITS) limits[l.key] = optionalInt(f, l.key)
            await c.api.tenants.update(tenant.id, { limits: limits as TenantLimits })
            c.notify('Limits saved')
            reload()
          }}
        >
          <fieldset disabled={isSelf} className="grid-fields">
            <legend className="visually-hidden">Limits of {tenant.name}</legend>
            {TENANT_LIMITS.map((l) => (
              <Field key={l.key} label={l.label} hint={l.key === 'maxStoredBytes' && tenant.limits.maxStoredBytes ? formatBytes(tenant.limits.maxStoredBytes) : l.hint}>
                {(id) => <input id={id} name={l.key} type="number" min={0} inputMode="numeric" defaultValue={tenant.limits[l.key] ?? ''} placeholder="none" />}
              </Field>
            ))}
          </fieldset>
          {!isSelf && (
            <button type="submit" className="primary">
              Save limits
            </button>
          )}
        </AsyncForm>
      </section>
      <QuarantinePolicyCard
        id="tenant-quarantine"
        editing={isSelf ? tenant.policies : tenant.parentPolicies}
        imposed={isSelf ? tenant.parentPolicies : undefined}
        effective={tenant.effectivePolicies}
        note={
          isSelf
            ? "This tenant's own policy, for all its inboxes and descendants. What is imposed from above still applies: the strictest wins."
            : `Imposed on ${tenant.name} and its descendants: they cannot loosen it. Its own policy is ${tenant.policies.quarantine ? 'set too' : 'not set'}.`
        }
        save={async (policies) => {
          await c.api.tenants.update(tenant.id, { policies })
          c.notify('Policy saved')
          reload()
        }}
      />
    </>
  )
}
