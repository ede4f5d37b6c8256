-- An agent's transaction (bound to an inbox: every request of an inbox key) reached its tenant's row
-- and its descendants' by the tenants policies, which only ask for the tenant: it could have changed
-- its own tenant's name, metadata and own policies (lifting an approval or quarantine policy a person
-- set on the tenant: the trigger of 0040 reads the chain's policies), and created or deleted a tenant
-- below it. The API gives an inbox key none of it; Postgres refuses it now: bound to an inbox, a
-- transaction sets none of the tenant's columns but its event counter (every event an agent's send
-- appends takes its id from it), and creates or deletes no tenant.
--
-- A trigger of its own, on the columns an agent must not set (UPDATE OF), so that the event
-- counter's update, the hottest statement on tenants, fires nothing new. The tenants policies are
-- left as they were: a transaction bound to an inbox still reads the tenants below its own (their
-- names and metadata), which the API gives an inbox key none of.
CREATE FUNCTION mailroom_tenants_agent_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('app.inbox_id', true), '') <> '' AND pg_trigger_depth() = 1 THEN
    RAISE EXCEPTION 'bound to an inbox, a transaction changes nothing of a tenant but its event counter, and creates or deletes none'
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
