-- An agent's own mailbox: read state and labels per message, counts per inbox and label kept by
-- triggers (never a scan), and the blind index that search reads (keyed hashes of words, no text).
ALTER TABLE "messages" ADD COLUMN "seen_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "labels" text[] DEFAULT '{}'::text[] NOT NULL;
--> statement-breakpoint
-- Mail stored before read state existed counts as read: an agent upgrading does not find its whole
-- mailbox unread. Lifted RLS for this statement only, as in 0014.
ALTER TABLE messages NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
UPDATE messages SET seen_at = received_at WHERE direction = 'inbound';
--> statement-breakpoint
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- "Unread" is received mail not yet marked read (sent mail is never unread). A partial index serves
-- the unread filter newest first: IS NULL is no function call, so RLS does not keep it from the index.
CREATE INDEX "messages_inbox_unread_idx" ON "messages" USING btree ("tenant_id","inbox_id","received_at","id") WHERE seen_at IS NULL AND direction = 'inbound';
--> statement-breakpoint
-- Counts per inbox (label '') and per label of the mail an agent sees (neither quarantined nor
-- hidden): total and unread. Kept by statement triggers on messages below, in the transaction that
-- changes the messages: one upsert per (inbox, label) a statement touches, row-locked, so
-- concurrent changes add up exactly.
CREATE TABLE "mailbox_counts" (
	"tenant_id" uuid NOT NULL,
	"inbox_id" uuid NOT NULL,
	"label" text NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"unread" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "mailbox_counts_tenant_id_inbox_id_label_pk" PRIMARY KEY("tenant_id","inbox_id","label")
);
--> statement-breakpoint
ALTER TABLE "mailbox_counts" ADD CONSTRAINT "mailbox_counts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "mailbox_counts" ADD CONSTRAINT "mailbox_counts_tenant_id_inbox_id_inboxes_tenant_id_id_fk" FOREIGN KEY ("tenant_id","inbox_id") REFERENCES "public"."inboxes"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE mailbox_counts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE mailbox_counts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON mailbox_counts TO mailroom_app;
--> statement-breakpoint
CREATE POLICY mailbox_counts_isolation ON mailbox_counts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
-- The counts of the mail stored so far (every message is read, above: totals only).
INSERT INTO mailbox_counts (tenant_id, inbox_id, label, total, unread)
SELECT m.tenant_id, m.inbox_id, '', count(*), 0 FROM messages m WHERE NOT m.quarantined AND NOT m.hidden GROUP BY 1, 2;
--> statement-breakpoint
-- One function for the three statement triggers: the rows before (OLD TABLE) count -1, the rows
-- after (NEW TABLE) +1, per inbox and per label (and '' for the inbox). Runs as the role that
-- changes the messages (the runtime role, in their tenant): RLS checks the counts it writes.
-- An inbox being deleted (cascade) gets no new count row.
CREATE FUNCTION mailroom_mailbox_counts_apply(p_delta jsonb) RETURNS void
LANGUAGE sql SET search_path = public, pg_temp AS $$
  INSERT INTO mailbox_counts AS mc (tenant_id, inbox_id, label, total, unread)
  SELECT d.tenant_id, d.inbox_id, d.label, d.total, d.unread
  FROM jsonb_to_recordset(p_delta) AS d(tenant_id uuid, inbox_id uuid, label text, total integer, unread integer)
  WHERE (d.total <> 0 OR d.unread <> 0)
    AND EXISTS (SELECT 1 FROM inboxes i WHERE i.tenant_id = d.tenant_id AND i.id = d.inbox_id)
  ORDER BY d.tenant_id, d.inbox_id, d.label
  ON CONFLICT (tenant_id, inbox_id, label) DO UPDATE SET total = mc.total + excluded.total, unread = mc.unread + excluded.unread
