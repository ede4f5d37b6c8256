-- The schema in forms Citus can distribute by tenant_id (issue 20; test/db/citus-compat.test.ts holds
-- every table to it), with every guarantee kept on plain Postgres.
--
-- 1. Policies. Citus re-parses a CREATE POLICY on a distributed table from the statement Postgres has
-- already transformed, and Postgres rewrites an IS NULL test in place: `nullif(...) IS NULL` then
-- fails there ("unrecognized node type: 121", a NullIfExpr). "No inbox set" is now written
-- `coalesce(current_setting('app.inbox_id', true), '') = ''`: the same truth table, no IS NULL.
DROP POLICY inboxes_isolation ON inboxes
--> statement-breakpoint
CREATE POLICY inboxes_isolation ON inboxes FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY api_keys_isolation ON api_keys
--> statement-breakpoint
CREATE POLICY api_keys_isolation ON api_keys FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY address_routes_isolation ON address_routes
--> statement-breakpoint
CREATE POLICY address_routes_isolation ON address_routes FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY threads_isolation ON threads
--> statement-breakpoint
CREATE POLICY threads_isolation ON threads FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY events_isolation ON events
--> statement-breakpoint
CREATE POLICY events_isolation ON events FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY attachments_isolation ON attachments
--> statement-breakpoint
CREATE POLICY attachments_isolation ON attachments FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY outbox_isolation ON outbox
--> statement-breakpoint
CREATE POLICY outbox_isolation ON outbox FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY message_refs_isolation ON message_refs
--> statement-breakpoint
CREATE POLICY message_refs_isolation ON message_refs FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY messages_isolation ON messages
--> statement-breakpoint
CREATE POLICY messages_isolation ON messages FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR (inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid AND NOT quarantined)))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR (inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid AND NOT quarantined)))
--> statement-breakpoint
DROP POLICY sender_rules_isolation ON sender_rules
--> statement-breakpoint
CREATE POLICY sender_rules_isolation ON sender_rules FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
--> statement-breakpoint
DROP POLICY console_operator_sessions_untenanted ON console_operator_sessions
--> statement-breakpoint
CREATE POLICY console_operator_sessions_untenanted ON console_operator_sessions FOR ALL TO mailroom_app
  USING (coalesce(nullif(current_setting('app.tenant_id', true), ''), '') = '')
  WITH CHECK (coalesce(nullif(current_setting('app.tenant_id', true), ''), '') = '')
