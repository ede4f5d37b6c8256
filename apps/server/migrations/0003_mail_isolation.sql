-- Row-level security for the mail tables (same recipe as 0001_isolation.sql).
--> statement-breakpoint
-- Mail tables also honour app.inbox_id, so an inbox key reaches only its own inbox's mail.
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON messages, threads, events, attachments, tenant_keys, jobs, rate_counters, raw_messages TO mailroom_app;
--> statement-breakpoint
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE threads ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE threads FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE attachments FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE tenant_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE rate_counters ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE rate_counters FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE raw_messages ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE raw_messages FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY messages_isolation ON messages FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY threads_isolation ON threads FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY events_isolation ON events FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY attachments_isolation ON attachments FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY tenant_keys_isolation ON tenant_keys FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY jobs_isolation ON jobs FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY rate_counters_isolation ON rate_counters FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY raw_messages_isolation ON raw_messages FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = raw_messages.tenant_id
              AND m.raw_id = raw_messages.id AND m.inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid)))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- Workers claim jobs across tenants only through this function: due, unleased jobs of one kind,
-- round-robin across tenants (each tenant's oldest first), leased for p_lease_seconds.
GRANT SELECT, UPDATE ON jobs TO mailroom_lookup;
--> statement-breakpoint
CREATE POLICY jobs_lookup_read ON jobs FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY jobs_lookup_lease ON jobs FOR UPDATE TO mailroom_lookup USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE FUNCTION mailroom_claim_jobs(p_kind text, p_limit integer, p_lease_seconds integer)
RETURNS TABLE (tenant_id uuid, id uuid, ref_id uuid, payload jsonb, attempts integer)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH due AS (
    SELECT j.tenant_id, j.id, row_number() OVER (PARTITION BY j.tenant_id ORDER BY j.run_at, j.id) AS rn
    FROM jobs j
    WHERE j.kind = p_kind AND j.run_at <= now() AND (j.locked_until IS NULL OR j.locked_until < now())
  ), picked AS (
    SELECT j.tenant_id, j.id FROM jobs j
    WHERE (j.tenant_id, j.id) IN (SELECT d.tenant_id, d.id FROM due d ORDER BY d.rn, d.tenant_id LIMIT p_limit)
    FOR UPDATE SKIP LOCKED
  )
  UPDATE jobs j SET locked_until = now() + make_interval(secs => p_lease_seconds), attempts = j.attempts + 1
  FROM picked p
  WHERE j.tenant_id = p.tenant_id AND j.id = p.id AND (j.locked_until IS NULL OR j.locked_until < now())
  RETURNING j.tenant_id, j.id, j.ref_id, j.payload, j.attempts
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_claim_jobs(text, integer, integer) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_claim_jobs(text, integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_claim_jobs(text, integer, integer) TO mailroom_app;
