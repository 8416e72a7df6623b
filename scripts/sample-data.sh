#!/usr/bin/env bash
# Loads the sample directory (a few schools, directors, staff, PZO administrator accounts and
# the department's staff) into accounts, so `make run` can be tried at once. Idempotent.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APP_ENVIRONMENT=local \
KLUCZNIK_DATABASE__HOST="$PGHOST" \
KLUCZNIK_DATABASE__PORT="$PGPORT" \
KLUCZNIK_DATABASE__NAME=klucznik_accounts \
KLUCZNIK_DATABASE__USERNAME=klucznik_accounts \
KLUCZNIK_DATABASE__PASSWORD_FILE="$(service_password_file accounts)" \
    "$ROOT/target/debug/accounts" import "$ROOT/services/accounts/sample/directory.jsonl"
