// The quarantine policy form (DESIGN section 7), shared by the tenant and inbox pages: what this
// tenant or inbox sets, what is imposed from above, and what is in force (the strictest of them).
import type { EffectivePolicies, Policies, QuarantinePolicy } from '@mailroom/sdk'
import { AsyncForm, Badge, Field, text } from '../ui'

export function describeQuarantine(q: QuarantinePolicy | undefined | null): string {
  if (!q) return 'never'
  const parts = [
    q.minRisk ? `${q.minRisk} risk and above` : null,
    q.minScore != null ? `injection score ${q.minScore} and above` : null,
    q.dmarcFail ? 'DMARC failure' : null,
  ].filter(Boolean)
  return parts.length ? parts.join(', or ') : 'never'
}

export function QuarantinePolicyCard({
  id,
  editing,
  imposed,
  effective,
  note,
  save,
}: {
  id: string
  /** The policy this form edits (the tenant's own, the one imposed on a child, or an inbox's). */
  editing: Policies
  /** Set from above, shown for context; cannot be loosened here. */
  imposed?: Policies | undefined
  effective?: EffectivePolicies | undefined
  note: string
  save: (p: Policies) => Promise<void>
}) {
  const q = editing.quarantine ?? {}
  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Quarantine</h2>
      <p className="muted">{note}</p>
      <dl className="facts">
        {imposed && (
          <>
            <dt>Imposed from above</dt>
            <dd>{describeQuarantine(imposed.quarantine)}</dd>
          </>
        )}
        {effective && (
          <>
            <dt>In force</dt>
            <dd data-testid={`${id}-effective`}>
              <Badge tone={describeQuarantine(effective.quarantine) === 'never' ? undefined : 'info'}>{describeQuarantine(effective.quarantine)}</Badge>
            </dd>
          </>
        )}
      </dl>
      <AsyncForm
        label="Quarantine policy"
        onSubmit={async (f) => {
          const risk = text(f, 'minRisk')
          const score = text(f, 'minScore')
          await save({
            quarantine: {
              minRisk: risk === 'medium' || risk === 'high' ? risk : null,
              minScore: score === '' ? null : Number(score),
              dmarcFail: f.get('dmarcFail') === 'on',
            },
          })
        }}
      >
        <div className="grid-fields">
          <Field label="Quarantine at risk" hint="Held back from the agent until a person releases it">
            {(fid) => (
              <select id={fid} name="minRisk" defaultValue={q.minRisk ?? ''}>
                <option value="">never by risk</option>
                <option value="medium">medium and high</option>
                <option value="high">high</option>
              </select>
            )}
          </Field>
          <Field label="Quarantine at injection score" hint="0 to 1; empty: not by score">
            {(fid) => <input id={fid} name="minScore" type="number" min={0} max={1} step={0.05} defaultValue={q.minScore ?? ''} placeholder="none" />}
          </Field>
          <Field label="Quarantine on DMARC failure">{(fid) => <input id={fid} name="dmarcFail" type="checkbox" defaultChecked={q.dmarcFail ?? false} />}</Field>
        </div>
        <button type="submit" className="primary">
          Save policy
        </button>
      </AsyncForm>
    </section>
  )
}
