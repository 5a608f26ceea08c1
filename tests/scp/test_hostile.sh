#!/bin/bash
# test_hostile.sh SCP CM TESTS WORK - hostile input over the network, each refused with a
# status or an abort, nothing written, and the service answering C-ECHO afterwards:
# path-traversal and overlong UIDs, UIDs the command and the data set disagree on, a C-FIND,
# C-GET or C-MOVE naming another model than its presentation context's, overlong
# and unprintable AE titles, 20,000-deep data sets (explicit, implicit, deflated) and C-FIND
# identifiers, a 20,000-deep command set (the one thing DCMTK parses first: the child dies,
# the parent audits it and goes on), inconsistent pixel geometry, a truncated stream, a
# truncated data set, a data set that stops half-way (dimse_timeout), PDUs over max_pdu, an
# object over the size limit, more associations than allowed, silent connections (a slot
# kept from those of one address).
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port)
SCP_EXTRA="max_associations = 2\nmax_object_size = 2M\nacse_timeout = 3\ndimse_timeout = 2\n"
write_config scp.ini "$PORT" "[peer ELSEWHERE]\naetitle = ELSEWHERE\nhost = 127.0.0.2\n"
sed -i 's/^acse_timeout = 10$//' scp.ini
start_service scp.ini || exit 1
$PY "$TESTS/make_study.py" study 2 --prefix ct >/dev/null
$PY "$TESTS/../dicom/make_hostile.py" hostile >/dev/null
# objects with hostile values, built from a valid one (pydicom writes what it is told)
$PY - study/ct0000.dcm hostile <<'PY'
import sys, pydicom
src, out = sys.argv[1], sys.argv[2]
def variant(name, **values):
    ds = pydicom.dcmread(src)
    for k, v in values.items():
        setattr(ds, k, v)
        if k == "SOPInstanceUID":
            ds.file_meta.MediaStorageSOPInstanceUID = v
    ds.save_as("%s/%s.dcm" % (out, name), write_like_original=False)
