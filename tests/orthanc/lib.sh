# lib.sh - what the Orthanc tests share (sourced): a private network namespace, Orthanc
# processes with their own configuration, storage and index in the test's folder, the
# sample files with fresh UIDs, and the comparisons.
#
# Orthanc 1.10.1 listens on every interface and has no bind option, so each test re-runs
# itself inside a network namespace of its own (unshare -n) where only its loopback exists;
# where namespaces cannot be made (no privileges) it runs on this machine's loopback ports
# and says so.

SAMPLES=/usr/lib/python3/dist-packages/pydicom/data/test_files
PY=/usr/bin/python3   # Debian's python3 sees python3-pydicom
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
# A command that fails without a check of its own still says where.
trap 'echo "FAIL: ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
say() { echo "-- [${SECONDS}s] $*"; }

# Re-executes the calling script inside a new network namespace (once).
enter_netns() {
    if [ -z "${CM_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
        CM_IN_NETNS=1 exec unshare -n "$BASH" "$0" "$@"
    fi
    if [ -n "${CM_IN_NETNS:-}" ]; then
        ip link set lo up || fail "cannot bring up the namespace's loopback"
        say "running in a network namespace of its own"
    else
        say "no network namespace (unshare -n refused): Orthanc listens on this machine's interfaces for the test"
    fi
}

# A free TCP port on the loopback.
free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# orthanc_config NAME DIR HTTP DICOM SCU_PORT PLUGINS_JSON EXTRA_JSON: writes DIR/orthanc.json.
orthanc_config() {
    local name=$1 dir=$2 http=$3 dicom=$4 scu=$5 plugins=$6 extra=$7
    mkdir -p "$dir"
    cat >"$dir/orthanc.json" <<EOF
{
  "Name": "$name",
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/index",
  "HttpPort": $http, "DicomPort": $dicom, "DicomAet": "ORTHANC",
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomModalities": { "SCU": ["SCU", "127.0.0.1", $scu] },
  "MaximumStorageCacheSize": 0,
  "Plugins": $plugins
  $extra
}
EOF
}

# orthanc_start DIR HTTP: starts Orthanc on DIR/orthanc.json, waits for its REST API.
# Sets ORTHANC_PID; returns 1 when it exited instead (its log in DIR/orthanc.log).
orthanc_start() {
    local dir=$1 http=$2
    Orthanc "$dir/orthanc.json" >>"$dir/orthanc.log" 2>&1 &
    ORTHANC_PID=$!
    for _ in $(seq 150); do
        kill -0 "$ORTHANC_PID" 2>/dev/null || { wait "$ORTHANC_PID"; return 1; }
        curl -sf "http://127.0.0.1:$http/system" >/dev/null && return 0
        sleep 0.1
    done
    kill -KILL "$ORTHANC_PID" 2>/dev/null   # a hung Orthanc must not outlive the test
    fail "Orthanc in $dir did not answer within 15 s"
}

orthanc_stop() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true
}

# Copies the sample files with fresh Study/Series/SOP Instance UIDs into DIR (several samples
# share UIDs).  Prints nothing; the list is DIR/*.dcm.
fresh_samples() {
    local dir=$1; shift
    mkdir -p "$dir"
    for f in "$@"; do
        cp "$SAMPLES/$f" "$dir/$f"
        dcmodify -q -nb -gst -gse -gin "$dir/$f" || fail "dcmodify $f"
    done
}

# storescu's option that proposes the transfer syntax a file is in, so that every object
# travels as it is (storescu would otherwise try to convert compressed ones).
propose_option() {
    case $(dcmdump -q -Un +P 0002,0010 "$1" | sed -n 's/.*\[\(.*\)\].*/\1/p') in
        1.2.840.10008.1.2) echo -xi ;;
        1.2.840.10008.1.2.2) echo -xb ;;
        1.2.840.10008.1.2.4.50) echo -xy ;;
        1.2.840.10008.1.2.4.51) echo -xx ;;
        1.2.840.10008.1.2.4.57 | 1.2.840.10008.1.2.4.70) echo -xs ;;
        1.2.840.10008.1.2.4.80) echo -xt ;;
        1.2.840.10008.1.2.4.81) echo -xu ;;
        1.2.840.10008.1.2.4.90) echo -xv ;;
        1.2.840.10008.1.2.4.91) echo -xw ;;
        1.2.840.10008.1.2.5) echo -xr ;;
        1.2.840.10008.1.2.1.99) echo -xd ;;
        *) echo -x= ;;
    esac
}

# store_files PORT FILE...: C-STORE with storescu, one association per file; storescu 3.6.7
# exits 0 even when a store was refused, so its log is read.
store_files() {
    local port=$1; shift
    for f in "$@"; do
        local log
        log=$(storescu -v $(propose_option "$f") -aet SCU -aec ORTHANC 127.0.0.1 "$port" "$f" 2>&1) ||
            fail "storescu $f: $log"
        echo "$log" | grep -q "Received Store Response (Success)" || fail "store of $(basename "$f") refused: $log"
        echo "$log" | grep "Converting transfer syntax" | grep -qv ': \(.*\) -> \1$' &&
            fail "storescu converted $(basename "$f"): $log"
        true
    done
}

# The SOP Instance UID of a file (the top-level one: sequences may hold others).
sop_uid() { dcmdump -q +P 0008,0018 "$1" | sed -n '1s/.*\[\(.*\)\].*/\1/p'; }

# Orthanc's id of the instance with SOP Instance UID $2 (REST base $1).
orthanc_id() {
    curl -sf -X POST "$1/tools/lookup" -d "$2" | "$PY" -c 'import json,sys; print([r["ID"] for r in json.load(sys.stdin) if r["Type"]=="Instance"][0])'
}

# The data set of a file as text: dcmdump without the File Meta Information, the trailing
# padding (neither is part of what a C-STORE carries) and how sequence and item lengths are
# encoded (explicit or undefined: a sender's choice, not content).
dataset_text() {
    dcmdump -q +L +U8 "$1" | grep -v '^(0002,' | grep -vi '^(fffc,fffc)' | grep -v '^#' | grep -v '^$' |
        grep -vi '(fffe,e00d)\|(fffe,e0dd)' |
        sed -E 's/ *#[^#]*$//; s/\((Sequence|Item) with (explicit|undefined) length (#=[0-9]+)\)/(\1 \3)/'
}

same_dataset() {
    diff <(dataset_text "$1") <(dataset_text "$2") >/dev/null || {
        diff <(dataset_text "$1") <(dataset_text "$2") | head -20 | cut -c1-160 >&2
        fail "$3: data set differs from what was sent"
    }
}
