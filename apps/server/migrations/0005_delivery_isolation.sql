-- Row-level security for the sending tables (same recipe as 0001/0003) and the outbox claim.
GRANT SELECT, INSERT, UPDATE, DELETE ON outbox, suppressions, sending_states, idempotency_keys TO mailroom_app;
--> statement-breakpoint
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE suppressions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE suppressions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE sending_states ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE sending_states FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Outbox rows belong to a sending inbox: an inbox key sees only its own inbox's deliveries.
CREATE POLICY outbox_isolation ON outbox FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY suppressions_isolation ON suppressions FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY sending_states_isolation ON sending_states FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY idempotency_keys_isolation ON idempotency_keys FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
GRANT SELECT, UPDATE ON outbox TO mailroom_lookup;
--> statement-breakpoint
CREATE POLICY outbox_lookup_read ON outbox FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY outbox_lookup_lease ON outbox FOR UPDATE TO mailroom_lookup USING (true) WITH CHECK (true);
--> statement-breakpoint
-- Delivery workers claim due outbox rows only through this function: round-robin across tenants
-- (each tenant's oldest first, so one tenant's backlog never queues ahead of another's mail), at
-- most p_tenant_cap rows in flight per tenant, FOR UPDATE SKIP LOCKED. Claims are serialised by an
-- advisory lock so the in-flight count a claim reads is exact across nodes. Returns only ids.
CREATE FUNCTION mailroom_claim_outbox(p_limit integer, p_lease_seconds integer, p_tenant_cap integer)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM pg_advisory_xact_lock(7212001);
  RETURN QUERY
  WITH busy AS (
    SELECT o.tenant_id, count(*)::int AS n FROM outbox o
    WHERE o.status = 'sending' AND o.locked_until > now()
    GROUP BY o.tenant_id
  ), due AS (
    SELECT o.tenant_id, o.id, row_number() OVER (PARTITION BY o.tenant_id ORDER BY o.next_attempt_at, o.id) AS rn
    FROM outbox o
    WHERE o.status IN ('queued', 'deferred', 'sending') AND o.next_attempt_at <= now()
      AND (o.locked_until IS NULL OR o.locked_until < now())
  ), allowed AS (
    SELECT d.tenant_id, d.id, d.rn FROM due d LEFT JOIN busy b ON b.tenant_id = d.tenant_id
    WHERE d.rn <= p_tenant_cap - coalesce(b.n, 0)
  ), picked AS (
    SELECT o.tenant_id, o.id FROM outbox o
    WHERE (o.tenant_id, o.id) IN (SELECT a.tenant_id, a.id FROM allowed a ORDER BY a.rn, a.tenant_id LIMIT p_limit)
    FOR UPDATE SKIP LOCKED
  )
  UPDATE outbox o SET status = 'sending', locked_until = now() + make_interval(secs => p_lease_seconds),
         attempts = o.attempts + 1, updated_at = now()
  FROM picked p
  WHERE o.tenant_id = p.tenant_id AND o.id = p.id
  RETURNING o.tenant_id, o.id;
END $$;
--> statement-breakpoint
ALTER FUNCTION mailroom_claim_outbox(integer, integer, integer) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_claim_outbox(integer, integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_claim_outbox(integer, integer, integer) TO mailroom_app;
