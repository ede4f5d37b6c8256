-- On a Citus coordinator the search's first statement ran on every shard: the words' table is joined
-- to the newest messages by the tenant's column, but Citus routes a statement by the value written
-- for each table, and the words' table had none. It names the tenant now, as the second statement
-- already did, and runs on the tenant's shard alone. Otherwise the function of 0023 unchanged (same
-- signature, owner and grants).
CREATE OR REPLACE FUNCTION mailroom_search_messages(p_inbox uuid, p_terms bigint[], p_from text, p_to text, p_since timestamptz, p_until timestamptz,
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
             WHERE s.tenant_id = $1 AND s.terms @> $3
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
