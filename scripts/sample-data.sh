#!/usr/bin/env bash
# Loads the sample directory (a few schools, directors, staff, PZO administrator accounts and
# the department's staff) into accounts, so `make run` can be tried at once, and gives the
# department's sample staff (and one director) a password and a TOTP secret (kept in .local/secrets/). Idempotent.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

accounts() {
    APP_ENVIRONMENT=local \
    KLUCZNIK_DATABASE__HOST="$PGHOST" \
    KLUCZNIK_DATABASE__PORT="$PGPORT" \
    KLUCZNIK_DATABASE__NAME=klucznik_accounts \
    KLUCZNIK_DATABASE__USERNAME=klucznik_accounts \
    KLUCZNIK_DATABASE__PASSWORD_FILE="$(service_password_file accounts)" \
    KLUCZNIK_ACCOUNTS__SIGNING_KEY_FILE="$(local_secret_file accounts-signing-key 32)" \
    KLUCZNIK_ACCOUNTS__TOTP_KEY_FILE="$(local_secret_file accounts-totp-key 32)" \
        "$ROOT/target/debug/accounts" "$@"
}

accounts import "$ROOT/services/accounts/sample/directory.jsonl"
# The staff of the sample schools (procedure C's "Pracownicy Placówki"); again changes nothing.
accounts import-staff "$ROOT/services/accounts/sample/staff.csv" >/dev/null
# The department's staff, SP 7's director (the central admin panel, procedure D's mode 2), and
# procedure D's inspectors of Kraków and of the ministry.
for login in admin.ek04 operator.ek04 audytor jkowalski anowak mkontrola; do
    totp_file="$SECRETS_DIR/staff-$login-totp"
    [[ -s "$totp_file" ]] && continue
    password_file="$(local_secret_file "staff-$login-password" 12)"
    accounts set-password "$login" <"$password_file" >/dev/null
    enrolled="$(accounts enroll-totp "$login")"
    (umask 077; printf '%s\n' "${enrolled%%$'\n'*}" >"$totp_file")
    log "staff $login: password in $password_file, TOTP secret in $totp_file"
done

# Procedure D's register: units, local databases, people, employees, authorisations.
APP_ENVIRONMENT=local \
KLUCZNIK_DATABASE__HOST="$PGHOST" \
KLUCZNIK_DATABASE__PORT="$PGPORT" \
KLUCZNIK_DATABASE__NAME=klucznik_revocation \
KLUCZNIK_DATABASE__USERNAME=klucznik_revocation \
KLUCZNIK_DATABASE__PASSWORD_FILE="$(service_password_file revocation)" \
KLUCZNIK_REVOCATION__PESEL_KEY_FILE="$(local_secret_file revocation-pesel-key 32)" \
    "$ROOT/target/debug/revocation" import "$ROOT/services/revocation/sample/register.jsonl" >/dev/null
