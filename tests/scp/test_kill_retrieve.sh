#!/bin/bash
# test_kill_retrieve.sh SCP CM TESTS WORK - kill -9 at random moments of a retrieval: while
# getscu (C-GET) or movescu (C-MOVE to a storescp) retrieves a study decrypted, the child
# process serving the association is killed (four rounds), then the parent (two rounds, the
# service restarted after each).  Each kill comes once the client has received an object, after
# a further random delay.  After every round:
#   - what arrived before the kill (all of it when the parent died: the child finishes) are
#     originals, bit for bit;
#   - the archive is unchanged: the same files with the same bytes, index.dat included, and
#     C-FIND finds the same number of objects (index records);
#   - no temporary file, no file under another name than index.dat and xx/<hex>.dcm in the
#     archive, nothing in the service's TMPDIR (and, after the last round, no plaintext pixel
#     run in the archive, that TMPDIR or /dev/shm);
#   - the service answers C-FIND;
#   - the audit log is JSON lines, every one of them parseable.
# At the end a full C-GET gives back every original bit for bit (compare.py).
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port)
DEST=$(free_port)
N=60 # 384 x 384, 16 bits: a retrieval long enough to be cut
write_config scp.ini "$PORT" "[peer KILLDEST]\naetitle = KILLDEST\nhost = 127.0.0.1\nport = $DEST\nretrieve = decrypted\n"
mkdir -p "$WORK/tmp"
SCP_TMP="$WORK/tmp" # the service's TMPDIR
TMPDIR=$SCP_TMP start_service scp.ini || exit 1
$PY "$TESTS/make_study.py" study "$N" --rows 384 --cols 384 --prefix ct >study.uid
STUDY=$(head -1 study.uid)
SERIES=$(dump_value study/ct0000.dcm SeriesInstanceUID)
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" study/*.dcm >store.log 2>&1
check "the study is stored: $N stores answered Success" stores_ok store.log "$N"

