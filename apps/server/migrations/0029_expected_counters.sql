-- An ingest batch takes its arrival numbers (inboxes.last_seq) and event ids (tenants.event_seq) as
-- its reads found them, so its events, sealed under those ids, can go with its other writes and the
-- COMMIT in one round trip (src/messages/ingest/sequence.ts). The statement that takes them checks
-- them with this: a counter another transaction moved in between fails the batch with a
-- serialization failure (SQLSTATE 40001), and the batch is written again, taking its numbers under
-- the counters' locks. Needs no privilege: it only raises.
CREATE OR REPLACE FUNCTION mailroom_expect(p_ok boolean, p_what text)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF p_ok IS NOT TRUE THEN
    RAISE EXCEPTION 'mailroom: % moved since the batch read them', p_what USING ERRCODE = '40001';
  END IF;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_expect(boolean, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_expect(boolean, text) TO mailroom_app;
