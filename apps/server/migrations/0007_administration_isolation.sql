-- Administration tables: the audit log and usage are readable by the tenant and its ancestors
--> statement-breakpoint
-- (through the tenants tree, itself under RLS); everything else follows the plain tenant recipe.
--> statement-breakpoint
GRANT SELECT, INSERT ON audit_log TO mailroom_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON usage_daily, storage_usage TO mailroom_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON sender_rules TO mailroom_app;
--> statement-breakpoint
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE usage_daily ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE usage_daily FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE storage_usage ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE storage_usage FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE sender_rules ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE sender_rules FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY audit_log_read ON audit_log FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = audit_log.tenant_id AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (t.ancestors)));
--> statement-breakpoint
CREATE POLICY audit_log_write ON audit_log FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = audit_log.tenant_id AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (t.ancestors)));
--> statement-breakpoint
CREATE POLICY usage_daily_read ON usage_daily FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = usage_daily.tenant_id AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (t.ancestors)));
--> statement-breakpoint
CREATE POLICY usage_daily_insert ON usage_daily FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY usage_daily_update ON usage_daily FOR UPDATE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY storage_usage_isolation ON storage_usage FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY sender_rules_isolation ON sender_rules FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- Retention: which tenants have mail to expire (their own, an ancestor's or an inbox's retentionDays).
GRANT SELECT ON inboxes TO mailroom_lookup;
--> statement-breakpoint
CREATE POLICY inboxes_lookup ON inboxes FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE FUNCTION mailroom_retention_targets()
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id FROM tenants t
  WHERE EXISTS (SELECT 1 FROM tenants a WHERE (a.id = t.id OR a.id = ANY (t.ancestors)) AND a.limits ->> 'retentionDays' IS NOT NULL)
     OR EXISTS (SELECT 1 FROM inboxes i WHERE i.tenant_id = t.id AND i.limits ->> 'retentionDays' IS NOT NULL)
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_retention_targets() OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_retention_targets() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_retention_targets() TO mailroom_app;
--> statement-breakpoint
-- Limits are capped by every ancestor, but a tenant cannot see its ancestors under RLS: this returns
-- the limits along the chain of the current tenant or one of its descendants, and nothing else.
CREATE FUNCTION mailroom_limit_chain(p_tenant uuid)
RETURNS TABLE (limits jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT a.limits FROM tenants me JOIN tenants a ON (a.id = me.id OR a.id = ANY (me.ancestors))
  WHERE me.id = p_tenant
    AND (me.id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (me.ancestors))
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_limit_chain(uuid) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_limit_chain(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_limit_chain(uuid) TO mailroom_app;
