-- An agent's transaction (bound to an inbox: every request of an inbox key) reached its tenant's row
-- and its descendants' by the tenants policies, which only ask for the tenant: it could have read
-- the tenants below its own, changed its own tenant's name, metadata and own policies (lifting an
-- approval or quarantine policy a person set on the tenant: the trigger of 0040 reads the chain's
-- policies), and created or deleted a tenant below it. The API gives an inbox key none of it;
-- Postgres refuses it now:
--
-- 1. The policies: bound to an inbox, the tenant's own row alone is read and updated, and no tenant
--    is created or deleted.
-- 2. A trigger of its own on the columns an agent must not set (UPDATE OF; the event counter, the
--    one column an agent's sends moved, is not among them, and leaves the table in 0043), and on
--    inserts and deletes: bound to an inbox, refused.
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
CREATE FUNCTION mailroom_tenants_agent_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('app.inbox_id', true), '') <> '' AND pg_trigger_depth() = 1 THEN
    RAISE EXCEPTION 'bound to an inbox, a transaction changes, creates or deletes no tenant'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$
--> statement-breakpoint
CREATE TRIGGER tenants_agent_guard
  BEFORE INSERT OR DELETE OR UPDATE OF id, parent_id, ancestors, name, status, limits, metadata, policies, parent_policies, created_at
  ON tenants FOR EACH ROW EXECUTE FUNCTION mailroom_tenants_agent_guard()
