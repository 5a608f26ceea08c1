# lib.sh - what the chaosmask-scp tests share (sourced): a scratch directory with a key ring
# and a configuration of its own, the service started on a free loopback port and stopped by
# its process id, status checks on DCMTK tools' output, and the audit log.
#
# A test script sets SCP, CM (the chaosmask command), TESTS (tests/scp) and WORK (its scratch
# directory), sources this file, and calls `finish` at the end; every `check` that fails
# makes the test fail, with the reason on stderr.
set -u
PY=/usr/bin/python3 # Debian's Python: it sees python3-pydicom and python3-odil
# DCMTK's tools leave Nagle's algorithm on unless asked: with it, every small PDU waits for
# the peer's delayed ACK (40 ms).  The service disables it on its own sockets.
export TCP_NODELAY=1
RAW="$PY $TESTS/dicomraw.py"
failures=0
SERVICE_PID=
STARTED_PIDS=()

pass() { echo "ok: $1"; }
fail() { echo "FAILED: $1" >&2; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
    stop_service
    for p in "${STARTED_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    echo "$failures failed"
    [ "$failures" -eq 0 ]
}
trap 'for p in $SERVICE_PID "${STARTED_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done' EXIT

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A fresh scratch directory with a key ring (one active key).
setup_work() {
    rm -rf "$WORK"
    mkdir -p "$WORK"
    cd "$WORK" || exit 1
    "$CM" keygen --keyring "$WORK/keyring" --id test-key >/dev/null || { echo "keygen failed" >&2; exit 1; }
}

# write_config FILE PORT [EXTRA_INI]: the service's configuration, the test peers of the
# embedded default plus EXTRA_INI (sections), archive and audit in $WORK.
write_config() {
    local file=$1 port=$2 extra=${3:-}
    {
        printf '[keyring]\ndir = %s/keyring\n[archive]\ndir = %s/archive\n' "$WORK" "$WORK"
        printf '[log]\naudit = %s/audit.log\naudit_fsync = yes\n' "$WORK"
        printf '[scp]\naetitle = CHAOSMASK\nport = %s\nbind = 127.0.0.1\nacse_timeout = 10\n' "$port"
        printf '%b' "${SCP_EXTRA:-}"
        sed -n '/^\[peer /,$p' "$TESTS/../../config/chaosmask.ini"
        printf '%b' "$extra"
    } >"$file"
    chmod 600 "$file"
}

# start_service CONFIG [ARGS]: starts chaosmask-scp and waits until it listens.
start_service() {
    local config=$1
    shift
    local before
    before=$(grep -c "listening on" "$WORK/service.log" 2>/dev/null)
    "$SCP" --config "$config" -v "$@" >>"$WORK/service.log" 2>&1 &
    SERVICE_PID=$!
    for _ in $(seq 200); do
        [ "$(grep -c "listening on" "$WORK/service.log")" -gt "${before:-0}" ] && return 0
        kill -0 "$SERVICE_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "the service did not start:" >&2
    cat "$WORK/service.log" >&2
    return 1
}

# stop_service: SIGTERM, then the exit status in SERVICE_RC.
stop_service() {
    SERVICE_RC=
    [ -n "$SERVICE_PID" ] || return 0
    kill -TERM "$SERVICE_PID" 2>/dev/null
    wait "$SERVICE_PID"
    SERVICE_RC=$?
    SERVICE_PID=
}

# Background helpers (storescp destinations...) started with `spawn`, stopped at the end.
spawn() {
    "$@" &
    STARTED_PIDS+=($!)
    LAST_PID=$!
}

# wait_port PORT: until something listens there (2 s at most).
wait_port() {
    for _ in $(seq 40); do
        $PY -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

echo_ok() { echoscu -aec CHAOSMASK 127.0.0.1 "$PORT" >/dev/null 2>&1; }

# storescu/dcmsend exit 0 even when a store is refused: count the successes in the log.
# stores_ok LOG N: exactly N "Received Store Response (Success)" lines and no other response.
stores_ok() {
    local n
    n=$(grep -c "Received Store Response (Success)" "$1")
    [ "$n" -eq "$2" ] && ! grep "Received Store Response" "$1" | grep -vq "(Success)"
}

# audit_has EVENT 'PYTHON-EXPR': some audit record of EVENT satisfies the expression over r.
audit_has() {
    $PY - "$WORK/audit.log" "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = any(eval(sys.argv[3], {}, {"r": r}) for r in rows if r.get("event") == sys.argv[2])
sys.exit(0 if ok else 1)
PY
}

# audit_count EVENT 'PYTHON-EXPR': how many records of EVENT satisfy it.
audit_count() {
    $PY - "$WORK/audit.log" "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(sum(1 for r in rows if r.get("event") == sys.argv[2] and eval(sys.argv[3], {}, {"r": r})))
PY
}

# dump_value FILE TAG: a value as dcmdump prints it.
dump_value() { dcmdump +P "$2" "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1; }

# Files in the archive (not index.dat), and temporary files anywhere under it.
archive_files() { find "$WORK/archive" -name '*.dcm' -type f | sort; }
archive_temps() { find "$WORK/archive" -name '*.chaosmask-*' | wc -l; }
