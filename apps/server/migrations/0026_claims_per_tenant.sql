-- The three claims (jobs, outbox, webhook deliveries) chose and locked their rows in one statement
-- across every tenant. Citus locks rows (FOR UPDATE SKIP LOCKED) only in a statement that stays on
-- one shard group: the rows are now chosen as before (round-robin across tenants, each tenant's
-- oldest first, the per-tenant cap, the limit, suspended tenants and disabled endpoints left out),
-- then locked and leased tenant by tenant, rows another claimer holds skipped, still under the same
-- advisory lock. Same signatures, results, owners and grants.
CREATE OR REPLACE FUNCTION mailroom_claim_outbox(p_limit integer, p_lease_seconds integer, p_tenant_cap integer)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  t uuid;
  ids uuid[];
BEGIN
  PERFORM pg_advisory_xact_lock(7212001);
  FOR t, ids IN
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
        -- A suspended tenant's outbox (or one under a suspended ancestor) waits for the resume.
        AND NOT EXISTS (SELECT 1 FROM tenants x JOIN tenants s ON (s.id = x.id OR s.id = ANY (x.ancestors))
                        WHERE x.id = d.tenant_id AND s.status = 'suspended')
    ), picked AS (
      SELECT a.tenant_id, a.id FROM allowed a ORDER BY a.rn, a.tenant_id LIMIT p_limit
    )
    SELECT p.tenant_id, array_agg(p.id) FROM picked p GROUP BY p.tenant_id ORDER BY p.tenant_id
  LOOP
    RETURN QUERY
    UPDATE outbox o SET status = 'sending', locked_until = now() + make_interval(secs => p_lease_seconds),
           attempts = o.attempts + 1, updated_at = now()
    WHERE o.tenant_id = t AND o.id IN (
      SELECT x.id FROM outbox x
      WHERE x.tenant_id = t AND x.id = ANY (ids) AND x.status IN ('queued', 'deferred', 'sending')
        AND (x.locked_until IS NULL OR x.locked_until < now())
      FOR UPDATE SKIP LOCKED)
    RETURNING o.tenant_id, o.id;
  END LOOP;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_claim_webhook_deliveries(p_limit integer, p_lease_seconds integer, p_tenant_cap integer)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  t uuid;
  ids uuid[];
BEGIN
  PERFORM pg_advisory_xact_lock(7212002);
  FOR t, ids IN
    WITH busy AS (
      SELECT d.tenant_id, count(*)::int AS n FROM webhook_deliveries d
      WHERE d.status = 'sending' AND d.locked_until > now()
      GROUP BY d.tenant_id
    ), due AS (
      SELECT d.tenant_id, d.id, row_number() OVER (PARTITION BY d.tenant_id ORDER BY d.next_attempt_at, d.id) AS rn
      FROM webhook_deliveries d JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
      WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()
        AND (d.locked_until IS NULL OR d.locked_until < now())
        AND w.status = 'enabled'
    ), allowed AS (
      SELECT x.tenant_id, x.id, x.rn FROM due x LEFT JOIN busy b ON b.tenant_id = x.tenant_id
      WHERE x.rn <= p_tenant_cap - coalesce(b.n, 0)
        AND NOT EXISTS (SELECT 1 FROM tenants y JOIN tenants s ON (s.id = y.id OR s.id = ANY (y.ancestors))
                        WHERE y.id = x.tenant_id AND s.status = 'suspended')
    ), picked AS (
      SELECT a.tenant_id, a.id FROM allowed a ORDER BY a.rn, a.tenant_id LIMIT p_limit
    )
    SELECT p.tenant_id, array_agg(p.id) FROM picked p GROUP BY p.tenant_id ORDER BY p.tenant_id
  LOOP
    RETURN QUERY
    UPDATE webhook_deliveries d SET status = 'sending', locked_until = now() + make_interval(secs => p_lease_seconds),
           attempts = d.attempts + 1, updated_at = now()
    WHERE d.tenant_id = t AND d.id IN (
      SELECT x.id FROM webhook_deliveries x
      WHERE x.tenant_id = t AND x.id = ANY (ids) AND x.status IN ('pending', 'sending')
        AND (x.locked_until IS NULL OR x.locked_until < now())
      FOR UPDATE SKIP LOCKED)
    RETURNING d.tenant_id, d.id;
  END LOOP;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_claim_jobs(p_kind text, p_limit integer, p_lease_seconds integer)
RETURNS TABLE (tenant_id uuid, id uuid, ref_id uuid, payload jsonb, attempts integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  t uuid;
  ids uuid[];
BEGIN
  FOR t, ids IN
    WITH due AS (
      SELECT j.tenant_id, j.id, row_number() OVER (PARTITION BY j.tenant_id ORDER BY j.run_at, j.id) AS rn
      FROM jobs j
      WHERE j.kind = p_kind AND j.run_at <= now() AND (j.locked_until IS NULL OR j.locked_until < now())
    ), picked AS (
      SELECT d.tenant_id, d.id FROM due d ORDER BY d.rn, d.tenant_id LIMIT p_limit
    )
    SELECT p.tenant_id, array_agg(p.id) FROM picked p GROUP BY p.tenant_id ORDER BY p.tenant_id
  LOOP
    RETURN QUERY
    UPDATE jobs j SET locked_until = now() + make_interval(secs => p_lease_seconds), attempts = j.attempts + 1
    WHERE j.tenant_id = t AND j.id IN (
      SELECT x.id FROM jobs x
      WHERE x.tenant_id = t AND x.id = ANY (ids) AND x.kind = p_kind AND x.run_at <= now()
        AND (x.locked_until IS NULL OR x.locked_until < now())
      FOR UPDATE SKIP LOCKED)
    RETURNING j.tenant_id, j.id, j.ref_id, j.payload, j.attempts;
  END LOOP;
END $$;
