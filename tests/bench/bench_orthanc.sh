#!/bin/bash
# bench_orthanc.sh PLUGIN CHAOSMASK [COUNT] [ROUNDS] - figures, never assertions: C-STORE into
# Orthanc with and without libChaosMaskOrthanc.so (same files, same run, rounds alternated so
# that drift hits both), then REST downloads of every object from each.  Prints objects/s,
# MB/s and the ratio with/without (target for C-STORE: >= 0.9).
#
# Objects: COUNT synthetic 512 x 512 16-bit CT images (what a CT series is made of) and COUNT
# copies of pydicom's 128 x 128 CT_small, each with fresh UIDs; one storescu association per
# set.  Both Orthanc write durably (SyncStorageArea; the atomic writer) and keep no storage
# cache, and each round starts from an empty storage and index.  Run from a build tree:
#   build/release/tests/bench/bench_orthanc [COUNT=200] [ROUNDS=3]
set -euo pipefail
PLUGIN=$(realpath "$1"); CHAOSMASK=$(realpath "$2"); COUNT=${3:-200}; ROUNDS=${4:-3}
source "$(dirname "$(realpath "$0")")/../orthanc/lib.sh"
enter_netns "$@"

WORK=$(mktemp -d /tmp/bench_orthanc.XXXXXX); cd "$WORK"
PIDS=
trap 'for p in $PIDS; do orthanc_stop $p; done; rm -rf "$WORK"' EXIT
"$CHAOSMASK" -q --keyring keyring keygen >/dev/null
printf '[keyring]\ndir = %s/keyring\n[log]\naudit = %s/audit.log\n' "$WORK" "$WORK" >chaosmask.ini

# COUNT objects per set, fresh UIDs, written by pydicom.  The 512 x 512 images are windows of
# one synthetic body phantom with noise, shifted per object so that no two are alike.
cat >make_objects.py <<'PYTHON'
import array, math, os, random, sys
import pydicom
from pydicom.uid import generate_uid
count, src = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(12)
n = 512 * 512 + 2 * count
base = array.array("h", (int((1000 if (i % 512 - 256) ** 2 + (i // 512 % 512 - 256) ** 2 < 230 ** 2 else 0)
                             + 40 * math.sin(i / 170.0) + rnd.gauss(0, 12)) for i in range(n)))
raw = base.tobytes()
for name, big in (("ct512", True), ("ctsmall", False)):
    os.makedirs(name)
    study, series = generate_uid(), generate_uid()
    for i in range(count):
        ds = pydicom.dcmread(src)
        if big:
            ds.Rows = ds.Columns = 512
            ds.PixelData = raw[4 * i:4 * i + 512 * 512 * 2]
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = i + 1
        ds.save_as("%s/%05d.dcm" % (name, i))
PYTHON
"$PY" make_objects.py "$COUNT" "$SAMPLES/CT_small.dcm"

# Every object over one keep-alive connection: "seconds bytes objects".
cat >download.py <<'PYTHON'
import http.client, json, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/instances")
ids = json.loads(c.getresponse().read())
t0, total = time.monotonic(), 0
for i in ids:
    c.request("GET", "/instances/%s/file" % i)
    r = c.getresponse()
    total += len(r.read())
    if r.status != 200:
        sys.exit("HTTP %d for %s" % (r.status, i))
print("%.4f %d %d" % (time.monotonic() - t0, total, len(ids)))
PYTHON

HTTP=$(free_port); DICOM=$(free_port)
run_round() {   # run_round with|without SET -> "store_seconds download_seconds bytes objects"
    local dir="$WORK/$1-$2" plugins="[]" extra="" t0 t1
    rm -rf "$dir"
    if [ "$1" = with ]; then plugins="[\"$PLUGIN\"]"; extra=", \"ChaosMask\": {\"Config\": \"$WORK/chaosmask.ini\"}"; fi
    orthanc_config bench "$dir" "$HTTP" "$DICOM" 1 "$plugins" "$extra"
    orthanc_start "$dir" "$HTTP" || fail "Orthanc ($1 the plugin) did not start"
    PIDS=$ORTHANC_PID
    t0=$(date +%s.%N)
    storescu -aet SCU -aec ORTHANC 127.0.0.1 "$DICOM" "$WORK/$2"/*.dcm 2>"$dir/storescu.log" || true
    t1=$(date +%s.%N)
    ! grep -q 'Store Failed\|E:' "$dir/storescu.log" || fail "stores failed: $(head -3 "$dir/storescu.log")"
    local down
    down=$("$PY" download.py "$HTTP")
    orthanc_stop "$ORTHANC_PID"; PIDS=
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $down"
}

less_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
echo "bench_orthanc: Orthanc $(Orthanc --version 2>&1 | head -1 | awk '{print $2}'), $COUNT objects per set, best of $ROUNDS alternated rounds"
printf '%-26s %14s %14s %8s\n' "" "without plugin" "with plugin" "ratio"
for set in ct512 ctsmall; do
    declare -A best_store=() best_down=()
    kb=$(du -sk "$set" | awk -v n="$COUNT" '{ printf "%d", $1 / n }')
    for _ in $(seq "$ROUNDS"); do
        for mode in without with; do
            read -r st dt _ n <<<"$(run_round "$mode" "$set")"
            [ "$n" = "$COUNT" ] || fail "$mode: $n objects stored, not $COUNT"
            if [ -z "${best_store[$mode]:-}" ] || less_than "$st" "${best_store[$mode]}"; then best_store[$mode]=$st; fi
            if [ -z "${best_down[$mode]:-}" ] || less_than "$dt" "${best_down[$mode]}"; then best_down[$mode]=$dt; fi
        done
    done
    printf '%s (%d KB each)\n' "$set" "$kb"
    awk -v n="$COUNT" -v kb="$kb" -v s0="${best_store[without]}" -v s1="${best_store[with]}" \
        -v d0="${best_down[without]}" -v d1="${best_down[with]}" 'BEGIN {
        printf "  %-24s %14.1f %14.1f %8.2f\n", "C-STORE objects/s", n / s0, n / s1, s0 / s1
        printf "  %-24s %14.1f %14.1f %8.2f\n", "C-STORE MB/s", n * kb / 1024 / s0, n * kb / 1024 / s1, s0 / s1
        printf "  %-24s %14.1f %14.1f %8.2f\n", "REST /file objects/s", n / d0, n / d1, d0 / d1
        printf "  %-24s %14.1f %14.1f %8.2f\n", "REST /file MB/s", n * kb / 1024 / d0, n * kb / 1024 / d1, d0 / d1 }'
    unset best_store best_down
done
echo "target: C-STORE ratio >= 0.9 (the plugin masks, seals the header prefix and writes both durably)"
