#!/usr/bin/env bash
# `make run`: run the whole Klucznik system locally, in the foreground.
#
#   PostgreSQL (started if needed), NATS with JetStream (started if needed),
#   an SMTP sink (aiosmtpd -> .local/mail, Maildir), an SMS sink
#   (scripts/sms-sink.py -> .local/sms/messages.jsonl) and the five services
#   from target/debug, each on 127.0.0.1:8081..8085, and the console on 8080; logs in
#   .local/logs/.
#
# Ctrl-C (or SIGTERM) stops everything this script started, and only that.
#
# Knobs: KLUCZNIK_NATS__URL (nats://127.0.0.1:4223, authenticated), KLUCZNIK_NATS_CLUSTER
# (nodes of a local NATS cluster, default 1: KLUCZNIK_NATS_CLUSTER=3 starts three on 4223-4225
# with streams at three replicas), PGHOST/PGPORT,
#   KLUCZNIK_SMTP_PORT (2525), KLUCZNIK_SMS_PORT (9090),
#   KLUCZNIK_TELEMETRY__LOG_FORMAT (pretty), KLUCZNIK_TELEMETRY__OTLP_ENDPOINT,
#   KLUCZNIK_SKIP_BUILD=1 (don't run cargo build), KLUCZNIK_RUN_QUIET=1 (service
#   logs only to files, not to the terminal), KLUCZNIK_READY_TIMEOUT (60).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
cd "$ROOT"

NATS_URL="${KLUCZNIK_NATS__URL:-nats://127.0.0.1:4223}"
# Every party's NATS nkey seed (<party>.nk) and the server's authorization block.
NATS_IDENTITIES="$SECRETS_DIR/nats"
BIND_HOST="${KLUCZNIK_HTTP__HOST:-127.0.0.1}"
SMTP_HOST=127.0.0.1
SMTP_PORT="${KLUCZNIK_SMTP_PORT:-2525}"
SMS_HOST=127.0.0.1
SMS_PORT="${KLUCZNIK_SMS_PORT:-9090}"
READY_TIMEOUT="${KLUCZNIK_READY_TIMEOUT:-60}"
LOG_FORMAT="${KLUCZNIK_TELEMETRY__LOG_FORMAT:-pretty}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN_DIR="$TARGET_DIR/debug"
LOG_DIR="$LOCAL_DIR/logs"
MAIL_DIR="$LOCAL_DIR/mail"
SMS_FILE="$LOCAL_DIR/sms/messages.jsonl"

declare -A SVC_PID=()
declare -A SVC_PORT=()
SINK_PIDS=()
CLEANED_UP=""

for i in "${!KLUCZNIK_SERVICES[@]}"; do
    SVC_PORT[${KLUCZNIK_SERVICES[$i]}]=$((8081 + i))
done
# The staff's web pages are the one address people open.
SVC_PORT[console]=8080

# ------------------------------------------------------------- shutdown ---

