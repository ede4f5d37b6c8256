-- A sender rule an ancestor set inside a tenant (set_by_tenant_id not the tenant: an outbound allow
-- list a platform imposes on its client, say) is removed or changed by that ancestor or the
-- operator, never by the tenant (DELETE /v1/sender-rules/{id} checks the caller). The API held to it
-- alone: the policy sender_rules_isolation lets any statement bound to the tenant delete the rule.
-- Postgres refuses it now, unless the transaction says the caller was checked
-- (app.rule_setter_checked, set by that route once it has; no other request sets it), as
-- app.operator does for a tenant's status (0037) and app.sending_manager for its sending (0038). A
-- rule that goes by cascade with its inbox or its tenant (pg_trigger_depth() above 1: the foreign
-- key's own action) goes as before.
CREATE FUNCTION mailroom_sender_rules_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.set_by_tenant_id IS DISTINCT FROM OLD.tenant_id
     AND OLD.tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
     AND pg_trigger_depth() = 1
     AND coalesce(current_setting('app.rule_setter_checked', true), '') <> 'on' THEN
    RAISE EXCEPTION 'a sender rule an ancestor set is removed or changed by that ancestor or the operator'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER sender_rules_guard BEFORE UPDATE OR DELETE ON sender_rules FOR EACH ROW EXECUTE FUNCTION mailroom_sender_rules_guard();
