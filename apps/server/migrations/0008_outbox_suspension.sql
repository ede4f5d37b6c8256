-- Suspension pauses a tenant's outbox; resuming restores it (the rows simply become claimable again).
CREATE OR REPLACE FUNCTION mailroom_claim_outbox(p_limit integer, p_lease_seconds integer, p_tenant_cap integer)
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
      -- A suspended tenant's outbox (or one under a suspended ancestor) waits for the resume.
      AND NOT EXISTS (SELECT 1 FROM tenants t JOIN tenants s ON (s.id = t.id OR s.id = ANY (t.ancestors))
                      WHERE t.id = o.tenant_id AND s.status = 'suspended')
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
