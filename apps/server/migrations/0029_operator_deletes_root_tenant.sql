-- The operator may delete a top-level tenant (DELETE /v1/tenants/{id} with the operator key, or
-- `mailroom tenant delete`). Until now only an ancestor could delete a tenant, so a top-level one
-- could not be deleted at all. The deleting transaction is bound to the tenant itself and says so in
-- app.delete_root (tenancy/service.ts deleteTenant). No tenant's request sets it, so no tenant key
-- can delete its own tenant.
CREATE POLICY tenants_delete_root ON tenants FOR DELETE TO mailroom_app
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND cardinality(ancestors) = 0
         AND current_setting('app.delete_root', true) = 'on');