variant("traversal_uid", SOPInstanceUID="../../../../tmp/chaosmask-evil")
variant("traversal_study", StudyInstanceUID="1.2/../../../etc")
variant("overlong_uid", SOPInstanceUID="1." + "2" * 200)
variant("geometry", Rows=512)
big = pydicom.dcmread(src)
big.Rows = big.Columns = 1024
big.PixelData = bytes(range(256)) * (1024 * 1024 * 2 // 256)
big.save_as("%s/too_large.dcm" % out, write_like_original=False)
PY
files_before=$(archive_files | wc -l)
raw() { $RAW store 127.0.0.1 "$PORT" "$@"; }

# ---- UIDs
r=$(raw hostile/traversal_uid.dcm)
check "path-traversal SOP Instance UID: refused ($r)" [ "$r" = "status 0xC000" ]
check "... nothing written anywhere" bash -c "[ ! -e /tmp/chaosmask-evil ] && ! find '$WORK' -name 'chaosmask-evil*' | grep -q ."
r=$(raw hostile/traversal_study.dcm)
check "path-traversal Study Instance UID: refused ($r)" [ "$r" = "status 0xC000" ]
r=$(raw hostile/overlong_uid.dcm)
check "overlong UID: refused with a status or an abort ($r)" \
    bash -c "[[ '$r' =~ ^(status\ 0xC000|status\ 0xA900|aborted|closed) ]]"
r=$(raw study/ct0001.dcm --inst 1.2.3.4.5.6.7.8)
check "command and data set disagree on the instance: 0xA900 ($r)" [ "$r" = "status 0xA900" ]
check "the service answers C-ECHO" echo_ok

# ---- AE titles
r=$($RAW echo 127.0.0.1 "$PORT" --raw-calling 2e2e2f2e2e2f6574632f706173737764)
check "calling AE '../../etc/passwd': rejected ($r)" [ "$r" = "rejected 1 1 3" ]
r=$($RAW echo 127.0.0.1 "$PORT" --raw-calling 1b5b316d07080a0d00ff80fe5c5c5c5c)
check "calling AE of control bytes: rejected ($r)" [ "$r" = "rejected 1 1 3" ]
echoscu -aet ECHOSCU_AND_A_VERY_LONG_TITLE -aec CHAOSMASK 127.0.0.1 "$PORT" >long_ae.log 2>&1
check "overlong calling AE title (echoscu): not accepted" bash -c "! grep -q 'Received Echo Response (Success)' long_ae.log"
movescu -aet MOVESCU -aec CHAOSMASK -aem DESTINATION_TITLE_FAR_TOO_LONG -S 127.0.0.1 "$PORT" \
    -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=1.2.3 >long_dest.log 2>&1
check "overlong move destination: 0xA801 or refused" \
    grep -qE "MoveDestinationUnknown|Association Request Failed|Failed" long_dest.log
check "the service answers C-ECHO" echo_ok

# ---- structure: nesting, geometry, truncation, size
for f in deep_explicit_undefined deep_implicit deep_deflate deep_un_cp246; do
    r=$(raw hostile/$f.dcm)
    check "20,000-deep data set ($f): 0xC000 ($r)" [ "$r" = "status 0xC000" ]
done
check "the structure check named the nesting" audit_has store '"nesting deeper than" in r.get("message", "")'
r=$(raw hostile/geometry.dcm)
check "inconsistent pixel geometry: 0xC000 ($r)" [ "$r" = "status 0xC000" ]
r=$(raw study/ct0001.dcm --cut 3000)
check "a stream cut in the middle of a data set: the association ends ($r)" [ "${r%% *}" = cut ]
sleep 0.5
check "... and its end is audited" audit_has association-end '"aborted" in r["detail"]'
$PY - study/ct0001.dcm hostile/truncated.dcm <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(d[:len(d) - 3001])  # pixel data cut short, every PDV still complete
PY
r=$(raw hostile/too_large.dcm --pdu 1000000)
check "PDUs beyond the service's max_pdu: the association is aborted ($r)" bash -c "[[ '$r' =~ ^(aborted|closed) ]]"
r=$(raw study/ct0001.dcm --stall 5)
check "a data set that stops half-way: aborted after dimse_timeout ($r)" bash -c "[[ '$r' =~ ^(aborted|closed) ]]"
check "... the association's end audited as a timeout" audit_has association-end '"timeout" in r["detail"]'
r=$(raw hostile/truncated.dcm)
check "a truncated data set: 0xC000 ($r)" [ "$r" = "status 0xC000" ]
storescu -v -nh -aec CHAOSMASK 127.0.0.1 "$PORT" hostile/too_large.dcm study/ct0001.dcm >large.log 2>&1
check "an object over max_object_size: 0xA700, and the association goes on to store the next" \
    bash -c "grep -q 'Store Response (Refused: OutOfResources)' large.log && [ \$(grep -c 'Store Response (Success)' large.log) = 1 ]"
check "no file from any of them" [ "$(archive_files | wc -l)" = "$((files_before + 1))" ]
check "the service answers C-ECHO" echo_ok

# ---- a 20,000-deep C-FIND identifier: checked before DCMTK parses it, like an object
r=$($RAW deepfind 127.0.0.1 "$PORT" 20000)
check "20,000-deep C-FIND identifier: refused with 0xC000 ($r)" [ "$r" = "status 0xC000" ]
check "... audited" audit_has find '"nesting deeper than" in r.get("message", "") and r["status"] == "0xC000"'
check "... and the service answers C-ECHO" echo_ok

# ---- a command whose model is not its presentation context's (Patient Root on Study Root)
for kind in find get move; do
    r=$($RAW othermodel 127.0.0.1 "$PORT" $kind)
    check "C-${kind^^} naming another model than its context's: 0xA900 ($r)" [ "$r" = "status 0xA900" ]
done
check "... audited" audit_has retrieve-request '"is not the presentation context" in r.get("message", "") and r["status"] == "0xA900"'

# ---- a 20,000-deep command set: parsed by DCMTK before any hook (residual risk)
r=$($RAW deepcmd 127.0.0.1 "$PORT" 20000)
check "20,000-deep command set: the association dies ($r)" bash -c "[[ '$r' =~ ^(closed|aborted) ]]"
sleep 0.5
check "... the parent audits the child's end" audit_has child '"pid" in r and r["outcome"] == "failed"'
check "... and answers C-ECHO" echo_ok

# ---- more associations than allowed (2), silent connections
holders=()
hold() {
    $RAW hold 127.0.0.1 "$PORT" "$1" >"hold$2.log" 2>&1 &
    holders+=($!)
}
hold 4 1 # one after the other: connections from one address not yet accepted leave a slot free
for _ in $(seq 50); do grep -q associated hold1.log 2>/dev/null && break; sleep 0.1; done
hold 4 2
for _ in $(seq 50); do [ "$(cat hold1.log hold2.log 2>/dev/null | grep -c associated)" = 2 ] && break; sleep 0.1; done
t0=$(date +%s.%N)
echoscu -aec CHAOSMASK 127.0.0.1 "$PORT" >over.log 2>&1
t1=$(date +%s.%N)
check "a third association: rejected, local limit exceeded" grep -q "Local Limit Exceeded" over.log
check "... at once ($(printf %.2f "$(echo "$t1 - $t0" | bc)") s)" [ "$(echo "$t1 - $t0 < 2" | bc)" = 1 ]
check "... audited" audit_has association '"max_associations" in r.get("message", "")'
wait "${holders[@]}"
check "when they end, the service answers again" echo_ok
silent=()
for i in 1 2 3; do
    $RAW silent 127.0.0.1 "$PORT" 6 >/dev/null 2>&1 &
    silent+=($!)
done
sleep 0.3
echoscu -aec CHAOSMASK 127.0.0.1 "$PORT" >silent.log 2>&1
check "silent connections hold slots, not the service: an answer at once" \
    grep -qE "Local Limit Exceeded|Echo Response \(Success\)" silent.log
r=$($RAW echo 127.0.0.1 "$PORT" --aet ELSEWHERE --from 127.0.0.2)
check "silent connections from one address leave a slot to others: a peer from another gets in ($r)" \
    [ "$r" = "status 0x0000" ]
sleep 3.5 # [scp] acse_timeout = 3: the silent ones are dropped
check "after acse_timeout the slots are free again" echo_ok
wait "${silent[@]}"
check "no temporary file left in the archive" [ "$(archive_temps)" = 0 ]
stop_service
check "SIGTERM: exit status 0" [ "$SERVICE_RC" = 0 ]
finish
