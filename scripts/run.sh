#!/bin/bash
# The main job, on a fresh Debian 12 as root: installs the packages, builds, checks the engine,
# then runs the storage service chaosmask-scp on loopback with the built-in default
# configuration (its local test peers, key ring, archive and audit log under ./out), and
#   - stores a generated CT study with storescu,
#   - queries it with findscu,
#   - retrieves it decrypted with getscu and with movescu (to a storescp),
#   - proves the originals came back identical (every element, pixels bit for bit) and that
#     the archive holds masked pixels only,
#   - prints the throughput, and stops the service (SIGTERM, exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
bash scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target chaosmask chaosmask-scp
CM=$SRC/build/release/plugin/cli/chaosmask
SCP=$SRC/build/release/plugin/scp/chaosmask-scp
PY=/usr/bin/python3
COMPARE="$PY $SRC/tests/scp/compare.py"
export TCP_NODELAY=1 # DCMTK's tools leave Nagle on unless asked; the service turns it off itself
N=${CHAOSMASK_RUN_OBJECTS:-50}

mkdir -p out
cd out
rm -rf archive study received scp.log storescp.log # a fresh archive each run; the key ring stays
"$CM" --version
"$CM" selftest
[ -f keyring/active ] || "$CM" --keyring keyring keygen

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
for port in 11112 11113; do
    if $PY -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
        echo "port $port is in use: the built-in configuration needs 11112 (service) and 11113 (storescp)" >&2
        exit 1
    fi
done

echo
echo "== chaosmask-scp on 127.0.0.1:11112 (AE CHAOSMASK), built-in configuration"
"$SCP" -v >scp.log 2>&1 &
SCP_PID=$!
PIDS+=($SCP_PID)
for _ in $(seq 100); do grep -q "listening on" scp.log && break; sleep 0.1; done
echoscu -aec CHAOSMASK 127.0.0.1 11112 && echo "C-ECHO: ok"

seconds() { date +%s.%N; }
rate() { # WHAT N BYTES T0 T1
    $PY -c "import sys; n, b, t = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[5]) - float(sys.argv[4]); \
print('%-34s %4d objects in %5.2f s: %6.1f objects/s, %6.1f MB/s' % (sys.argv[1], n, t, n / t, b / t / 1e6))" "$@"
}

echo
echo "== a generated study: $N CT objects, 512 x 512 x 16 bit"
STUDY=$($PY "$SRC/tests/scp/make_study.py" study "$N" --rows 512 --cols 512 --prefix ct | head -1)
SERIES=$(dcmdump +P SeriesInstanceUID study/ct0000.dcm | sed 's/.*\[\(.*\)\].*/\1/')
BYTES=$(du -cb study/*.dcm | tail -1 | cut -f1)
seen=$( (cat audit.log 2>/dev/null || true) | wc -l) # the audit log keeps earlier runs' records: count this run's
t0=$(seconds)
storescu -aec CHAOSMASK 127.0.0.1 11112 study/*.dcm
t1=$(seconds)
stored=$(tail -n +"$((seen + 1))" audit.log | grep -c '"event": "store".*"status": "0x0000"' || true)
echo "stored (audit log): $stored of $N"
[ "$stored" -ge "$N" ]

mkdir -p received/find received/getscu received/movescu
findscu -S -aec CHAOSMASK -X -od received/find 127.0.0.1 11112 -k QueryRetrieveLevel=IMAGE \
    -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID="$SERIES" -k SOPInstanceUID -k PatientName >/dev/null
echo "C-FIND: $(ls received/find | wc -l) images of the study in the index"

t2=$(seconds)
getscu -aec CHAOSMASK -S -od received/getscu 127.0.0.1 11112 -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY"
t3=$(seconds)
storescp -aet STORESCP +xa -od received/movescu 11113 >storescp.log 2>&1 &
PIDS+=($!)
for _ in $(seq 40); do $PY -c "import socket; socket.create_connection(('127.0.0.1', 11113), 1)" 2>/dev/null && break; sleep 0.05; done
t4=$(seconds)
movescu -aec CHAOSMASK -aem STORESCP -S 127.0.0.1 11112 -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY"
t5=$(seconds)

echo
echo "== proofs"
echo -n "getscu (decrypted):  "; $COMPARE same-dir study received/getscu "$N"
echo -n "movescu (decrypted): "; $COMPARE same-dir study received/movescu "$N"
echo -n "archive:             "; $COMPARE masked-dir study archive "$N"
echo -n "archive:             "; $COMPARE plaintext archive study/*.dcm

echo
echo "== throughput"
rate "C-STORE (storescu, masked, synced)" "$N" "$BYTES" "$t0" "$t1"
rate "C-GET (getscu, decrypted)" "$N" "$BYTES" "$t2" "$t3"
rate "C-MOVE (movescu to storescp)" "$N" "$BYTES" "$t4" "$t5"

kill -TERM "$SCP_PID"
wait "$SCP_PID"
echo
echo "chaosmask-scp stopped (exit 0); audit log: $PWD/audit.log ($(wc -l <audit.log) records), archive: $PWD/archive"