$$;
--> statement-breakpoint
CREATE FUNCTION mailroom_mailbox_counts() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_delta jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT jsonb_agg(x) INTO v_delta FROM (
      SELECT c.tenant_id, c.inbox_id, l AS label, sum(1) AS total, sum(c.unread) AS unread
      FROM (SELECT n.tenant_id, n.inbox_id, n.labels, (n.seen_at IS NULL AND n.direction = 'inbound')::int AS unread
            FROM new_rows n WHERE NOT n.quarantined AND NOT n.hidden) c,
           unnest(array_prepend(''::text, c.labels)) AS l
      GROUP BY 1, 2, 3) x;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT jsonb_agg(x) INTO v_delta FROM (
      SELECT c.tenant_id, c.inbox_id, l AS label, -sum(1) AS total, -sum(c.unread) AS unread
      FROM (SELECT o.tenant_id, o.inbox_id, o.labels, (o.seen_at IS NULL AND o.direction = 'inbound')::int AS unread
            FROM old_rows o WHERE NOT o.quarantined AND NOT o.hidden) c,
           unnest(array_prepend(''::text, c.labels)) AS l
      GROUP BY 1, 2, 3) x;
  ELSE
    SELECT jsonb_agg(x) INTO v_delta FROM (
      SELECT c.tenant_id, c.inbox_id, l AS label, sum(c.sign) AS total, sum(c.sign * c.unread) AS unread
      FROM (SELECT n.tenant_id, n.inbox_id, n.labels, 1 AS sign, (n.seen_at IS NULL AND n.direction = 'inbound')::int AS unread
            FROM new_rows n WHERE NOT n.quarantined AND NOT n.hidden
            UNION ALL
            SELECT o.tenant_id, o.inbox_id, o.labels, -1, (o.seen_at IS NULL AND o.direction = 'inbound')::int
            FROM old_rows o WHERE NOT o.quarantined AND NOT o.hidden) c,
           unnest(array_prepend(''::text, c.labels)) AS l
      GROUP BY 1, 2, 3) x;
  END IF;
  IF v_delta IS NOT NULL THEN
    PERFORM mailroom_mailbox_counts_apply(v_delta);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER messages_counts_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mailroom_mailbox_counts();