--> statement-breakpoint
-- 2. No sub-queries in policies (Citus refuses them). raw_messages looked through messages for an
-- inbox key: the inboxes holding a visible (not quarantined) message made of the raw bytes are now kept
-- on the raw row itself, by a trigger on messages, and the policy reads that column.
ALTER TABLE raw_messages ADD COLUMN inbox_ids uuid[] DEFAULT '{}'::uuid[] NOT NULL
--> statement-breakpoint
GRANT SELECT (tenant_id, raw_id, inbox_id, quarantined) ON messages TO mailroom_lookup
--> statement-breakpoint
GRANT SELECT (tenant_id, id, inbox_ids), UPDATE (inbox_ids) ON raw_messages TO mailroom_lookup
--> statement-breakpoint
CREATE POLICY messages_lookup ON messages FOR SELECT TO mailroom_lookup USING (true)
--> statement-breakpoint
CREATE POLICY raw_messages_lookup_read ON raw_messages FOR SELECT TO mailroom_lookup USING (true)
--> statement-breakpoint
CREATE POLICY raw_messages_lookup_inboxes ON raw_messages FOR UPDATE TO mailroom_lookup USING (true) WITH CHECK (true)
--> statement-breakpoint
-- The inboxes of one raw message, recomputed from its messages (same tenant, so on Citus the same
-- colocated shard group: a trigger may read and write it locally).
CREATE FUNCTION mailroom_raw_inboxes_refresh(p_tenant uuid, p_raw uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE raw_messages r
  SET inbox_ids = array(SELECT DISTINCT m.inbox_id FROM messages m
                        WHERE m.tenant_id = p_tenant AND m.raw_id = p_raw AND NOT m.quarantined ORDER BY 1)
  WHERE r.tenant_id = p_tenant AND r.id = p_raw;
END
$$
--> statement-breakpoint
CREATE FUNCTION mailroom_raw_inboxes_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE raw_messages SET inbox_ids = inbox_ids || NEW.inbox_id
    WHERE tenant_id = NEW.tenant_id AND id = NEW.raw_id AND NOT (NEW.inbox_id = ANY (inbox_ids));
    RETURN NULL;
  END IF;
  PERFORM mailroom_raw_inboxes_refresh(OLD.tenant_id, OLD.raw_id);
  IF TG_OP = 'UPDATE' AND (NEW.tenant_id, NEW.raw_id) IS DISTINCT FROM (OLD.tenant_id, OLD.raw_id) THEN
    PERFORM mailroom_raw_inboxes_refresh(NEW.tenant_id, NEW.raw_id);
  END IF;
  RETURN NULL;
END
$$
--> statement-breakpoint
ALTER FUNCTION mailroom_raw_inboxes_refresh(uuid, uuid) OWNER TO mailroom_lookup
--> statement-breakpoint
ALTER FUNCTION mailroom_raw_inboxes_sync() OWNER TO mailroom_lookup
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_raw_inboxes_refresh(uuid, uuid), mailroom_raw_inboxes_sync() FROM PUBLIC
--> statement-breakpoint
CREATE TRIGGER messages_raw_inboxes_insert AFTER INSERT ON messages FOR EACH ROW
  WHEN (NOT NEW.quarantined) EXECUTE FUNCTION mailroom_raw_inboxes_sync()
--> statement-breakpoint
CREATE TRIGGER messages_raw_inboxes_update AFTER UPDATE OF quarantined, inbox_id, raw_id, tenant_id ON messages FOR EACH ROW
  WHEN ((OLD.quarantined, OLD.inbox_id, OLD.raw_id, OLD.tenant_id) IS DISTINCT FROM (NEW.quarantined, NEW.inbox_id, NEW.raw_id, NEW.tenant_id))
  EXECUTE FUNCTION mailroom_raw_inboxes_sync()
--> statement-breakpoint
CREATE TRIGGER messages_raw_inboxes_delete AFTER DELETE ON messages FOR EACH ROW
  WHEN (NOT OLD.quarantined) EXECUTE FUNCTION mailroom_raw_inboxes_sync()
--> statement-breakpoint
-- The raw messages stored so far (RLS forced on the owner too: lifted inside this transaction only).
ALTER TABLE raw_messages NO FORCE ROW LEVEL SECURITY
--> statement-breakpoint
ALTER TABLE messages NO FORCE ROW LEVEL SECURITY
--> statement-breakpoint
UPDATE raw_messages r
SET inbox_ids = array(SELECT DISTINCT m.inbox_id FROM messages m
                      WHERE m.tenant_id = r.tenant_id AND m.raw_id = r.id AND NOT m.quarantined ORDER BY 1)
--> statement-breakpoint
DROP POLICY raw_messages_isolation ON raw_messages
--> statement-breakpoint
CREATE POLICY raw_messages_isolation ON raw_messages FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR nullif(current_setting('app.inbox_id', true), '')::uuid = ANY (inbox_ids)))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
--> statement-breakpoint
-- audit_log and usage_daily are readable by the tenant's ancestors: they looked the tenant up in
-- tenants. A tenant never moves (mailroom_tenants_tree), so its ancestors are copied onto each row when
-- it is written (by a trigger: never supplied, never updated by hand) and the policies read that copy.
ALTER TABLE audit_log ADD COLUMN tenant_ancestors uuid[] DEFAULT '{}'::uuid[] NOT NULL
--> statement-breakpoint
ALTER TABLE usage_daily ADD COLUMN tenant_ancestors uuid[] DEFAULT '{}'::uuid[] NOT NULL
--> statement-breakpoint
CREATE FUNCTION mailroom_tenant_ancestors_copy() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_ancestors := coalesce((SELECT t.ancestors FROM tenants t WHERE t.id = NEW.tenant_id), '{}'::uuid[]);
  RETURN NEW;
