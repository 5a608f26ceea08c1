#!/bin/bash
# test_kill.sh SCP CM TESTS WORK - kill -9 during a store loop, of the parent and of the child
# serving the loop: every object acknowledged with Success is in the index and its archive
# file authenticates; no archive file is half-written; no temporary file survives a restart;
# no plaintext pixel run is anywhere in the archive or in /dev/shm.
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port)
write_config scp.ini "$PORT"
start_service scp.ini || exit 1
$PY "$TESTS/make_study.py" a 250 --rows 128 --cols 128 --prefix a >a.uid
$PY "$TESTS/make_study.py" b 250 --rows 128 --cols 128 --prefix b >b.uid

# acknowledged LOG: the files storescu -v saw answered with Success
acknowledged() {
    awk '/Sending file:/ {f=$NF} /Received Store Response \(Success\)/ {print f}' "$1"
}
# waits until LOG shows N answers (10 s at most)
wait_stores() {
    for _ in $(seq 200); do [ "$(grep -c 'Received Store Response' "$1")" -ge "$2" ] && return 0; sleep 0.05; done
    return 1
}

# ---- the parent dies: the child serving the association finishes it
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" a/*.dcm >a.log 2>&1 &
sender=$!
wait_stores a.log 20
kill -9 "$SERVICE_PID"
wait "$SERVICE_PID" 2>/dev/null
SERVICE_PID=
wait "$sender"
ack_a=$(acknowledged a.log | wc -l)
echoscu -aec CHAOSMASK 127.0.0.1 "$PORT" >dead.log 2>&1
check "with the parent dead, nothing listens" grep -q "Connection refused" dead.log
echo "parent killed: $ack_a of 250 acknowledged"

# ---- the child dies in the middle of the loop
start_service scp.ini || exit 1
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" b/*.dcm >b.log 2>&1 &
sender=$!
wait_stores b.log 20
kill -9 "$(pgrep -P "$SERVICE_PID" | head -1)"
wait "$sender"
ack_b=$(acknowledged b.log | wc -l)
echo "child killed: $ack_b of 250 acknowledged"
check "the loop was cut short by the child's death" [ "$ack_b" -lt 250 ] && [ "$ack_b" -ge 20 ]
sleep 0.3
check "the parent audited the child's death" audit_has child '"Killed" in r["message"]'
check "the service answers" echo_ok

# ---- restart (a temporary file a killed process left is stale after 2 s)
stop_service
sleep 2.1
start_service scp.ini || exit 1
check "no temporary file after the restart" [ "$(archive_temps)" = 0 ]
mkdir -p find/a find/b
for s in a b; do
    findscu -S -aec CHAOSMASK -X -od find/$s 127.0.0.1 "$PORT" -k QueryRetrieveLevel=IMAGE \
        -k StudyInstanceUID="$(head -1 $s.uid)" -k SeriesInstanceUID="$(dump_value $s/${s}0000.dcm SeriesInstanceUID)" \
        -k SOPInstanceUID >/dev/null 2>&1
done
indexed_all() { # every acknowledged file's SOP Instance UID is in the index
    $PY - "$1" "$2" <<'PY'
import os, sys, warnings
import pydicom
warnings.simplefilter("ignore")
files, found = [l.strip() for l in open(sys.argv[1])], sys.argv[2]
index = {str(pydicom.dcmread(os.path.join(found, f)).SOPInstanceUID) for f in os.listdir(found)}
missing = [f for f in files if str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) not in index]
print("%d acknowledged, %d indexed, %d missing" % (len(files), len(index), len(missing)))
sys.exit(1 if missing else 0)
PY
}
acknowledged a.log >a.ack
acknowledged b.log >b.ack
check "parent killed: every acknowledged object is indexed" indexed_all a.ack find/a
check "child killed: every acknowledged object is indexed" indexed_all b.ack find/b
printf '[log]\naudit =\n' >cli.ini && chmod 600 cli.ini
"$CM" --keyring "$WORK/keyring" --config cli.ini migrate verify archive --json --journal "$WORK/verify.journal" \
    >verify.json 2>/dev/null
nfiles=$(archive_files | wc -l)
check "every archive file is whole and authenticates ($nfiles files)" \
    [ "$(grep -c '"outcome": "verified"' verify.json)" = "$nfiles" ]
nindexed=$(($(ls find/a | wc -l) + $(ls find/b | wc -l)))
check "at most one archive file is not indexed (the one in flight when its process died): $nfiles files, $nindexed indexed" \
    [ "$((nfiles - nindexed))" -le 1 ]
check "no plaintext pixel run in the archive or in /dev/shm" \
    bash -c "$PY '$TESTS/compare.py' plaintext '$WORK/archive' a/*.dcm b/*.dcm && $PY '$TESTS/compare.py' plaintext /dev/shm a/a000*.dcm b/b000*.dcm"
finish