wait_or_kill() {
    # wait_or_kill PID NAME SECONDS: wait for PID to exit, then KILL it.
    local pid=$1 name=$2 secs=$3 i
    for ((i = 0; i < secs * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.2
    done
    warn "$name (pid $pid) did not stop within ${secs}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_pid() {
    # stop_pid PID NAME SECONDS: TERM, wait, then KILL.
    kill -TERM "$1" 2>/dev/null || return 0
    wait_or_kill "$@"
}

cleanup() {
    [[ -n "$CLEANED_UP" ]] && return 0
    CLEANED_UP=1
    trap '' INT TERM HUP
    local svc pid
    if [[ ${#SVC_PID[@]} -gt 0 ]]; then
        log "stopping services"
        # Signal all first so they shut down in parallel, then wait for each.
        for svc in "${!SVC_PID[@]}"; do
            kill -TERM "${SVC_PID[$svc]}" 2>/dev/null || true
        done
        for svc in "${KLUCZNIK_SERVICES[@]}"; do
            pid=${SVC_PID[$svc]:-}
            if [[ -n "$pid" ]]; then wait_or_kill "$pid" "$svc" 15; fi
        done
    fi
    if [[ ${#SINK_PIDS[@]} -gt 0 ]]; then
        log "stopping SMTP/SMS sinks"
        for pid in "${SINK_PIDS[@]}"; do
            stop_pid "$pid" "sink" 5
        done
    fi
    stop_nats_if_started
    stop_postgres_if_started
    log "stopped"
}

on_signal() {
    echo >&2
    log "interrupted; shutting down"
    cleanup
    exit 0
}

trap cleanup EXIT
trap on_signal INT TERM HUP

# ---------------------------------------------------------- dependencies ---

for svc in "${KLUCZNIK_SERVICES[@]}"; do
    if tcp_open "$BIND_HOST" "${SVC_PORT[$svc]}"; then
        die "port ${SVC_PORT[$svc]} ($svc) on $BIND_HOST is already in use; is another 'make run' still running?"
    fi
done

ensure_postgres
ensure_venv
ensure_nats_server
ensure_pip_pkg aiosmtpd aiosmtpd
ensure_service_databases

if [[ "${KLUCZNIK_SKIP_BUILD:-0}" != 1 ]]; then
    have cargo || die "cargo not found: install Rust (https://rustup.rs) or put ~/.cargo/bin on PATH"
    log "cargo build --bins"
    cargo build --bins
fi
for svc in "${KLUCZNIK_SERVICES[@]}" klucznikctl; do
    [[ -x "$BIN_DIR/$svc" ]] || die "$BIN_DIR/$svc not found: run 'cargo build --bins'"
done

(umask 077; "$BIN_DIR/klucznikctl" nats init "$NATS_IDENTITIES" >/dev/null) ||
    die "cannot make the NATS identities in $NATS_IDENTITIES"
NATS_NODES="${KLUCZNIK_NATS_CLUSTER:-1}"
[[ "$NATS_NODES" =~ ^[1-9]$ ]] || die "KLUCZNIK_NATS_CLUSTER must be a number of nodes (1-9), not '$NATS_NODES'"
if ((NATS_NODES > 1)); then
    ensure_nats_cluster_running "$NATS_URL" "$NATS_IDENTITIES" "$NATS_NODES"
    NATS_URL=$NATS_CLUSTER_URL
else
    ensure_nats_running "$NATS_URL" "$NATS_IDENTITIES"
fi
log "creating the JetStream streams at $NATS_NODES replicas (as the provisioner)"
provisioned=0
# A new cluster elects its JetStream leader a few seconds after its routes are up.
for ((try = 0; try < 30; try++)); do
    if "$BIN_DIR/klucznikctl" --nats-url "$NATS_URL" --nkey-seed-file "$NATS_IDENTITIES/provisioner.nk" \
        nats provision --replicas "$NATS_NODES" >/dev/null 2>&1; then
        provisioned=1
        break
    fi
    sleep 1
done
((provisioned)) || die "cannot create the JetStream streams"

# ----------------------------------------------------------------- sinks ---

mkdir -p "$LOG_DIR" "$MAIL_DIR"/{tmp,new,cur} "$(dirname "$SMS_FILE")"
detach_prefix

if tcp_open "$SMTP_HOST" "$SMTP_PORT"; then
    warn "something already listens on $SMTP_HOST:$SMTP_PORT; using it as the SMTP server (mail may not land in $MAIL_DIR)"
else
    log "starting SMTP sink on $SMTP_HOST:$SMTP_PORT (Maildir $MAIL_DIR)"
    "${DETACH[@]}" "$VENV/bin/python" -m aiosmtpd -n -l "$SMTP_HOST:$SMTP_PORT" \
        -c aiosmtpd.handlers.Mailbox "$MAIL_DIR" >>"$LOG_DIR/smtp-sink.log" 2>&1 </dev/null &
    SINK_PIDS+=($!)
    wait_tcp "$SMTP_HOST" "$SMTP_PORT" 15 "$!" || {
        tail -n 20 "$LOG_DIR/smtp-sink.log" >&2 || true
        die "SMTP sink did not start"
    }
fi

if tcp_open "$SMS_HOST" "$SMS_PORT"; then
    warn "something already listens on $SMS_HOST:$SMS_PORT; using it as the SMS gateway (SMS may not land in $SMS_FILE)"
else
    log "starting SMS sink on $SMS_HOST:$SMS_PORT ($SMS_FILE)"
    "${DETACH[@]}" "$VENV/bin/python" "$ROOT/scripts/sms-sink.py" --host "$SMS_HOST" --port "$SMS_PORT" \
        --out "$SMS_FILE" >>"$LOG_DIR/sms-sink.log" 2>&1 </dev/null &
    SINK_PIDS+=($!)
    wait_tcp "$SMS_HOST" "$SMS_PORT" 15 "$!" || {
        tail -n 20 "$LOG_DIR/sms-sink.log" >&2 || true
        die "SMS sink did not start"
    }
fi

# -------------------------------------------------------------- services ---

# accounts signs staff tokens; every service checks them with its public key.
ACCOUNTS_KEY_FILE="$(local_secret_file accounts-signing-key 32)"
accounts_public_key() {
    KLUCZNIK_ACCOUNTS__SIGNING_KEY_FILE="$ACCOUNTS_KEY_FILE" "$BIN_DIR/accounts" public-key
}

start_service() {
    local svc=$1 logf="$LOG_DIR/$1.log" pwfile
    pwfile="$(service_password_file "$svc")"
    : >"$logf"
    local -a envs=(
        APP_ENVIRONMENT=local
        KLUCZNIK_HTTP__HOST="$BIND_HOST"
        KLUCZNIK_HTTP__PORT="${SVC_PORT[$svc]}"
        KLUCZNIK_NATS__URL="$NATS_URL"
        KLUCZNIK_DATABASE__HOST="$PGHOST"
        KLUCZNIK_DATABASE__PORT="$PGPORT"
        KLUCZNIK_DATABASE__NAME="klucznik_$svc"
        KLUCZNIK_DATABASE__USERNAME="klucznik_$svc"
        KLUCZNIK_DATABASE__PASSWORD_FILE="$pwfile"
        KLUCZNIK_TELEMETRY__LOG_FORMAT="$LOG_FORMAT"
        KLUCZNIK_AUTH__ACCOUNTS_PUBLIC_KEY="$ACCOUNTS_PUBLIC_KEY"
    )
    if [[ "$svc" == accounts ]]; then
        envs+=(
            KLUCZNIK_ACCOUNTS__SIGNING_KEY_FILE="$ACCOUNTS_KEY_FILE"
            KLUCZNIK_ACCOUNTS__TOTP_KEY_FILE="$(local_secret_file accounts-totp-key 32)"
            KLUCZNIK_ACCOUNTS__DELIVERY_PUBLIC_KEY="$DELIVERY_PUBLIC_KEY"
            # The console, on this host, signs people in on their behalf.
            KLUCZNIK_ACCOUNTS__SIGN_IN__TRUSTED_PROXIES="$BIND_HOST"
        )
    fi
    if [[ "$svc" == delivery ]]; then
        envs+=(
            KLUCZNIK_DELIVERY__SMTP__HOST="$SMTP_HOST"
            KLUCZNIK_DELIVERY__SMTP__PORT="$SMTP_PORT"
            KLUCZNIK_DELIVERY__SMTP__TLS=none
            KLUCZNIK_DELIVERY__SMS__URL="http://$SMS_HOST:$SMS_PORT/sms"
            KLUCZNIK_DELIVERY__SMS__KIND=generic
            KLUCZNIK_DELIVERY__SEAL_KEY_FILE="$DELIVERY_SEAL_FILE"
        )
    fi
    # Every party on the bus has its own identity; the console is not on the bus.
    if [[ -f "$NATS_IDENTITIES/$svc.nk" ]]; then
        envs+=(KLUCZNIK_NATS__NKEY_SEED_FILE="$NATS_IDENTITIES/$svc.nk")
    fi
    if [[ "$svc" == console ]]; then
        envs+=(
            KLUCZNIK_CONSOLE__ACCOUNTS_URL="http://$BIND_HOST:${SVC_PORT[accounts]}"
            KLUCZNIK_CONSOLE__INTAKE_URL="http://$BIND_HOST:${SVC_PORT[intake]}"
            KLUCZNIK_CONSOLE__DELIVERY_URL="http://$BIND_HOST:${SVC_PORT[delivery]}"
            KLUCZNIK_CONSOLE__REVOCATION_URL="http://$BIND_HOST:${SVC_PORT[revocation]}"
            KLUCZNIK_CONSOLE__AUDIT_URL="http://$BIND_HOST:${SVC_PORT[audit]}"
        )
    fi
    if [[ "$svc" == revocation ]]; then
        envs+=(KLUCZNIK_REVOCATION__PESEL_KEY_FILE="$(local_secret_file revocation-pesel-key 32)")
    fi
    if [[ "$svc" == audit ]]; then
        envs+=(
            KLUCZNIK_AUDIT__CHECKPOINT_KEY_FILE="$(local_secret_file audit-checkpoint-key 32)"
            KLUCZNIK_AUDIT__PESEL_KEY_FILE="$(local_secret_file audit-pesel-key 32)"
            KLUCZNIK_AUDIT__CHECKPOINT_FILE="$ROOT/.local/audit-checkpoint.json"
        )
    fi
    log "starting $svc on http://$BIND_HOST:${SVC_PORT[$svc]} (log $logf)"
    if [[ "${KLUCZNIK_RUN_QUIET:-0}" == 1 ]]; then
        "${DETACH[@]}" env "${envs[@]}" "$BIN_DIR/$svc" >>"$logf" 2>&1 </dev/null &
    else
        # File gets the raw log; the terminal gets it prefixed with the name.
        # The tee/sed pair ignores Ctrl-C so shutdown logs still get through.
        "${DETACH[@]}" env "${envs[@]}" "$BIN_DIR/$svc" </dev/null \
            > >(trap '' INT HUP; tee -a "$logf" | sed -u "s/^/[$svc] /") 2>&1 &
    fi
    SVC_PID[$svc]=$!
}

ACCOUNTS_PUBLIC_KEY="$(accounts_public_key)" || die "cannot read accounts' public token key"
# accounts seals new credentials to delivery's key; only delivery can open them.
DELIVERY_SEAL_FILE="$(local_secret_file delivery-seal-key 32)"
DELIVERY_PUBLIC_KEY="$("$BIN_DIR/klucznikctl" seal-public-key "$DELIVERY_SEAL_FILE")" ||
    die "cannot derive delivery's public sealing key"
for svc in "${KLUCZNIK_SERVICES[@]}"; do
    start_service "$svc"
done

fail_service() {
    local svc=$1 why=$2
    printf '[klucznik] ERROR: %s %s; last lines of %s:\n' "$svc" "$why" "$LOG_DIR/$svc.log" >&2
    tail -n 40 "$LOG_DIR/$svc.log" >&2 || true
    cleanup
    exit 1
}

for svc in "${KLUCZNIK_SERVICES[@]}"; do
    url="http://$BIND_HOST:${SVC_PORT[$svc]}/readyz"
    deadline=$((SECONDS + READY_TIMEOUT))
    until [[ "$(http_status "$url")" == 200 ]]; do
        kill -0 "${SVC_PID[$svc]}" 2>/dev/null || fail_service "$svc" "exited during start-up"
        ((SECONDS < deadline)) || fail_service "$svc" "was not ready within ${READY_TIMEOUT}s ($url)"
        sleep 0.5
    done
    log "$svc is ready"
done

if [[ -x "$ROOT/scripts/sample-data.sh" ]]; then
    log "loading sample data (scripts/sample-data.sh)"
    "$ROOT/scripts/sample-data.sh" || warn "scripts/sample-data.sh failed (exit $?); services keep running"
fi

# ------------------------------------------------------------------ info ---

{
    echo
    echo "[klucznik] Klucznik is running:"
    printf '    %-12s %-28s %s\n' SERVICE URL LOG
    for svc in "${KLUCZNIK_SERVICES[@]}"; do
        printf '    %-12s %-28s %s\n' "$svc" "http://$BIND_HOST:${SVC_PORT[$svc]}" ".local/logs/$svc.log"
    done
    echo
    printf '    %-12s %s\n' postgres "$PGHOST:$PGPORT (databases klucznik_<service>)"
    printf '    %-12s %s\n' nats "$NATS_URL (each party's nkey in ${NATS_IDENTITIES#"$ROOT"/}/)"
    printf '    %-12s %s\n' mail "smtp://$SMTP_HOST:$SMTP_PORT -> ${MAIL_DIR#"$ROOT"/}/new/ (Maildir, one file per mail)"
    printf '    %-12s %s\n' sms "http://$SMS_HOST:$SMS_PORT/sms -> ${SMS_FILE#"$ROOT"/} (one JSON line per SMS)"
    echo
    echo "    Console: http://$BIND_HOST:${SVC_PORT[console]}/  (staff sign in with password and TOTP code)"
    echo "    Health:  curl http://$BIND_HOST:8081/healthz  (and /readyz)"
    echo "    Submit:  export KLUCZNIK_NATS__NKEY_SEED_FILE=${NATS_IDENTITIES#"$ROOT"/}/klucznikctl.nk"
    echo "             ${BIN_DIR#"$ROOT"/}/klucznikctl submit proto-schemas/examples/<file>.json"
    if compgen -G "$ROOT/proto-schemas/examples/*.json" >/dev/null; then
        # shellcheck disable=SC2012
        echo "             examples: $(cd "$ROOT/proto-schemas/examples" && ls -- *.json | tr '\n' ' ')"
    fi
    echo
    echo "    Press Ctrl-C to stop everything."
    echo
} >&2

# ------------------------------------------------------------------ wait ---

while true; do
    set +e
    wait -n "${SVC_PID[@]}"
    rc=$?
    set -e
    # A signal interrupts wait with rc > 128; the trap handles it and exits.
    for svc in "${KLUCZNIK_SERVICES[@]}"; do
        if ! kill -0 "${SVC_PID[$svc]}" 2>/dev/null; then
            fail_service "$svc" "exited unexpectedly (status $rc)"
        fi
    done
done
