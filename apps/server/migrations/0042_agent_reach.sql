-- What an agent's transaction (bound to an inbox: every request of an inbox key) reaches of its
-- tenant's administration: until now everything the tenant's policies give the tenant, since they
-- ask for the tenant only. It could have made itself a tenant key (a row of api_keys, and its route),
-- signed a person in to the console (a row of console_sessions), read and changed the tenant's
-- domains and webhooks, and read the audit log (every inbox's decisions, with their recipients) or
-- written entries in a person's name. The API gives an inbox key none of it; Postgres refuses it now.
-- Bound to an inbox, a transaction:
--
-- - reads its own inbox's keys (as before) and writes none; a key's route, none;
-- - reaches no console session, domain or domain claim;
-- - reads the tenant's webhooks for all its inboxes and for its own (an event its send appends is
--   fanned out to them in the same transaction), not another inbox's, and writes none; reaches no
--   webhook attempt;
-- - writes audit entries in its own name only (an inbox key's, as cancelling a scheduled send
--   does), and reads none.
--
-- And a key is an inbox key exactly when it names an inbox (a CHECK): an inbox key without an inbox
-- would have been bound to the whole tenant.
DROP POLICY api_keys_isolation ON api_keys
--> statement-breakpoint
CREATE POLICY api_keys_isolation ON api_keys FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
CREATE POLICY api_keys_create ON api_keys FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY api_keys_change ON api_keys FOR UPDATE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY api_keys_remove ON api_keys FOR DELETE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scope_inbox CHECK ((scope = 'inbox') = (inbox_id IS NOT NULL))
--> statement-breakpoint
DROP POLICY key_routes_isolation ON key_routes
--> statement-breakpoint
CREATE POLICY key_routes_isolation ON key_routes FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
DROP POLICY console_sessions_isolation ON console_sessions
--> statement-breakpoint
CREATE POLICY console_sessions_isolation ON console_sessions FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
DROP POLICY domains_isolation ON domains
--> statement-breakpoint
CREATE POLICY domains_isolation ON domains FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
DROP POLICY domain_claims_isolation ON domain_claims
--> statement-breakpoint
CREATE POLICY domain_claims_isolation ON domain_claims FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
DROP POLICY webhooks_isolation ON webhooks
--> statement-breakpoint
CREATE POLICY webhooks_isolation ON webhooks FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id IS NULL
              OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
CREATE POLICY webhooks_create ON webhooks FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY webhooks_change ON webhooks FOR UPDATE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY webhooks_remove ON webhooks FOR DELETE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
DROP POLICY webhook_attempts_isolation ON webhook_attempts
--> statement-breakpoint
CREATE POLICY webhook_attempts_isolation ON webhook_attempts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
DROP POLICY audit_log_read ON audit_log
--> statement-breakpoint
CREATE POLICY audit_log_read ON audit_log FOR SELECT TO mailroom_app
  USING (coalesce(current_setting('app.inbox_id', true), '') = ''
         AND (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
              OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (tenant_ancestors)))
--> statement-breakpoint
DROP POLICY audit_log_write ON audit_log
--> statement-breakpoint
CREATE POLICY audit_log_write ON audit_log FOR INSERT TO mailroom_app
  WITH CHECK ((tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
               OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (tenant_ancestors))
              AND (coalesce(current_setting('app.inbox_id', true), '') = ''
                   OR (actor_kind = 'inbox' AND tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)))
