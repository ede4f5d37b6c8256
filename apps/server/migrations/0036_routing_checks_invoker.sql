-- The routing tables' checks (0025) read the inbox or domain a route or claim names with the rights
-- of mailroom_lookup (SECURITY DEFINER), before row-level security judged the new row: a route that
-- tenant A wrote under tenant B was refused as a missing key (23503) when B had no such inbox, and by
-- B's policy (42501) when it had one. The answer told A whether an object of B's exists. They read
-- with the writer's own rights now, as key_routes' check (0034): A sees none of B's rows, so the
-- answer is the same either way. Every writer of routes and claims is the runtime role, bound to the
-- tenant that owns the inbox or domain (on Citus these triggers do not exist).
ALTER FUNCTION mailroom_address_routes_check() SECURITY INVOKER
--> statement-breakpoint
ALTER FUNCTION mailroom_domain_claims_check() SECURITY INVOKER
