-- Threading looks up, for every batch of received messages, the stored messages of the same inboxes
-- that refer to the new ones (a reply that arrived before its original), by In-Reply-To or by any
-- entry of References. No index served that: each lookup read every message of those inboxes, a
-- cost that grew with the mailbox. An index over the arrays cannot serve it either: under RLS,
-- Postgres uses an index only for leakproof operators, and the array operators are not.
--
-- message_refs holds one row per (message, id it refers to), kept by a trigger on messages (every
-- road that stores or reparses a message, now and later, keeps it), looked up by equality on
-- (tenant_id, inbox_id, ref): a cost that follows the matches, not the mailbox. Like threading
-- itself (refsOf in ingest.ts), it takes In-Reply-To and the last 50 References: a message
-- listing thousands costs 51 rows, not thousands.
CREATE TABLE "message_refs" (
	"tenant_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"ref" text NOT NULL,
	"inbox_id" uuid NOT NULL,
	CONSTRAINT "message_refs_tenant_id_message_id_ref_pk" PRIMARY KEY("tenant_id","message_id","ref")
);
--> statement-breakpoint
ALTER TABLE "message_refs" ADD CONSTRAINT "message_refs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_refs" ADD CONSTRAINT "message_refs_tenant_id_message_id_messages_tenant_id_id_fk" FOREIGN KEY ("tenant_id","message_id") REFERENCES "public"."messages"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "message_refs_inbox_ref_idx" ON "message_refs" USING btree ("tenant_id","inbox_id","ref");
--> statement-breakpoint
-- The messages stored so far. Their table forces RLS on its owner too; lifted for this statement
-- only, inside the migration's transaction (ALTER TABLE holds its lock until commit).
ALTER TABLE messages NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
INSERT INTO message_refs (tenant_id, message_id, ref, inbox_id)
SELECT DISTINCT m.tenant_id, m.id, r, m.inbox_id
FROM messages m, unnest(array_append(m."references"[greatest(cardinality(m."references") - 49, 1):], m.in_reply_to)) AS r
WHERE r IS NOT NULL;
--> statement-breakpoint
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE message_refs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE message_refs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON message_refs TO mailroom_app;
--> statement-breakpoint
CREATE POLICY message_refs_isolation ON message_refs FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
-- Runs as the role that writes the message (the runtime role, in the message's tenant): RLS
-- checks the rows it writes like any other.
CREATE FUNCTION mailroom_message_refs_sync() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM message_refs WHERE tenant_id = OLD.tenant_id AND message_id = OLD.id;
  END IF;
  INSERT INTO message_refs (tenant_id, message_id, ref, inbox_id)
  SELECT DISTINCT NEW.tenant_id, NEW.id, r, NEW.inbox_id
  FROM unnest(array_append(NEW."references"[greatest(cardinality(NEW."references") - 49, 1):], NEW.in_reply_to)) AS r
  WHERE r IS NOT NULL;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER messages_refs_insert AFTER INSERT ON messages FOR EACH ROW
  WHEN (NEW.in_reply_to IS NOT NULL OR cardinality(NEW."references") > 0)
  EXECUTE FUNCTION mailroom_message_refs_sync();
--> statement-breakpoint
CREATE TRIGGER messages_refs_update AFTER UPDATE OF in_reply_to, "references" ON messages FOR EACH ROW
  WHEN (OLD.in_reply_to IS DISTINCT FROM NEW.in_reply_to OR OLD."references" IS DISTINCT FROM NEW."references")
  EXECUTE FUNCTION mailroom_message_refs_sync();
