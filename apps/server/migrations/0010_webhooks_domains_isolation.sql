-- Row-level security for webhooks and custom domains (same recipe as 0001/0005), the webhook
-- delivery claim, the domain lookups, and mailroom_route extended with per-domain catch-alls.
GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks, webhook_deliveries, webhook_attempts, domains, domain_claims TO mailroom_app;
--> statement-breakpoint
ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhooks FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE domains ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE domains FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE domain_claims ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE domain_claims FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Tenant-wide (not inbox-restricted): events of an inbox-scoped transaction still fan out to the
-- tenant's endpoints; only tenant keys reach these tables through the API.
CREATE POLICY webhooks_isolation ON webhooks FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY webhook_deliveries_isolation ON webhook_deliveries FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY webhook_attempts_isolation ON webhook_attempts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY domains_isolation ON domains FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY domain_claims_isolation ON domain_claims FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- The catch-all inbox goes away with its inbox; the domain stays (composite FK, nulling one column).
ALTER TABLE domains ADD CONSTRAINT domains_catch_all_inbox_fk FOREIGN KEY (tenant_id, catch_all_inbox_id)
  REFERENCES inboxes (tenant_id, id) ON DELETE SET NULL (catch_all_inbox_id);
--> statement-breakpoint
GRANT SELECT ON domains, domain_claims, webhooks TO mailroom_lookup;
--> statement-breakpoint
GRANT SELECT, UPDATE ON webhook_deliveries TO mailroom_lookup;
--> statement-breakpoint
CREATE POLICY domains_lookup ON domains FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY domain_claims_lookup ON domain_claims FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY webhooks_lookup ON webhooks FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY webhook_deliveries_lookup_read ON webhook_deliveries FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY webhook_deliveries_lookup_lease ON webhook_deliveries FOR UPDATE TO mailroom_lookup USING (true) WITH CHECK (true);
--> statement-breakpoint
-- Webhook workers claim due deliveries only through this function: round-robin across tenants
-- (each tenant's oldest first), at most p_tenant_cap in flight per tenant, only for enabled
-- endpoints of tenants that are not suspended, FOR UPDATE SKIP LOCKED, serialised by an advisory
-- lock so the in-flight count is exact across nodes. Returns only ids.
CREATE FUNCTION mailroom_claim_webhook_deliveries(p_limit integer, p_lease_seconds integer, p_tenant_cap integer)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM pg_advisory_xact_lock(7212002);
  RETURN QUERY
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
      AND NOT EXISTS (SELECT 1 FROM tenants t JOIN tenants s ON (s.id = t.id OR s.id = ANY (t.ancestors))
                      WHERE t.id = d.tenant_id AND s.status = 'suspended')
  ), allowed AS (
    SELECT x.tenant_id, x.id, x.rn FROM due x LEFT JOIN busy b ON b.tenant_id = x.tenant_id
    WHERE x.rn <= p_tenant_cap - coalesce(b.n, 0)
  ), picked AS (
    SELECT d.tenant_id, d.id FROM webhook_deliveries d
    WHERE (d.tenant_id, d.id) IN (SELECT a.tenant_id, a.id FROM allowed a ORDER BY a.rn, a.tenant_id LIMIT p_limit)
    FOR UPDATE SKIP LOCKED
  )
  UPDATE webhook_deliveries d SET status = 'sending', locked_until = now() + make_interval(secs => p_lease_seconds),
         attempts = d.attempts + 1, updated_at = now()
  FROM picked p
  WHERE d.tenant_id = p.tenant_id AND d.id = p.id
  RETURNING d.tenant_id, d.id;
END $$;
--> statement-breakpoint
ALTER FUNCTION mailroom_claim_webhook_deliveries(integer, integer, integer) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_claim_webhook_deliveries(integer, integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_claim_webhook_deliveries(integer, integer, integer) TO mailroom_app;
--> statement-breakpoint
-- Whether a tenant other than the caller's (app.tenant_id) holds the verified claim on a name:
-- a yes/no, never who.
CREATE FUNCTION mailroom_domain_claimed_elsewhere(p_name text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM domain_claims c WHERE c.name = lower(p_name)
                 AND c.tenant_id IS DISTINCT FROM nullif(current_setting('app.tenant_id', true), '')::uuid)
$$;
--> statement-breakpoint
-- Whether mail for this domain is ours to take (a verified custom domain), for the SMTP door.
CREATE FUNCTION mailroom_domain_verified(p_name text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM domain_claims c WHERE c.name = lower(p_name))
$$;
--> statement-breakpoint
-- Address -> inbox, now with the catch-all of a verified custom domain when no inbox has the address.
CREATE OR REPLACE FUNCTION mailroom_route(p_address text)
RETURNS TABLE (tenant_id uuid, inbox_id uuid, tenant_suspended boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.tenant_id, r.inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM address_routes r JOIN tenants t ON t.id = r.tenant_id
  WHERE r.address = lower(p_address)
  UNION ALL
  SELECT d.tenant_id, d.catch_all_inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM domain_claims c
  JOIN domains d ON d.tenant_id = c.tenant_id AND d.id = c.domain_id
  JOIN tenants t ON t.id = d.tenant_id
  WHERE c.name = substring(lower(p_address) from '@([^@]*)$')
    AND d.catch_all_inbox_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM address_routes r2 WHERE r2.address = lower(p_address))
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_domain_claimed_elsewhere(text) OWNER TO mailroom_lookup;
--> statement-breakpoint
ALTER FUNCTION mailroom_domain_verified(text) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_domain_claimed_elsewhere(text), mailroom_domain_verified(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_domain_claimed_elsewhere(text), mailroom_domain_verified(text) TO mailroom_app;
