-- A person, never the agent, decides on the mail an approval policy holds. The API held to it alone
-- (the approve and reject routes are tenant-key routes; the send path holds what a policy holds);
-- a transaction bound to an inbox (an agent's: its key's requests) could, by row-level security,
-- have approved its own held mail (an UPDATE of its approvals), queued any of its mail past the
-- policy (an INSERT into the outbox), or lifted its inbox's policy or limits (an UPDATE of its inbox).
-- Postgres refuses all three now, so that no route of an inbox key, present or future, can let
-- held mail out by mistake:
--
-- 1. approvals: bound to an inbox, read and request (a new pending approval, undecided) only; the
--    decisions (UPDATE) and removals are a tenant's (a person's key, or the expiry sweep).
-- 2. outbox: bound to an inbox, read, queue and withdraw a queued row (cancelling a scheduled send);
--    the delivery's changes (UPDATE) are a tenant's. What an inbox queues passes the policy trigger
--    below.
-- 3. inboxes: bound to an inbox, read only (its changes, policies and limits among them, are a
--    tenant key's routes).
--
-- The policies keep the read side (USING) of each table as it was; every write policy names the
-- tenant's value as the others do (on Citus a shard's policy). "No inbox set" is written as in
-- 0025 (Citus cannot re-parse an IS NULL over an expression).
DROP POLICY approvals_isolation ON approvals
--> statement-breakpoint
CREATE POLICY approvals_isolation ON approvals FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
CREATE POLICY approvals_request ON approvals FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
              AND (coalesce(current_setting('app.inbox_id', true), '') = ''
                   OR (inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid
                       AND status = 'pending' AND decided_at IS NULL AND decided_by_kind IS NULL AND decided_by_tenant IS NULL
                       AND decided_by_key IS NULL AND reason IS NULL AND NOT edited AND original_enc IS NULL)))
--> statement-breakpoint
CREATE POLICY approvals_decide ON approvals FOR UPDATE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY approvals_remove ON approvals FOR DELETE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
DROP POLICY outbox_isolation ON outbox
--> statement-breakpoint
CREATE POLICY outbox_isolation ON outbox FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
CREATE POLICY outbox_queue ON outbox FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
              AND (coalesce(current_setting('app.inbox_id', true), '') = ''
                   OR (inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid
                       AND status IN ('queued', 'suppressed') AND attempts = 0 AND locked_until IS NULL)))
--> statement-breakpoint
CREATE POLICY outbox_change ON outbox FOR UPDATE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY outbox_withdraw ON outbox FOR DELETE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = ''
              OR (inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid AND status = 'queued')))
--> statement-breakpoint
DROP POLICY inboxes_isolation ON inboxes
--> statement-breakpoint
CREATE POLICY inboxes_isolation ON inboxes FOR SELECT TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (coalesce(current_setting('app.inbox_id', true), '') = '' OR id = nullif(current_setting('app.inbox_id', true), '')::uuid))
--> statement-breakpoint
CREATE POLICY inboxes_create ON inboxes FOR INSERT TO mailroom_app
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY inboxes_change ON inboxes FOR UPDATE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
CREATE POLICY inboxes_remove ON inboxes FOR DELETE TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid AND coalesce(current_setting('app.inbox_id', true), '') = '')
--> statement-breakpoint
-- 4. What an inbox queues is its own outbound mail, to that mail's recipients, never mail a policy
-- held (a person's approval releases that), and passes the inbox's approval policy as the send path
-- decides it (holdReasons in approvals/service.ts): the modes every tenant of the chain set on itself
-- and had set on it, and the inbox's own (mailroom_policy_chain; policies/service.ts's strictest).
-- `all`: nothing; `first_contact`: only to an address the inbox has been in conversation with (a
-- contact with mail either way, read before the send records its recipients); `external`: only to
-- an address on the platform (mailroom_on_platform below). A suppressed row never leaves: the policy
-- lets it by. Bound to a tenant (a person's send, an approval), nothing is checked: a person's mail
-- is not held.
--
-- On the platform, for this check: an address routed to an inbox, or at a domain a tenant claimed.
-- The send path asks mailroom_route, which also requires such a domain to have a catch-all inbox;
-- that reads the domain's row on its tenant's shard, which on Citus a trigger running on another
-- shard cannot reach. Here only the two routing tables are read (reference tables on Citus, on every
-- node): mail to an unrouted address at a claimed domain without a catch-all, which the send path
-- holds, passes this check.
CREATE FUNCTION mailroom_on_platform(p_address text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM address_routes r WHERE r.address = lower(p_address))
      OR EXISTS (SELECT 1 FROM domain_claims c WHERE c.name = substring(lower(p_address) from '@([^@]*)$'));
END
$$
--> statement-breakpoint
ALTER FUNCTION mailroom_on_platform(text) OWNER TO mailroom_lookup
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_on_platform(text) FROM PUBLIC
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_on_platform(text) TO mailroom_app
--> statement-breakpoint
CREATE FUNCTION mailroom_outbox_hold_check() RETURNS trigger LANGUAGE plpgsql AS $$
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
         AND (k.received_count > 0 OR k.sent_count > 0)) THEN
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
CREATE TRIGGER outbox_hold_check BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION mailroom_outbox_hold_check()