END
$$
--> statement-breakpoint
ALTER FUNCTION mailroom_tenant_ancestors_copy() OWNER TO mailroom_lookup
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_tenant_ancestors_copy() FROM PUBLIC
--> statement-breakpoint
CREATE TRIGGER audit_log_ancestors BEFORE INSERT OR UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION mailroom_tenant_ancestors_copy()
--> statement-breakpoint
CREATE TRIGGER usage_daily_ancestors BEFORE INSERT OR UPDATE ON usage_daily FOR EACH ROW EXECUTE FUNCTION mailroom_tenant_ancestors_copy()
--> statement-breakpoint
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY
--> statement-breakpoint
UPDATE audit_log x SET tenant_ancestors = t.ancestors FROM tenants t WHERE t.id = x.tenant_id
--> statement-breakpoint
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY
--> statement-breakpoint
ALTER TABLE usage_daily NO FORCE ROW LEVEL SECURITY
--> statement-breakpoint
UPDATE usage_daily x SET tenant_ancestors = t.ancestors FROM tenants t WHERE t.id = x.tenant_id
--> statement-breakpoint
ALTER TABLE usage_daily FORCE ROW LEVEL SECURITY
--> statement-breakpoint
ALTER TABLE raw_messages FORCE ROW LEVEL SECURITY
--> statement-breakpoint
ALTER TABLE messages FORCE ROW LEVEL SECURITY
--> statement-breakpoint
DROP POLICY audit_log_read ON audit_log
--> statement-breakpoint
CREATE POLICY audit_log_read ON audit_log FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (tenant_ancestors))
--> statement-breakpoint
DROP POLICY audit_log_write ON audit_log
--> statement-breakpoint
CREATE POLICY audit_log_write ON audit_log FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (tenant_ancestors))
--> statement-breakpoint
DROP POLICY usage_daily_read ON usage_daily
--> statement-breakpoint
CREATE POLICY usage_daily_read ON usage_daily FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (tenant_ancestors))
--> statement-breakpoint
-- 3. Foreign keys. Citus refuses SET NULL over a key that holds the distribution column: the two such
-- keys become plain keys, and a trigger on the parent clears the one column first (what SET NULL (col)
-- did; the old messages -> threads key would have nulled tenant_id too).
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_thread_id_threads_tenant_id_id_fk
--> statement-breakpoint
ALTER TABLE messages ADD CONSTRAINT messages_tenant_id_thread_id_threads_tenant_id_id_fk FOREIGN KEY (tenant_id, thread_id)
  REFERENCES threads (tenant_id, id) ON DELETE NO ACTION ON UPDATE NO ACTION
--> statement-breakpoint
ALTER TABLE domains DROP CONSTRAINT domains_catch_all_inbox_fk
--> statement-breakpoint
ALTER TABLE domains ADD CONSTRAINT domains_catch_all_inbox_fk FOREIGN KEY (tenant_id, catch_all_inbox_id)
  REFERENCES inboxes (tenant_id, id) ON DELETE NO ACTION ON UPDATE NO ACTION
--> statement-breakpoint
-- Run as the caller (under its row-level security), like the statement that deletes the parent; a
-- cascade from a deleted tenant runs as the owner without forced RLS and reaches every row.
CREATE FUNCTION mailroom_threads_unlink() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE messages SET thread_id = NULL WHERE tenant_id = OLD.tenant_id AND thread_id = OLD.id;
  RETURN OLD;
END
$$
--> statement-breakpoint
CREATE TRIGGER threads_unlink_messages BEFORE DELETE ON threads FOR EACH ROW EXECUTE FUNCTION mailroom_threads_unlink()
--> statement-breakpoint
CREATE FUNCTION mailroom_inboxes_unlink_catch_all() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE domains SET catch_all_inbox_id = NULL WHERE tenant_id = OLD.tenant_id AND catch_all_inbox_id = OLD.id;
  RETURN OLD;
