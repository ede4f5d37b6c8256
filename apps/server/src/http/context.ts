// What every HTTP request carries: its id and the caller (after auth). The services and the
// dependency bag they share live outside the HTTP layer (../deps.ts).

/** Who is calling, resolved by the auth middleware. Ids are internal uuids. */
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

export interface AppEnv {
  Variables: {
    requestId: string
    principal: Principal
  }
}
