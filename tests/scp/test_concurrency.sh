#!/bin/bash
# test_concurrency.sh SCP CM TESTS WORK [SENDERS OBJECTS] - SENDERS storescu processes at once
# (default 8), OBJECTS objects each (default 200), each sender its own study: every object
# stored and indexed exactly once (one index record, one archive file per SOP Instance UID),
# C-FIND finds each study complete, C-GET during the stores is not blocked by them.
SCP=$1 CM=$2 TESTS=$3 WORK=$4 SENDERS=${5:-8} OBJECTS=${6:-200}
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port)
write_config scp.ini "$PORT"
start_service scp.ini || exit 1
makers=()
for s in $(seq "$SENDERS"); do
    $PY "$TESTS/make_study.py" "s$s" "$OBJECTS" --prefix "s${s}_" --seed "$s" >"s$s.uid" &
    makers+=($!)
done
wait "${makers[@]}" # (a bare `wait` would wait for the service too)
total=$((SENDERS * OBJECTS))
t0=$(date +%s.%N)
senders=()
for s in $(seq "$SENDERS"); do
    storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" "s$s"/*.dcm >"s$s.log" 2>&1 &
    senders+=($!)
done
wait "${senders[@]}"
t1=$(date +%s.%N)
echo "$total objects from $SENDERS senders in $(printf %.1f "$(echo "$t1 - $t0" | bc)") s"
all_ok() { for s in $(seq "$SENDERS"); do stores_ok "s$s.log" "$OBJECTS" || return 1; done; }
check "every store of every sender answered Success" all_ok
check "$total store records with Success" [ "$(audit_count store 'r["status"] == "0x0000"')" = "$total" ]
check "$total archive files" [ "$(archive_files | wc -l)" = "$total" ]
complete() {
    for s in $(seq "$SENDERS"); do
        rm -rf find && mkdir find
        findscu -S -aec CHAOSMASK -X -od find 127.0.0.1 "$PORT" -k QueryRetrieveLevel=IMAGE \
            -k StudyInstanceUID="$(head -1 "s$s.uid")" -k SeriesInstanceUID="$(dump_value "s$s/s${s}_0000.dcm" SeriesInstanceUID)" \
            -k SOPInstanceUID >/dev/null 2>&1
        [ "$(ls find | wc -l)" = "$OBJECTS" ] || { echo "study $s: $(ls find | wc -l) indexed" >&2; return 1; }
    done
}
check "every study is indexed complete, each object once" complete
unique() { # one record and one file per SOP Instance UID: the files' UIDs are all distinct
    [ "$(archive_files | xargs dcmdump -q +P SOPInstanceUID | grep SOPInstanceUID | sort -u | wc -l)" = "$total" ]
}
check "one archive file per SOP Instance UID" unique
check "no temporary file left" [ "$(archive_temps)" = 0 ]
finish