END
$$
--> statement-breakpoint
CREATE TRIGGER inboxes_unlink_catch_all BEFORE DELETE ON inboxes FOR EACH ROW EXECUTE FUNCTION mailroom_inboxes_unlink_catch_all()
--> statement-breakpoint
-- The routing tables (global: unique by address / domain name, reference tables on Citus) cannot hold
-- a foreign key into a tenant table there. On plain Postgres triggers keep both halves of those keys:
-- a route or claim must name an existing inbox / domain of its tenant (else foreign_key_violation, as
-- before), and goes when that inbox / domain is deleted. On Citus these four triggers would reach
-- another node from inside a shard; `mailroom migrate` leaves them out there (src/db/citus.ts) and the
-- services delete routes and claims themselves.
ALTER TABLE address_routes DROP CONSTRAINT address_routes_tenant_id_inbox_id_inboxes_tenant_id_id_fk
--> statement-breakpoint
ALTER TABLE domain_claims DROP CONSTRAINT domain_claims_tenant_id_domain_id_domains_tenant_id_id_fk
--> statement-breakpoint
CREATE FUNCTION mailroom_address_routes_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM inboxes i WHERE i.tenant_id = NEW.tenant_id AND i.id = NEW.inbox_id) THEN
    RAISE EXCEPTION 'insert or update on table "address_routes" violates foreign key constraint "address_routes_tenant_id_inbox_id_inboxes_tenant_id_id_fk"'
      USING ERRCODE = 'foreign_key_violation', DETAIL = 'the inbox does not exist in this tenant';
  END IF;
  RETURN NEW;
END
$$
--> statement-breakpoint
CREATE FUNCTION mailroom_domain_claims_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM domains d WHERE d.tenant_id = NEW.tenant_id AND d.id = NEW.domain_id) THEN
    RAISE EXCEPTION 'insert or update on table "domain_claims" violates foreign key constraint "domain_claims_tenant_id_domain_id_domains_tenant_id_id_fk"'
      USING ERRCODE = 'foreign_key_violation', DETAIL = 'the domain does not exist in this tenant';
  END IF;
  RETURN NEW;
END
$$
--> statement-breakpoint
ALTER FUNCTION mailroom_address_routes_check() OWNER TO mailroom_lookup
--> statement-breakpoint
ALTER FUNCTION mailroom_domain_claims_check() OWNER TO mailroom_lookup
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_address_routes_check(), mailroom_domain_claims_check() FROM PUBLIC
--> statement-breakpoint
CREATE TRIGGER address_routes_inbox_check BEFORE INSERT OR UPDATE OF tenant_id, inbox_id ON address_routes
  FOR EACH ROW EXECUTE FUNCTION mailroom_address_routes_check()
--> statement-breakpoint
CREATE TRIGGER domain_claims_domain_check BEFORE INSERT OR UPDATE OF tenant_id, domain_id ON domain_claims
  FOR EACH ROW EXECUTE FUNCTION mailroom_domain_claims_check()
--> statement-breakpoint
CREATE FUNCTION mailroom_inboxes_drop_routes() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM address_routes WHERE tenant_id = OLD.tenant_id AND inbox_id = OLD.id;
  RETURN NULL;
END
$$
--> statement-breakpoint
CREATE FUNCTION mailroom_domains_drop_claims() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM domain_claims WHERE tenant_id = OLD.tenant_id AND domain_id = OLD.id;
  RETURN NULL;
