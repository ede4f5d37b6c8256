-- An agent's transaction (bound to an inbox: every request of an inbox key) reached its tenant's row
-- and its descendants' by the tenants policies, which only ask for the tenant: it could have read
-- the tenant's children, created or deleted one, and changed its own tenant's name, metadata and own
-- policies, lifting an approval or quarantine policy a person set on the tenant (the trigger of 0040
-- reads the chain's policies). The API gives an inbox key none of it; Postgres refuses it now:
--
-- 1. Bound to an inbox, the tenant's own row alone is read and updated, and no tenant is created
--    or deleted.
-- 2. The tree's trigger (0037) refuses, bound to an inbox, any change of the tenant's row but its
--    event counter (every event an agent's send appends takes its id from it).
DROP POLICY tenants_read ON tenants
--> statement-breakpoint
CREATE POLICY tenants_read ON tenants FOR SELECT TO mailroom_app
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR (coalesce(current_setting('app.inbox_id', true), '') = ''
             AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors)))
--> statement-breakpoint
DROP POLICY tenants_update ON tenants
--> statement-breakpoint
CREATE POLICY tenants_update ON tenants FOR UPDATE TO mailroom_app
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR (coalesce(current_setting('app.inbox_id', true), '') = ''
             AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors)))
  WITH CHECK (id = nullif(current_setting('app.tenant_id', true), '')::uuid
              OR (coalesce(current_setting('app.inbox_id', true), '') = ''
                  AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors)))
--> statement-breakpoint
DROP POLICY tenants_insert ON tenants
--> statement-breakpoint
CREATE POLICY tenants_insert ON tenants FOR INSERT TO mailroom_app
  WITH CHECK (coalesce(current_setting('app.inbox_id', true), '') = ''
              AND (id = nullif(current_setting('app.tenant_id', true), '')::uuid
                   OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors)))
--> statement-breakpoint
DROP POLICY tenants_delete ON tenants
--> statement-breakpoint
CREATE POLICY tenants_delete ON tenants FOR DELETE TO mailroom_app
  USING (coalesce(current_setting('app.inbox_id', true), '') = ''
         AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors))
--> statement-breakpoint
DROP POLICY tenants_delete_root ON tenants
--> statement-breakpoint
CREATE POLICY tenants_delete_root ON tenants FOR DELETE TO mailroom_app
  USING (coalesce(current_setting('app.inbox_id', true), '') = ''
         AND id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND cardinality(ancestors) = 0
         AND current_setting('app.delete_root', true) = 'on')
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_tenants_tree() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.ancestors IS DISTINCT FROM OLD.ancestors OR NEW.id <> OLD.id THEN
      RAISE EXCEPTION 'a tenant cannot be moved' USING ERRCODE = 'check_violation';
    END IF;
    IF coalesce(current_setting('app.inbox_id', true), '') <> ''
       AND (NEW.name IS DISTINCT FROM OLD.name OR NEW.status IS DISTINCT FROM OLD.status
            OR NEW.limits IS DISTINCT FROM OLD.limits OR NEW.metadata IS DISTINCT FROM OLD.metadata
            OR NEW.policies IS DISTINCT FROM OLD.policies OR NEW.parent_policies IS DISTINCT FROM OLD.parent_policies) THEN
      RAISE EXCEPTION 'bound to an inbox, a transaction changes nothing of its tenant but its event counter'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id = nullif(current_setting('app.tenant_id', true), '')::uuid
       AND coalesce(current_setting('app.operator', true), '') <> 'on'
       AND (NEW.status IS DISTINCT FROM OLD.status OR NEW.limits IS DISTINCT FROM OLD.limits
            OR NEW.parent_policies IS DISTINCT FROM OLD.parent_policies) THEN
      RAISE EXCEPTION 'a tenant''s status, limits and imposed policies are set by its parent or the operator'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.parent_id IS NULL THEN
    NEW.ancestors := '{}'::uuid[];
  ELSE
    SELECT p.ancestors || p.id INTO NEW.ancestors FROM tenants p WHERE p.id = NEW.parent_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'parent tenant not found' USING ERRCODE = 'foreign_key_violation';
    END IF;
  END IF;
  RETURN NEW;
END $$
