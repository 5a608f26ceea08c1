#!/bin/bash
# test_clients.sh SCP CM TESTS WORK - chaosmask-scp with DCMTK's own clients: echoscu,
# storescu, dcmsend, findscu (patient and study root, every level), getscu, movescu to a
# storescp; decrypted and encrypted retrieval compared with what was sent and with the archive;
# the stricter of requester and destination; refusals (retrieve = no, find = no, store = no,
# unknown AE, wrong called AE, unknown move destination); one copy per SOP Instance UID;
# archive names never from received values; the audit records; SIGTERM -> exit 0.
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port) DEST=$(free_port) ENCDEST=$(free_port) SILENT=$(free_port)
write_config scp.ini "$PORT" "
[peer DEST]\naetitle = DEST\nhost = 127.0.0.1\nport = $DEST\nretrieve = decrypted
[peer ENCDEST]\naetitle = ENCDEST\nhost = localhost\nport = $ENCDEST\nretrieve = encrypted
[peer ENCGET]\naetitle = ENCGET\nhost = 127.0.0.1\nfind = yes\nretrieve = encrypted
[peer NOGET]\naetitle = NOGET\nhost = 127.0.0.1\nfind = yes\nretrieve = no
[peer ELSEWHERE]\naetitle = ELSEWHERE\nhost = 10.255.255.1\nstore = yes
[peer NEEDTLS]\naetitle = NEEDTLS\nhost = 127.0.0.1\nstore = yes\ntls = yes
[peer SILENT]\naetitle = SILENT\nhost = 127.0.0.1\nport = $SILENT\nretrieve = decrypted
[tls]\nenabled = no\ncertificate = /nonexistent/service.pem\nprivate_key = /nonexistent/service.key\nca = /nonexistent/ca.pem\n"
start_service scp.ini || exit 1
$PY "$TESTS/make_study.py" study 8 --prefix ct >study.uid
STUDY=$(head -1 study.uid)
SERIES=$(dump_value study/ct0000.dcm SeriesInstanceUID)
PID=$(dump_value study/ct0000.dcm PatientID)

# ---- C-ECHO, C-STORE with storescu and dcmsend
check "echoscu" echo_ok
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" study/ct000[0-4].dcm >storescu.log 2>&1
check "storescu: 5 stores answered Success" stores_ok storescu.log 5
dcmsend -v -aec CHAOSMASK 127.0.0.1 "$PORT" study/ct000[5-7].dcm >dcmsend.log 2>&1
check "dcmsend: 3 stores with status SUCCESS" grep -q "with status SUCCESS  : 3" dcmsend.log
check "8 store records: Success, masked with the ring's key" \
    [ "$(audit_count store 'r["status"] == "0x0000" and r["key_id"] == "test-key" and r["profile"] == "lorenz-chacha20" and r["peer_ae"] in ("STORESCU", "DCMSEND")')" = 8 ]
check "archive names are random hex, never a UID" \
    [ "$(archive_files | grep -cE '/archive/[0-9a-f]{2}/[0-9a-f]{30}\.dcm$')" = 8 ]
check "no archive file name holds a received value" \
    bash -c "! find '$WORK/archive' | grep -qF -e '$STUDY' -e '1.2.826'"
check "archive files: masked pixels, every other element as sent" \
    $PY "$TESTS/compare.py" masked-dir study "$WORK/archive" 8
