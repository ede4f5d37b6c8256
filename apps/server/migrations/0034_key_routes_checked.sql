-- A key's route must lead to that key. key_routes (0033) is a global table the runtime role writes
-- under its own tenant only, but with any prefix and key id: a route planted with another tenant's
-- prefix found nothing (the lookup reads each key by the route's tenant), yet cost every lookup of
-- that prefix a statement more. On plain Postgres a trigger now refuses a route without its key (the
-- same tenant, id and prefix: foreign_key_violation, as address_routes' check), and a key deleted
-- takes its routes with it. The check reads api_keys with the writer's own rights: under row-level
-- security a route naming another tenant is refused the same way whether that tenant's key exists
-- or not (nothing to learn from the answer). On Citus these would reach another node from inside a
-- shard: `mailroom migrate` leaves them out there (src/db/citus.ts LOCAL_ONLY_TRIGGERS), and only
-- createApiKey writes routes, with its own key's prefix.
CREATE FUNCTION mailroom_key_routes_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM api_keys a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.key_id AND a.prefix = NEW.prefix) THEN
    RAISE EXCEPTION 'insert or update on table "key_routes" violates foreign key constraint "key_routes_tenant_id_key_id_api_keys_fk"'
      USING ERRCODE = 'foreign_key_violation', DETAIL = 'no key of this tenant has this id and prefix';
  END IF;
  RETURN NEW;
END
$$
--> statement-breakpoint
CREATE TRIGGER key_routes_key_check BEFORE INSERT OR UPDATE ON key_routes
  FOR EACH ROW EXECUTE FUNCTION mailroom_key_routes_check()
--> statement-breakpoint
CREATE FUNCTION mailroom_api_keys_drop_routes() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM key_routes WHERE tenant_id = OLD.tenant_id AND key_id = OLD.id;
  RETURN NULL;
END
$$
--> statement-breakpoint
CREATE TRIGGER api_keys_drop_routes AFTER DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION mailroom_api_keys_drop_routes()
