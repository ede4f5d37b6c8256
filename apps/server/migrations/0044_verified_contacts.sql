-- Who an inbox is "in conversation" with, the question the approval policy `first_contact` and the
-- first-contact limit ask, was anyone it had received mail from: the From of every received message,
-- forged or not, quarantined or not. A stranger could send one message "From:" any address and so
-- let the agent write to that address with no person asked. Now received mail counts only when its
-- sender was verified (From aligned with a passing SPF or DKIM, or DMARC pass; every sender while
-- inbound verification is off) and it was neither quarantined nor hidden when it arrived, or a
-- person released it since: `verified_received_count`. `received_count` still counts every message
-- (the contact list shows it); mail sent to the address counts as before.
--
-- 1. contacts.verified_received_count, filled from the mail already stored: received messages not
--    quarantined (or released) and not hidden, whose sender DMARC passed or which were not verified
--    at all. The verdicts that knew an aligned SPF or DKIM without DMARC are sealed: such senders
--    count again from their next message.
-- 2. The outbox's policy trigger (0040) asks the same question.
-- 3. Bound to an inbox (an agent's transaction), the received counts never change: only the ingest
--    and a person's release, each bound to the tenant, move them.
ALTER TABLE contacts ADD COLUMN verified_received_count integer NOT NULL DEFAULT 0
--> statement-breakpoint
UPDATE contacts k SET verified_received_count = v.n
FROM (SELECT m.tenant_id, m.inbox_id, lower(m.from_address) AS address, count(*)::int AS n
      FROM messages m
      WHERE m.direction = 'inbound' AND m.from_address IS NOT NULL AND NOT m.quarantined AND NOT m.hidden
        AND (m.auth IS NULL OR m.auth ->> 'dmarc' = 'pass')
      GROUP BY m.tenant_id, m.inbox_id, lower(m.from_address)) v
WHERE k.tenant_id = v.tenant_id AND k.inbox_id = v.inbox_id AND k.address = v.address
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_outbox_hold_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_modes text[];
BEGIN
  IF coalesce(current_setting('app.inbox_id', true), '') = '' THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (
       SELECT 1 FROM messages m
       WHERE m.tenant_id = NEW.tenant_id AND m.id = NEW.message_id AND m.inbox_id = NEW.inbox_id
         AND m.direction = 'outbound' AND NEW.recipient = ANY (m.to_addresses)) THEN
    RAISE EXCEPTION 'an inbox queues its own outbound mail, to that mail''s recipients only'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (SELECT 1 FROM approvals a WHERE a.tenant_id = NEW.tenant_id AND a.message_id = NEW.message_id) THEN
    RAISE EXCEPTION 'mail an approval policy held is queued by a person''s approval only'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.status = 'suppressed' THEN
    RETURN NEW;
  END IF;
  SELECT coalesce(array_agg(DISTINCT m.mode), '{}') INTO v_modes FROM (
    SELECT v.mode FROM mailroom_policy_chain(NEW.tenant_id) c,
           LATERAL (VALUES (c.policies ->> 'outboundApproval'), (c.parent_policies ->> 'outboundApproval')) v(mode)
    UNION ALL
    SELECT i.policies ->> 'outboundApproval' FROM inboxes i WHERE i.tenant_id = NEW.tenant_id AND i.id = NEW.inbox_id
  ) m(mode) WHERE m.mode IN ('all', 'first_contact', 'external');
  IF 'all' = ANY (v_modes) THEN
    RAISE EXCEPTION 'an approval policy (all) holds this inbox''s mail: a person''s approval queues it'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF 'first_contact' = ANY (v_modes) AND NOT EXISTS (
       SELECT 1 FROM contacts k
       WHERE k.tenant_id = NEW.tenant_id AND k.inbox_id = NEW.inbox_id AND k.address = NEW.recipient
         AND (k.verified_received_count > 0 OR k.sent_count > 0)) THEN
    RAISE EXCEPTION 'an approval policy (first_contact) holds this inbox''s mail to %: a person''s approval queues it', NEW.recipient
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF 'external' = ANY (v_modes) AND NOT mailroom_on_platform(NEW.recipient) THEN
    RAISE EXCEPTION 'an approval policy (external) holds this inbox''s mail to %: a person''s approval queues it', NEW.recipient
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$
--> statement-breakpoint
CREATE FUNCTION mailroom_contacts_agent_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_moved boolean;
BEGIN
  IF coalesce(current_setting('app.inbox_id', true), '') = '' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    v_moved := NEW.received_count <> 0 OR NEW.verified_received_count <> 0;
  ELSE
    v_moved := NEW.received_count IS DISTINCT FROM OLD.received_count
               OR NEW.verified_received_count IS DISTINCT FROM OLD.verified_received_count;
  END IF;
  IF v_moved THEN
    RAISE EXCEPTION 'bound to an inbox, a transaction records no received mail in its contacts'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$
--> statement-breakpoint
CREATE TRIGGER contacts_agent_guard
  BEFORE INSERT OR UPDATE OF received_count, verified_received_count
  ON contacts FOR EACH ROW EXECUTE FUNCTION mailroom_contacts_agent_guard()
