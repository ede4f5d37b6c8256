// Who is calling: what an API key (or the operator key) resolves to. The HTTP door resolves it
// (http/caller.ts); services that record or check the caller (audit, limits) take it from here.

/** Who is calling, resolved from the request's key. Ids are internal uuids. */
export type Principal =
  | {
      kind: 'tenant'
      keyId: string
      /** The tenant the key belongs to. */
      keyTenantId: string
      /** The tenant this request acts in: the key's own, or a descendant named by Mailroom-Tenant. */
      tenantId: string
      inboxId: null
    }
  | { kind: 'inbox'; keyId: string; keyTenantId: string; tenantId: string; inboxId: string }
  | { kind: 'operator'; tenantId: string | null; inboxId: null }

