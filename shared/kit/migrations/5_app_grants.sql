-- When a service runs as its own role and its migrations as a separate owner, the owner
-- grants the service's role what it needs by calling kit_grant_app(role) after migrating.
-- This default grants the tables' ordinary use; a service that must restrict its own role
-- (audit) defines its own kit_grant_app, which this never replaces.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'kit_grant_app') THEN
        EXECUTE $f$
            CREATE FUNCTION kit_grant_app(app text) RETURNS void LANGUAGE plpgsql AS $body$
            BEGIN
                EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', app);
                EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
            END $body$
        $f$;
    END IF;
END $$;
