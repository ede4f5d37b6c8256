-- The tables and functions main gained beside the Citus work (0021 contacts, 0022 approvals, 0023
-- mailbox counts and the blind index, 0024 drafts) in the forms 0025 gave the rest of the schema, so
-- that test/db/citus-compat.test.ts passes and `mailroom migrate` can distribute them by tenant_id
-- (the distribution step classifies tables from the catalog: these five are distributed tenant
-- tables, colocated). Same guarantees on plain Postgres.
--
-- 1. Policies: "no inbox set" as `coalesce(current_setting('app.inbox_id', true), '') = ''` instead
-- of `nullif(...) IS NULL` (Citus cannot re-parse an IS NULL over an expression: 0025). Same truth
-- table: the tenant's rows, and for an inbox key its own inbox's only.
--> statement-breakpoint
DROP POLICY contacts_isolation ON contacts
--> statement-breakpoint
CREATE POLICY contacts_isolation ON contacts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY approvals_isolation ON approvals
--> statement-breakpoint
CREATE POLICY approvals_isolation ON approvals FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY mailbox_counts_isolation ON mailbox_counts
--> statement-breakpoint
CREATE POLICY mailbox_counts_isolation ON mailbox_counts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY message_search_isolation ON message_search
--> statement-breakpoint
CREATE POLICY message_search_isolation ON message_search FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
DROP POLICY drafts_isolation ON drafts
--> statement-breakpoint
CREATE POLICY drafts_isolation ON drafts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
-- 2. approvals_ancestor_read looked the row's tenant up in tenants (a sub-query, which Citus cannot
-- run inside a shard's policy). As for audit_log and usage_daily (0025), the tenant's ancestors are
-- copied onto each row by the trigger of 0025 (a tenant never moves) and the policy reads that copy.
ALTER TABLE approvals ADD COLUMN tenant_ancestors uuid[] DEFAULT '{}'::uuid[] NOT NULL
--> statement-breakpoint
CREATE TRIGGER approvals_ancestors BEFORE INSERT OR UPDATE ON approvals FOR EACH ROW EXECUTE FUNCTION mailroom_tenant_ancestors_copy()
--> statement-breakpoint
ALTER TABLE approvals NO FORCE ROW LEVEL SECURITY
--> statement-breakpoint
UPDATE approvals x SET tenant_ancestors = t.ancestors FROM tenants t WHERE t.id = x.tenant_id
--> statement-breakpoint
ALTER TABLE approvals FORCE ROW LEVEL SECURITY
--> statement-breakpoint
DROP POLICY approvals_ancestor_read ON approvals
--> statement-breakpoint
CREATE POLICY approvals_ancestor_read ON approvals FOR SELECT TO mailroom_app
  USING (coalesce(current_setting('app.inbox_id', true), '') = ''
         AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (tenant_ancestors))
--> statement-breakpoint
-- 3. SQL functions with parameters become PL/pgSQL (Citus cannot plan a LANGUAGE sql function's
-- queries: 0025). Same signatures, results, owners and grants (CREATE OR REPLACE keeps them).
CREATE OR REPLACE FUNCTION mailroom_approval_expiry_targets(p_now timestamptz)
RETURNS TABLE (tenant_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT DISTINCT a.tenant_id FROM approvals a WHERE a.status = 'pending' AND a.expires_at <= p_now;
END
$$
--> statement-breakpoint
-- The counts' upsert also inserts row by row (multi-row VALUES would do too): Citus writes an
-- INSERT ... SELECT from jsonb_to_recordset with COPY, which row-level security refuses (0025). The
-- rows are applied in the same order (tenant, inbox, label), so concurrent writers lock counts in
-- one order; an inbox being deleted (cascade) still gets no new count row.
CREATE OR REPLACE FUNCTION mailroom_mailbox_counts_apply(p_delta jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  d record;
BEGIN
  FOR d IN
    SELECT r.tenant_id, r.inbox_id, r.label, r.total, r.unread
    FROM jsonb_to_recordset(p_delta) AS r(tenant_id uuid, inbox_id uuid, label text, total integer, unread integer)
    WHERE r.total <> 0 OR r.unread <> 0
    ORDER BY r.tenant_id, r.inbox_id, r.label
  LOOP
    IF EXISTS (SELECT 1 FROM inboxes i WHERE i.tenant_id = d.tenant_id AND i.id = d.inbox_id) THEN
      INSERT INTO mailbox_counts AS mc (tenant_id, inbox_id, label, total, unread)
      VALUES (d.tenant_id, d.inbox_id, d.label, d.total, d.unread)
      ON CONFLICT (tenant_id, inbox_id, label) DO UPDATE SET total = mc.total + excluded.total, unread = mc.unread + excluded.unread;
    END IF;
  END LOOP;
END
$$
