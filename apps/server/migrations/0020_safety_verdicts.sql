ALTER TABLE "tenants" ADD COLUMN "policies" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "parent_policies" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "inboxes" ADD COLUMN "policies" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "risk" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "injection_score" real;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "security_enc" "bytea";--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "quarantined" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "quarantined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "released_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "messages_quarantined_idx" ON "messages" USING btree ("tenant_id","inbox_id","received_at","id") WHERE quarantined;
--> statement-breakpoint
-- The verdict is sealed (its signals quote the message): AES-GCM output does not compress (0012).
ALTER TABLE messages ALTER COLUMN security_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
-- Policies are inherited like limits, and a tenant cannot see its ancestors under RLS: the policies
-- along the chain of the current tenant or one of its descendants (each tenant's own, and those its
-- ancestors set on it), nothing else (as mailroom_limit_chain).
CREATE FUNCTION mailroom_policy_chain(p_tenant uuid)
RETURNS TABLE (policies jsonb, parent_policies jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT a.policies, a.parent_policies FROM tenants me JOIN tenants a ON (a.id = me.id OR a.id = ANY (me.ancestors))
  WHERE me.id = p_tenant
    AND (me.id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (me.ancestors));
END
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_policy_chain(uuid) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_policy_chain(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_policy_chain(uuid) TO mailroom_app;
--> statement-breakpoint
-- An inbox key never sees quarantined mail: not in lists, not by id, not its raw bytes (their policy
-- looks through this one); its attachments are only ever reached through it. Enforced here, so no
-- route can forget it.
DROP POLICY messages_isolation ON messages;
--> statement-breakpoint
CREATE POLICY messages_isolation ON messages FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
              OR (inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid AND NOT quarantined)))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
              OR (inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid AND NOT quarantined)));