check "archive files hold no plaintext pixel run" $PY "$TESTS/compare.py" plaintext "$WORK/archive" study/*.dcm

# ---- C-FIND: patient root and study root, every level
nfind() {
    rm -rf find && mkdir find
    findscu -aec CHAOSMASK -X -od find "$@" 127.0.0.1 "$PORT" >/dev/null 2>&1
    ls find | wc -l
}
check "C-FIND patient root, PATIENT level: 1 patient" [ "$(nfind -P -k QueryRetrieveLevel=PATIENT -k PatientID="$PID" -k PatientName)" = 1 ]
check "C-FIND patient root, STUDY level: 1 study" [ "$(nfind -P -k QueryRetrieveLevel=STUDY -k PatientID="$PID" -k StudyInstanceUID)" = 1 ]
check "C-FIND study root, STUDY level by patient name" [ "$(nfind -S -k QueryRetrieveLevel=STUDY -k 'PatientName=TEST^PATIENT*' -k StudyInstanceUID)" -ge 1 ]
check "C-FIND study root, SERIES level" [ "$(nfind -S -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID)" = 1 ]
check "C-FIND study root, IMAGE level: 8 images" [ "$(nfind -S -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID="$SERIES" -k SOPInstanceUID -k PatientName)" = 8 ]
check "C-FIND answers carry the clear attributes" grep -qF "TEST^PATIENT" find/rsp0001.dcm
check "find records: level and count" audit_has find 'r["level"] == "IMAGE" and r["count"] == 8 and r["status"] == "0x0000"'

# ---- C-GET decrypted: the data sets as sent
same_as_sent() { $PY "$TESTS/compare.py" same-dir study "$1" 8; }
same_as_archive() { $PY "$TESTS/compare.py" stored-dir "$WORK/archive" "$1" 8; }
mkdir get && getscu -aec CHAOSMASK -S -od get 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >getscu.log 2>&1
check "getscu (decrypted): 8 objects identical to what was sent, pixels bit for bit" same_as_sent get
check "retrieve records: 8 decrypted sub-operations" \
    [ "$(audit_count retrieve 'r["operation"] == "C-GET" and r["mode"] == "decrypted" and r["outcome"] == "ok"')" = 8 ]

# ---- C-MOVE decrypted to a storescp; then encrypted to a destination that is encrypted-only
mkdir dest encdest
spawn storescp -aet DEST +xa -od dest "$DEST"
spawn storescp -aet ENCDEST +xa -od encdest "$ENCDEST"
wait_port "$DEST" && wait_port "$ENCDEST"
movescu -v -aec CHAOSMASK -aem DEST -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >move.log 2>&1
check "movescu to storescp (decrypted): 8 objects identical to what was sent" same_as_sent dest
movescu -v -aec CHAOSMASK -aem ENCDEST -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >encmove.log 2>&1
check "MOVESCU (decrypted) to ENCDEST (encrypted): the stricter applies, objects as stored" same_as_archive encdest
check "retrieve-request record names the destination and mode" \
    audit_has retrieve-request 'r.get("destination") == "ENCDEST" and r["mode"] == "encrypted" and r["status"] == "0x0000"'
mkdir encget && getscu -aet ENCGET -aec CHAOSMASK -S -od encget 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >/dev/null 2>&1
check "getscu as an encrypted-only peer: the objects as stored" same_as_archive encget

# ---- refusals, each with its status and its record
getscu -v -aet NOGET -aec CHAOSMASK -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >noget.log 2>&1
check "retrieve = no: C-GET refused 0x0124" grep -q "Unknown Status: 0x124" noget.log
check "retrieve = no: audited" audit_has retrieve-request 'r["peer_ae"] == "NOGET" and r["status"] == "0x0124" and r["outcome"] == "refused"'
movescu -v -aet NOGET -aec CHAOSMASK -aem DEST -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >nomove.log 2>&1
check "retrieve = no: C-MOVE refused 0x0124" grep -q "Unknown Status: 0x124" nomove.log
movescu -v -aec CHAOSMASK -aem NOWHERE -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >unknown.log 2>&1
check "unknown move destination: 0xA801" grep -q "Refused: MoveDestinationUnknown" unknown.log
check "unknown move destination: audited, nothing looked up" audit_has retrieve-request 'r.get("destination") == "NOWHERE" and r["status"] == "0xA801" and r["count"] == 0'
movescu -v -aec CHAOSMASK -aem ECHOSCU -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >noport.log 2>&1
check "a destination without host and port: 0xA801" grep -q "Refused: MoveDestinationUnknown" noport.log
# a destination whose listen queue is full drops the SYNs: the connect is bounded by
# acse_timeout (10 s here), not by the kernel's retries (about two minutes)
spawn $PY -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(0)
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))  # fills the queue: nothing is accepted
open("silent.ready", "w").close()
time.sleep(300)' "$SILENT"
for _ in $(seq 50); do [ -e silent.ready ] && break; sleep 0.1; done
check "a destination whose listen queue is full" [ -e silent.ready ]
t0=$(date +%s)
timeout 100 movescu -v -aec CHAOSMASK -aem SILENT -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >silent.log 2>&1
t1=$(date +%s)
check "a destination that never answers: the C-MOVE fails" grep -q "Move Response.*Failed\|Status: 0xa7\|Refused" silent.log
# a bound, not a speed target: without one the connect lasts the kernel's SYN retries (127 s)
check "... within acse_timeout, not the kernel's retries ($((t1 - t0)) s)" [ $((t1 - t0)) -lt 60 ]
check "a destination that never answers: audited" audit_has retrieve-request 'r.get("destination") == "SILENT" and r["outcome"] != "ok"'
findscu -v -aet STORESCU -aec CHAOSMASK -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID >nofind.log 2>&1
check "find = no: C-FIND refused 0x0124" grep -q "Unknown Status: 0x124" nofind.log
storescu -v -aet FINDSCU -aec CHAOSMASK 127.0.0.1 "$PORT" study/ct0000.dcm >nostore.log 2>&1
check "store = no: C-STORE refused 0x0124" grep -q "Store Response (Unknown Status: 0x124)" nostore.log
echoscu -aet NOBODY -aec CHAOSMASK 127.0.0.1 "$PORT" >unknown_ae.log 2>&1
check "unknown calling AE: rejected (calling AE title not recognized)" grep -q "Calling AE Title Not Recognized" unknown_ae.log
check "unknown calling AE: audited" audit_has association 'r["peer_ae"] == "NOBODY" and r["outcome"] == "refused"'
echoscu -aec SOMEONE 127.0.0.1 "$PORT" >called.log 2>&1
check "wrong called AE: rejected" grep -q "Called AE Title Not Recognized" called.log
echoscu -aet ELSEWHERE -aec CHAOSMASK 127.0.0.1 "$PORT" >elsewhere.log 2>&1
check "a peer calling from another address than its host: rejected" grep -q "Calling AE Title Not Recognized" elsewhere.log
check "the service still answers" echo_ok

# ---- the same SOP Instance UID again: identical content kept, other content replaces
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" study/ct0000.dcm >again.log 2>&1
check "identical object again: Success" stores_ok again.log 1
check "identical object again: audited as kept" audit_has store '"identical content; kept" in r.get("detail", "")'
check "identical object again: still 8 files" [ "$(archive_files | wc -l)" = 8 ]
cp study/ct0001.dcm changed.dcm && dcmodify -nb -i "PatientComments=corrected" changed.dcm >/dev/null 2>&1
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" changed.dcm >changed.log 2>&1
check "changed object, same UID: Success" stores_ok changed.log 1
check "changed object: audited as replaced" audit_has store '"other content; replaced" in r.get("detail", "")'
check "changed object: still 8 files" [ "$(archive_files | wc -l)" = 8 ]
cp study/ct0002.dcm moved.dcm && dcmodify -nb -m "StudyInstanceUID=1.2.3.4.5.6.7.8.9" moved.dcm >/dev/null 2>&1
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" moved.dcm >moved.log 2>&1
check "same instance under another study: one record" \
    [ "$(nfind -S -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID="$SERIES" -k SOPInstanceUID)" = 7 ]
check "same instance under another study: one file" [ "$(archive_files | wc -l)" = 8 ]
rm -rf get2 && mkdir get2 && getscu -aec CHAOSMASK -S -od get2 127.0.0.1 "$PORT" -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID="$SERIES" -k SOPInstanceUID="$(dump_value changed.dcm SOPInstanceUID)" >/dev/null 2>&1
check "the replacement is what comes back" $PY "$TESTS/compare.py" same changed.dcm get2/*

echoscu -aet NEEDTLS -aec CHAOSMASK 127.0.0.1 "$PORT" >needtls.log 2>&1
check "a peer with tls = yes calling a service without TLS: rejected" grep -q "Association Rejected" needtls.log
check "... audited" audit_has association '"must use TLS" in r.get("message", "")'

# ---- objects encrypted already: under a ring key stored as received; any other block refused
printf '[log]\naudit =\n' >cli.ini && chmod 600 cli.ini
$PY "$TESTS/make_study.py" enc 2 --prefix e >/dev/null
"$CM" keygen --keyring "$WORK/foreign" --id foreign >/dev/null
"$CM" --keyring "$WORK/keyring" --config cli.ini encrypt enc/e0000.dcm enc/own.dcm >/dev/null
"$CM" --keyring "$WORK/foreign" --config cli.ini encrypt enc/e0001.dcm enc/foreign.dcm >/dev/null
storescu -v -nh -aec CHAOSMASK 127.0.0.1 "$PORT" enc/own.dcm enc/foreign.dcm >enc.log 2>&1
check "an object encrypted under a ring key: stored" grep -q "Store Response (Success)" enc.log
check "... as received" bash -c "$PY '$TESTS/compare.py' same enc/own.dcm \$(grep -l '$(dump_value enc/e0000.dcm SOPInstanceUID)' '$WORK'/archive/*/*.dcm) >/dev/null"
check "... audited as such" audit_has store '"already encrypted under a key of the ring" in r.get("detail", "")'
check "a block that does not authenticate (another site's key): 0xC000" grep -q "Store Response (Error: CannotUnderstand)" enc.log
check "... audited with the reason" audit_has store '"does not authenticate" in r.get("message", "") and r["status"] == "0xC000"'
cp enc/own.dcm enc/relabelled.dcm && dcmodify -nb -i "PatientName=Other^Patient" enc/relabelled.dcm >/dev/null 2>&1
storescu -v -nh -aec CHAOSMASK 127.0.0.1 "$PORT" enc/relabelled.dcm >relabel.log 2>&1
check "an encrypted object relabelled to another patient: refused (0xC000)" grep -q "Store Response (Error: CannotUnderstand)" relabel.log
check "... audited as an identity change" audit_has store '"patient identity changed" in r.get("message", "") and r["status"] == "0xC000"'
mkdir get_enc && getscu -aec CHAOSMASK -S -od get_enc 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
    -k StudyInstanceUID="$(dump_value enc/e0000.dcm StudyInstanceUID)" >/dev/null 2>&1