--> statement-breakpoint
CREATE TRIGGER messages_counts_update AFTER UPDATE ON messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mailroom_mailbox_counts();
--> statement-breakpoint
CREATE TRIGGER messages_counts_delete AFTER DELETE ON messages REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mailroom_mailbox_counts();
--> statement-breakpoint
-- The blind index: for each message, keyed hashes (HMAC-SHA-256 under a key derived from the
-- tenant's data key, bound to the inbox, cut to 48 bits) of the normalised words of its subject,
-- text, names, addresses and attachment names. No word is stored; without the tenant's key a hash
-- cannot be tested against a guess. Served by a GIN index.
CREATE TABLE "message_search" (
	"tenant_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"inbox_id" uuid NOT NULL,
	"terms" bigint[] NOT NULL,
	CONSTRAINT "message_search_tenant_id_message_id_pk" PRIMARY KEY("tenant_id","message_id")
);
--> statement-breakpoint
ALTER TABLE "message_search" ADD CONSTRAINT "message_search_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "message_search" ADD CONSTRAINT "message_search_tenant_id_message_id_messages_tenant_id_id_fk" FOREIGN KEY ("tenant_id","message_id") REFERENCES "public"."messages"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "message_search_terms_idx" ON "message_search" USING gin ("terms");
--> statement-breakpoint
ALTER TABLE message_search ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE message_search FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON message_search TO mailroom_app;
--> statement-breakpoint
CREATE POLICY message_search_isolation ON message_search FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
-- Search runs here. Under RLS Postgres uses an index only for leakproof operators, and array
-- containment (@>) is not one: as the runtime role the GIN index would never be used. This
-- function (owned by mailroom_lookup, which reads these two tables through policies of its own)
-- applies the tenant's confinement itself, exactly as messages_isolation does: the current
-- tenant's rows, the scoped inbox's only for an inbox key, never quarantined (nor hidden) mail.
-- It returns ids and times only; the caller reads the rows themselves under RLS.
--
-- Two steps, so that neither a frequent nor a rare word costs the whole inbox (the planner's guess
-- for a word it has no statistics on is no guide): first the newest 1,000 messages that pass the
-- other filters are looked at (a word in more than a few percent of the mail is met there); when
-- they do not fill the page, the GIN index gives every message holding the words, and those are
-- read by primary key, filtered and sorted. Each statement is planned with its own values (EXECUTE).
GRANT SELECT ON messages, message_search TO mailroom_lookup;
--> statement-breakpoint
CREATE POLICY messages_lookup_search ON messages FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY message_search_lookup ON message_search FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE FUNCTION mailroom_search_messages(p_inbox uuid, p_terms bigint[], p_from text, p_to text, p_since timestamptz, p_until timestamptz,
  p_label text, p_unread boolean, p_after_at timestamptz, p_after_id uuid, p_limit integer)
RETURNS TABLE (id uuid, received_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off AS $$
DECLARE
  v_tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
  v_scope uuid := nullif(current_setting('app.inbox_id', true), '')::uuid;
  v_limit integer := least(greatest(p_limit, 1), 1001);
  v_where text := '';
  v_ids uuid[];
  v_ats timestamptz[];
BEGIN
  IF v_tenant IS NULL OR p_inbox IS NULL OR (v_scope IS NOT NULL AND v_scope <> p_inbox) OR cardinality(p_terms) IS NULL OR cardinality(p_terms) = 0 THEN
    RETURN;
  END IF;
  IF p_from IS NOT NULL THEN v_where := v_where || ' AND m.from_address = $4'; END IF;
  IF p_to IS NOT NULL THEN v_where := v_where || ' AND $5 = ANY (m.to_addresses)'; END IF;
  IF p_since IS NOT NULL THEN v_where := v_where || ' AND m.received_at >= $6'; END IF;
  IF p_until IS NOT NULL THEN v_where := v_where || ' AND m.received_at < $7'; END IF;
  IF p_label IS NOT NULL THEN v_where := v_where || ' AND m.labels @> ARRAY[$8]'; END IF;
  IF p_unread IS TRUE THEN v_where := v_where || ' AND m.seen_at IS NULL AND m.direction = ''inbound'''; END IF;
  IF p_unread IS FALSE THEN v_where := v_where || ' AND NOT (m.seen_at IS NULL AND m.direction = ''inbound'')'; END IF;
  IF p_after_at IS NOT NULL THEN v_where := v_where || ' AND (m.received_at, m.id) < ($9, $10)'; END IF;
  -- 1. The newest 1,000 candidates.
  EXECUTE 'SELECT array_agg(w.id ORDER BY w.received_at DESC, w.id DESC), array_agg(w.received_at ORDER BY w.received_at DESC, w.id DESC) FROM (
             SELECT w.id, w.received_at FROM (
               SELECT m.tenant_id, m.id, m.received_at FROM messages m
               WHERE m.tenant_id = $1 AND m.inbox_id = $2 AND NOT m.quarantined AND NOT m.hidden' || v_where || '
               ORDER BY m.received_at DESC, m.id DESC LIMIT 1000) w
             JOIN message_search s ON s.tenant_id = w.tenant_id AND s.message_id = w.id
             WHERE s.terms @> $3
             ORDER BY w.received_at DESC, w.id DESC LIMIT $11) w'
    INTO v_ids, v_ats
    USING v_tenant, p_inbox, p_terms, p_from, p_to, p_since, p_until, p_label, p_after_at, p_after_id, v_limit;
  IF coalesce(cardinality(v_ids), 0) >= v_limit THEN
    RETURN QUERY SELECT * FROM unnest(v_ids, v_ats);
    RETURN;
  END IF;
  -- 2. Every message holding the words (GIN), by primary key.
  RETURN QUERY EXECUTE 'SELECT m.id, m.received_at FROM messages m
     WHERE m.tenant_id = $1 AND m.id = ANY (ARRAY(SELECT s.message_id FROM message_search s WHERE s.tenant_id = $1 AND s.inbox_id = $2 AND s.terms @> $3))
       AND m.inbox_id = $2 AND NOT m.quarantined AND NOT m.hidden' || v_where || '
     ORDER BY m.received_at DESC, m.id DESC LIMIT $11'
    USING v_tenant, p_inbox, p_terms, p_from, p_to, p_since, p_until, p_label, p_after_at, p_after_id, v_limit;
END
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_search_messages(uuid, bigint[], text, text, timestamptz, timestamptz, text, boolean, timestamptz, uuid, integer) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_search_messages(uuid, bigint[], text, text, timestamptz, timestamptz, text, boolean, timestamptz, uuid, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_search_messages(uuid, bigint[], text, text, timestamptz, timestamptz, text, boolean, timestamptz, uuid, integer) TO mailroom_app;
