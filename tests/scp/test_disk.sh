#!/bin/bash
# test_disk.sh SCP CM TESTS WORK - out of resources: the archive on a small tmpfs filled up
# (mount needs root: without it the test reports itself skipped, exit 77, never passed) gets
# 0xA700 and leaves nothing (no temporary file, every file indexed and whole, the index as
# the files); the index limits ([archive] max_studies, max_study_size) refuse with 0xA700
# instead of letting index.dat evict anything.
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "SKIPPED: mounting a small tmpfs needs root (CI runs the tests as root)"
    exit 77
fi
setup_work
MNT=$WORK/small
mkdir "$MNT"
mount -t tmpfs -o size=1M,mode=0700 chaosmask-test "$MNT" || { echo "mount failed"; exit 1; }
trap 'for p in $SERVICE_PID "${STARTED_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; umount "$MNT"' EXIT
PORT=$(free_port)
write_config scp.ini "$PORT"
sed -i "s|^dir = $WORK/archive$|dir = $MNT/archive|" scp.ini
start_service scp.ini || exit 1
$PY "$TESTS/make_study.py" study 120 --rows 64 --cols 64 --prefix ct >/dev/null

# ---- the disk fills up
head -c 262144 /dev/zero >"$MNT/filler" # room kept back for the index case below
storescu -v -nh -aec CHAOSMASK 127.0.0.1 "$PORT" study/*.dcm >full.log 2>&1
ok=$(grep -c "Store Response (Success)" full.log)
refused=$(grep -c "Store Response (Refused: OutOfResources)" full.log)
echo "on 1 MiB: $ok stored, $refused refused"
check "the full disk answers 0xA700" [ "$refused" -ge 1 ]
check "every object got Success or 0xA700" [ "$((ok + refused))" = 120 ]
check "the refusals are audited with the reason" audit_has store 'r["status"] == "0xA700" and "No space left" in r.get("message", "")'
check "no temporary file left" [ "$(find "$MNT" -name '*.chaosmask-*' | wc -l)" = 0 ]
nfiles=$(find "$MNT/archive" -name '*.dcm' | wc -l)
check "one archive file per Success ($nfiles)" [ "$nfiles" = "$ok" ]
mkdir find
findscu -S -aec CHAOSMASK -X -od find 127.0.0.1 "$PORT" -k QueryRetrieveLevel=IMAGE \
    -k StudyInstanceUID="$(dump_value study/ct0000.dcm StudyInstanceUID)" \
    -k SeriesInstanceUID="$(dump_value study/ct0000.dcm SeriesInstanceUID)" -k SOPInstanceUID >/dev/null 2>&1
check "the index holds exactly the stored objects" [ "$(ls find | wc -l)" = "$ok" ]
printf '[log]\naudit =\n' >cli.ini && chmod 600 cli.ini
"$CM" --keyring "$WORK/keyring" --config cli.ini migrate verify "$MNT/archive" --json \
    --journal "$WORK/verify.journal" >verify.json 2>/dev/null
check "every archive file is whole and authenticates" [ "$(grep -c '"outcome": "verified"' verify.json)" = "$ok" ]
check "the service still answers" echo_ok

# ---- the object's file fits, its index record does not: refused, the file removed
rm "$MNT/filler"
$PY - "$MNT" "$(find "$MNT/archive" -name '*.dcm' | head -1)" <<'PY'
import os, sys
mnt, sample = sys.argv[1], sys.argv[2]
page = os.statvfs(mnt).f_frsize
pages = lambda n: -(-n // page)
index = os.path.getsize(os.path.join(mnt, "archive", "index.dat"))
need_file = pages(os.path.getsize(sample))              # every object of the study has this size
need_index = pages(index + 8032) - pages(index)         # one more 8032-byte record
free = os.statvfs(mnt).f_bavail
keep = need_file + need_index - 1                        # the file fits, the record cannot
with open(os.path.join(mnt, "filler"), "wb") as f:
    f.write(b"\0" * (free - keep) * page)
PY
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" study/ct0119.dcm >index_full.log 2>&1
check "the index record does not fit: 0xA700" grep -q "Store Response (Refused: OutOfResources)" index_full.log
check "... audited as the index's failure" audit_has store '"archive index could not record" in r.get("message", "")'
check "... its archive file removed" [ "$(find "$MNT/archive" -name '*.dcm' | wc -l)" = "$ok" ]
rm -rf find && mkdir find
findscu -S -aec CHAOSMASK -X -od find 127.0.0.1 "$PORT" -k QueryRetrieveLevel=IMAGE \
    -k StudyInstanceUID="$(dump_value study/ct0000.dcm StudyInstanceUID)" \
    -k SeriesInstanceUID="$(dump_value study/ct0000.dcm SeriesInstanceUID)" -k SOPInstanceUID >/dev/null 2>&1
check "... and the index as it was" [ "$(ls find | wc -l)" = "$ok" ]
rm "$MNT/filler"
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" study/ct0119.dcm >room_again.log 2>&1
check "with room again the same object is stored" stores_ok room_again.log 1
stop_service

# ---- the index limits: refused, never evicted
SCP_EXTRA=""
write_config scp2.ini "$PORT"
sed -i "s|^dir = $WORK/archive$|dir = $WORK/archive2\nmax_studies = 2\nmax_study_size = 1M|" scp2.ini
start_service scp2.ini || exit 1
$PY "$TESTS/make_study.py" three 3 --studies 3 --prefix s >/dev/null
storescu -v -nh -aec CHAOSMASK 127.0.0.1 "$PORT" three/*.dcm >studies.log 2>&1
check "a third study with max_studies = 2: 0xA700" \
    bash -c "[ \$(grep -c 'Store Response (Success)' studies.log) = 2 ] && grep -q 'Refused: OutOfResources' studies.log"
check "... audited: nothing evicted" audit_has store '"max_studies" in r.get("message", "") and r["status"] == "0xA700"'
rm -rf find && mkdir find
findscu -S -aec CHAOSMASK -X -od find 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID >/dev/null 2>&1
check "... both earlier studies still there" [ "$(ls find | wc -l)" = 2 ]
check "... and no file of the refused one" [ "$(find "$WORK/archive2" -name '*.dcm' | wc -l)" = 2 ]
$PY "$TESTS/make_study.py" big 4 --rows 400 --cols 400 --prefix b >/dev/null # 320 KB each, one study
storescu -v -nh -aec CHAOSMASK 127.0.0.1 "$PORT" three/s0000.dcm >/dev/null 2>&1
# the study of three/s0000.dcm exists; a new study would be refused, so the big ones go into it
$PY - big "$(dump_value three/s0000.dcm StudyInstanceUID)" <<'PY'
import os, sys, pydicom
for f in sorted(os.listdir(sys.argv[1])):
    ds = pydicom.dcmread(os.path.join(sys.argv[1], f))
    ds.StudyInstanceUID = sys.argv[2]
    ds.save_as(os.path.join(sys.argv[1], f))
PY
storescu -v -nh -aec CHAOSMASK 127.0.0.1 "$PORT" big/*.dcm >bytes.log 2>&1
check "a study beyond max_study_size: the object that would exceed it gets 0xA700" \
    bash -c "grep -q 'Refused: OutOfResources' bytes.log && grep -q 'Store Response (Success)' bytes.log"
check "... audited" audit_has store '"max_study_size" in r.get("message", "")'
check "no temporary file left" [ "$(find "$WORK/archive2" -name '*.chaosmask-*' | wc -l)" = 0 ]
finish
