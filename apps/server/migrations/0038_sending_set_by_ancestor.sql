-- A tenant's sending is resumed, its reputation window restarted and its IP pool assigned by an
-- ancestor or the operator, never by the tenant itself (POST /v1/tenants/{id}/sending/resume, PATCH
-- /v1/tenants/{id}/sending). The API held to it alone: those writes are bound to the tenant itself
-- (delivery/routes.ts), so any statement bound to a tenant could have lifted its own pause (abuse
-- detection's: delivery/reputation.ts judge), wiped its bounce and complaint history, or taken a
-- dedicated pool. Postgres refuses it now, unless the transaction says the change is an ancestor's or
-- the operator's (app.sending_manager, set by those routes once they have checked the caller; no
-- other request sets it), as app.operator does for a top-level tenant's status (0037). Pausing stays
-- open to the tenant's own transactions (the reputation check pauses it in its own delivery).
CREATE FUNCTION mailroom_sending_states_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  raised boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    raised := NEW.ip_pool IS NOT NULL OR NEW.window_from IS NOT NULL;
  ELSE
    raised := (OLD.paused AND NOT NEW.paused) OR NEW.ip_pool IS DISTINCT FROM OLD.ip_pool
              OR NEW.window_from IS DISTINCT FROM OLD.window_from;
  END IF;
  IF raised AND NEW.tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
     AND coalesce(current_setting('app.sending_manager', true), '') <> 'on' THEN
    RAISE EXCEPTION 'a tenant''s sending is resumed and its IP pool assigned by an ancestor or the operator'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER sending_states_guard BEFORE INSERT OR UPDATE ON sending_states FOR EACH ROW EXECUTE FUNCTION mailroom_sending_states_guard();