END
$$
--> statement-breakpoint
CREATE TRIGGER inboxes_drop_routes AFTER DELETE ON inboxes FOR EACH ROW EXECUTE FUNCTION mailroom_inboxes_drop_routes()
--> statement-breakpoint
CREATE TRIGGER domains_drop_claims AFTER DELETE ON domains FOR EACH ROW EXECUTE FUNCTION mailroom_domains_drop_claims()
--> statement-breakpoint
-- The old keys also refused changing the key of an inbox or domain a route or claim pointed at (ON
-- UPDATE NO ACTION). Ids never change (and cannot on Citus: tenant_id is the distribution column), so
-- a change of either is refused outright.
CREATE FUNCTION mailroom_routing_keys_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'the key of a row referenced by the routing tables cannot change' USING ERRCODE = 'foreign_key_violation';
END
$$
--> statement-breakpoint
CREATE TRIGGER inboxes_key_immutable BEFORE UPDATE OF tenant_id, id ON inboxes FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.id) IS DISTINCT FROM (NEW.tenant_id, NEW.id)) EXECUTE FUNCTION mailroom_routing_keys_immutable()
--> statement-breakpoint
CREATE TRIGGER domains_key_immutable BEFORE UPDATE OF tenant_id, id ON domains FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.id) IS DISTINCT FROM (NEW.tenant_id, NEW.id)) EXECUTE FUNCTION mailroom_routing_keys_immutable()
--> statement-breakpoint
-- 4. Citus cannot plan the queries of a LANGUAGE sql function that takes parameters ("could not create
-- distributed plan"): the lookups that did are PL/pgSQL now. Same signatures, results, owners, grants.
CREATE OR REPLACE FUNCTION mailroom_authenticate(p_prefix text, p_hash text)
RETURNS TABLE (tenant_id uuid, key_id uuid, scope text, inbox_id uuid, expires_at timestamptz, revoked_at timestamptz, tenant_suspended boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT k.tenant_id, k.id, k.scope, k.inbox_id, k.expires_at, k.revoked_at,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
  WHERE k.prefix = p_prefix AND k.hash = p_hash;
END
$$
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_domain_claimed_elsewhere(p_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM domain_claims c WHERE c.name = lower(p_name)
                 AND c.tenant_id IS DISTINCT FROM nullif(current_setting('app.tenant_id', true), '')::uuid);
END
$$
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_domain_verified(p_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM domain_claims c WHERE c.name = lower(p_name));
END
$$
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_claim_jobs(p_kind text, p_limit integer, p_lease_seconds integer)
RETURNS TABLE (tenant_id uuid, id uuid, ref_id uuid, payload jsonb, attempts integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
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
  RETURNING j.tenant_id, j.id, j.ref_id, j.payload, j.attempts;
END
$$
--> statement-breakpoint
-- Address -> inbox: the route, else the catch-all of a verified custom domain (as 0011), in two
-- statements: Citus cannot plan the UNION ALL of a reference-table query and a distributed one.
CREATE OR REPLACE FUNCTION mailroom_route(p_address text)
RETURNS TABLE (tenant_id uuid, inbox_id uuid, tenant_suspended boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT r.tenant_id, r.inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM address_routes r JOIN tenants t ON t.id = r.tenant_id
  WHERE r.address = lower(p_address);
  IF FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT d.tenant_id, d.catch_all_inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM domain_claims c
  JOIN domains d ON d.tenant_id = c.tenant_id AND d.id = c.domain_id
  JOIN tenants t ON t.id = d.tenant_id
  WHERE c.name = substring(lower(p_address) from '@([^@]*)$')
    AND d.catch_all_inbox_id IS NOT NULL;
END
$$
--> statement-breakpoint
-- 5. On Citus an INSERT ... SELECT from a function is written to the shards with COPY, which row-level
-- security refuses: the references of a message are inserted one row at a time (each routed to the
-- message's own shard group). Same rows as 0014.
CREATE OR REPLACE FUNCTION mailroom_message_refs_sync() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  r text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM message_refs WHERE tenant_id = OLD.tenant_id AND message_id = OLD.id;
  END IF;
  FOR r IN SELECT DISTINCT x FROM unnest(array_append(NEW."references"[greatest(cardinality(NEW."references") - 49, 1):], NEW.in_reply_to)) AS x
           WHERE x IS NOT NULL LOOP
    INSERT INTO message_refs (tenant_id, message_id, ref, inbox_id) VALUES (NEW.tenant_id, NEW.id, r, NEW.inbox_id);
  END LOOP;
  RETURN NULL;
END
$$
--> statement-breakpoint
-- 6. Which tenants have mail to expire (as 0007): Citus cannot plan a sub-query over the reference table
-- tenants correlated with the distributed inboxes, so the two halves run apart. Same set of tenants.
CREATE OR REPLACE FUNCTION mailroom_retention_targets()
RETURNS TABLE (tenant_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  own uuid[];
  by_inbox uuid[];
BEGIN
  SELECT coalesce(array_agg(t.id), '{}') INTO own FROM tenants t
  WHERE EXISTS (SELECT 1 FROM tenants a WHERE (a.id = t.id OR a.id = ANY (t.ancestors)) AND a.limits ->> 'retentionDays' IS NOT NULL);
  SELECT coalesce(array_agg(DISTINCT i.tenant_id), '{}') INTO by_inbox FROM inboxes i WHERE i.limits ->> 'retentionDays' IS NOT NULL;
  RETURN QUERY SELECT DISTINCT x FROM unnest(own || by_inbox) AS x;
END
$$
