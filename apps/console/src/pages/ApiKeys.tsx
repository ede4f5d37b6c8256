// API keys of the tenant: tenant keys and inbox keys, minted (shown once) and revoked.
import { useState } from 'react'
import type { CreatedApiKey } from '@mailroom/sdk'
import { AsyncForm, Field, Loaded, PageHeader, Pager, SecretOnce, optionalText, text, usePager, useConsole } from '../ui'
import { KeyTable } from './Inbox'

export default function ApiKeys() {
  const c = useConsole()
  const [created, setCreated] = useState<CreatedApiKey | null>(null)
  const pager = usePager((after, signal) => c.api.apiKeys.list({ limit: 50 }).page({ after }, { signal }), [c.api])
  return (
    <>
      <PageHeader title="API keys" subtitle="Tenant keys manage this tenant and its descendants; inbox keys one inbox. Inbox keys are minted on their inbox's page." />
      {created && <SecretOnce title={`Tenant key ${created.name ?? created.id}:`} value={created.key} onDone={() => setCreated(null)} />}
      <section className="card" aria-labelledby="mint-tk-h">
        <h2 id="mint-tk-h">Mint a tenant key</h2>
        <AsyncForm
          label="Mint tenant key"
          className="inline-form"
          onSubmit={async (f) => {
            const expires = text(f, 'expiresAt')
            const key = await c.api.apiKeys.create({ scope: 'tenant', name: optionalText(f, 'name'), ...(expires ? { expiresAt: new Date(expires) } : {}) })
            setCreated(key)
            pager.reload()
          }}
        >
          <Field label="Name">{(id) => <input id={id} name="name" maxLength={200} />}</Field>
          <Field label="Expires" hint="Optional">
            {(id) => <input id={id} name="expiresAt" type="datetime-local" />}
          </Field>
          <button type="submit" className="primary">
            Mint key
          </button>
        </AsyncForm>
      </section>
      <Loaded state={pager} what="keys">
        {(page) => (
          <>
            <KeyTable keys={page.data} onChanged={pager.reload} />
            <Pager label="Keys" pageNumber={pager.pageNumber} next={pager.next} previous={pager.previous} />
          </>
        )}
      </Loaded>
    </>
  )
}
