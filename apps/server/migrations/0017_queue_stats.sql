-- Queue depths and ages for /metrics, across tenants: counts and ages only, nothing of any row.
-- SECURITY DEFINER because the runtime role sees one tenant at a time (row-level security).
CREATE OR REPLACE FUNCTION mailroom_queue_stats()
RETURNS TABLE (queue text, depth bigint, oldest_seconds double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT 'outbox', count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
    FROM outbox WHERE status IN ('queued', 'sending', 'deferred')
  UNION ALL
  SELECT 'webhook', count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
    FROM webhook_deliveries WHERE status IN ('pending', 'sending')
  UNION ALL
  SELECT 'parse', count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
    FROM jobs WHERE kind = 'ingest'
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_queue_stats() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_queue_stats() TO mailroom_app;