# snapshot: every file of the archive (index.dat included) with its SHA-256
snapshot() { (cd "$WORK/archive" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
# the number of objects C-FIND finds at IMAGE level (the index records of the study)
nfound() {
    rm -rf find && mkdir find
    findscu -aec CHAOSMASK -S -X -od find 127.0.0.1 "$PORT" -k QueryRetrieveLevel=IMAGE \
        -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID="$SERIES" -k SOPInstanceUID >/dev/null 2>&1
    ls find | wc -l
}
# entries of the archive other than index.dat and xx/<30 hex>.dcm (temporary files included)
strays() { find "$WORK/archive" -mindepth 1 -regextype posix-extended ! -name index.dat \
    ! -regex '.*/archive/[0-9a-f]{2}' ! -regex '.*/archive/[0-9a-f]{2}/[0-9a-f]{30}\.dcm' | wc -l; }
audit_parses() {
    $PY - "$WORK/audit.log" <<'PY'
import json, sys
n = 0
for i, line in enumerate(open(sys.argv[1], "rb"), 1):
    try:
        rec = json.loads(line)
        assert isinstance(rec, dict) and "event" in rec
    except Exception as e:
        sys.stderr.write("audit line %d is not a JSON record: %r (%s)\n" % (i, line[:120], e))
        sys.exit(1)
    n += 1
sys.exit(0 if n > 0 else 1)
PY
}
# waits until DIR holds at least one file (5 s at most)
wait_first() {
    for _ in $(seq 100); do [ -n "$(ls "$1" 2>/dev/null)" ] && return 0; sleep 0.05; done
    return 1
}
# a random delay from 0 to 40 % of what a whole retrieval takes (RETRIEVE_MS, measured below)
random_delay() { local ms=$((RANDOM % (RETRIEVE_MS * 4 / 10 + 1))); sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"; }

mkdir baseline
start=$(date +%s%N)
getscu -aec CHAOSMASK -S -od baseline 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >baseline.log 2>&1
RETRIEVE_MS=$((($(date +%s%N) - start) / 1000000))
echo "a whole C-GET of the study takes $RETRIEVE_MS ms"
check "a C-GET before the rounds gives back the $N originals" $PY "$TESTS/compare.py" same-dir study baseline "$N"
snapshot >snap.0
nrec=$(nfound)
check "C-FIND finds the $N objects before the rounds" [ "$nrec" = "$N" ]
spawn storescp -aet KILLDEST +xa -od dest "$DEST"
mkdir -p dest
wait_port "$DEST" || fail "storescp does not listen"

cut_short=0
# round NAME get|move child|parent
round() {
    local name=$1 op=$2 victim=$3 client pid= kids= got alive k
    rm -rf "$name" dest/* && mkdir "$name"
    if [ "$op" = get ]; then
        getscu -aec CHAOSMASK -S -od "$name" 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
            -k StudyInstanceUID="$STUDY" >"$name.log" 2>&1 &
        client=$!
        wait_first "$name"
    else
        movescu -aec CHAOSMASK -aem KILLDEST -S 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
            -k StudyInstanceUID="$STUDY" >"$name.log" 2>&1 &
        client=$!
        wait_first dest
    fi
    random_delay
    if [ "$victim" = child ]; then
        pid=$(pgrep -n -P "$SERVICE_PID") # the newest child: the retrieval's association
        [ -n "$pid" ] && kill -9 "$pid"
    else
        pid=$SERVICE_PID
        kids=$(pgrep -P "$SERVICE_PID")
        kill -9 "$SERVICE_PID"
        wait "$SERVICE_PID" 2>/dev/null
        SERVICE_PID=
    fi
    wait "$client"
    if [ "$op" = get ]; then got=$(ls "$name" | wc -l); else got=$(ls dest | wc -l); fi
    [ "$got" -lt "$N" ] && cut_short=$((cut_short + 1))
    echo "$name: $op, $victim killed (pid ${pid:-none found}), $got of $N objects had arrived"
    local arrived=$name
    [ "$op" = move ] && arrived=dest
    [ "$got" -gt 0 ] && check "$name: the $got objects that arrived are originals, bit for bit" \
        $PY "$TESTS/compare.py" same-dir study "$arrived" "$got"
    if [ "$victim" = parent ]; then
        # the child serving the association (if it outlived the parent) finishes or fails alone
        for _ in $(seq 100); do
            alive=
            for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done
            [ -z "$alive" ] && break
            sleep 0.05
        done
        TMPDIR=$SCP_TMP start_service scp.ini || exit 1
    fi
    snapshot >"snap.$name"
    check "$name: the archive and index.dat are unchanged (same files, same bytes)" cmp -s snap.0 "snap.$name"
    check "$name: no temporary or stray file in the archive" [ "$(strays)" = 0 ]
    check "$name: nothing in the service's TMPDIR" [ -z "$(ls -A "$SCP_TMP")" ]
    check "$name: the service answers C-FIND, with the same $N index records" [ "$(nfound)" = "$N" ]
    check "$name: the audit log is parseable JSON lines" audit_parses
}

round kill1 get child
round kill2 move child
round kill3 get child
round kill4 move child
round kill5 get parent
round kill6 move parent
check "kills of the child cut retrievals short ($cut_short of 6 rounds; the parent's death leaves the child to finish)" \
    [ "$cut_short" -ge 2 ]
check "the parent audited a child killed by SIGKILL" audit_has child '"Killed" in r["message"]'
check "no plaintext pixel run in the archive, the service's TMPDIR or /dev/shm" \
    bash -c "$PY '$TESTS/compare.py' plaintext '$WORK/archive' study/ct00[0-2]*.dcm && $PY '$TESTS/compare.py' plaintext '$SCP_TMP' study/ct000*.dcm && $PY '$TESTS/compare.py' plaintext /dev/shm study/ct000*.dcm"

rm -rf full && mkdir full
getscu -aec CHAOSMASK -S -od full 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" >full.log 2>&1
check "a full C-GET afterwards: the $N originals bit for bit" $PY "$TESTS/compare.py" same-dir study full "$N"
finish