check "retrieved decrypted, it is the original" $PY "$TESTS/compare.py" same enc/e0000.dcm get_enc/*

# ---- an archive file changed on disk: its sub-operation fails, audited, nothing sent
victim=$(grep -l "$(dump_value study/ct0004.dcm SOPInstanceUID)" "$WORK"/archive/*/*.dcm)
$PY - "$victim" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[-100] ^= 0x01  # one bit of the masked pixel data
open(sys.argv[1], "wb").write(data)
PY
image_keys=(-k QueryRetrieveLevel=IMAGE -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID="$SERIES"
    -k SOPInstanceUID="$(dump_value study/ct0004.dcm SOPInstanceUID)")
mkdir tampered && getscu -v -aec CHAOSMASK -S -od tampered 127.0.0.1 "$PORT" "${image_keys[@]}" >tampered.log 2>&1
check "a changed archive file is not sent (decrypted)" [ "$(ls tampered | wc -l)" = 0 ]
check "... the C-GET says its sub-operation failed" grep -q "Number of Failed Suboperations    : 1" tampered.log
check "... audited as an authentication failure" \
    audit_has retrieve 'r["outcome"] != "ok" and r["reason"] == "auth" and r.get("mode") == "decrypted"'
mkdir tampered_enc && getscu -v -aet ENCGET -aec CHAOSMASK -S -od tampered_enc 127.0.0.1 "$PORT" "${image_keys[@]}" >tampered_enc.log 2>&1
check "... nor as stored" bash -c "[ \$(ls tampered_enc | wc -l) = 0 ] && grep -q 'Number of Failed Suboperations    : 1' tampered_enc.log"

# ---- end
check "no temporary file left in the archive" [ "$(archive_temps)" = 0 ]
stop_service
check "SIGTERM: exit status 0" [ "$SERVICE_RC" = 0 ]
check "service records: started, stopping, stopped" [ "$(audit_count service 'True')" = 3 ]
finish
