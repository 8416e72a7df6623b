#!/bin/sh
# Runs once, when the database's volume is first initialised (the postgres image runs
# /docker-entrypoint-initdb.d/* as its superuser, POSTGRES_USER, whom no service uses).
# It creates the service's roles, neither of them a superuser:
#   KLUCZNIK_OWNER  owns the database and its schema, and runs the migrations;
#   KLUCZNIK_APP    (only where set, as for audit) the role the service runs as, granted
#                   by the owner only what the service needs (kit_grant_app).
set -eu
owner_password=$(cat /var/run/secrets/klucznik/db/password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner="$KLUCZNIK_OWNER" -v owner_password="$owner_password" <<'SQL'
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
ALTER DATABASE :"DBNAME" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
SQL
if [ -n "${KLUCZNIK_APP:-}" ]; then
    app_password=$(cat /var/run/secrets/klucznik/db/app-password)
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -v app="$KLUCZNIK_APP" -v app_password="$app_password" <<'SQL'
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
SQL
fi
