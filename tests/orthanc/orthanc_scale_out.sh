#!/bin/bash
# orthanc_scale_out.sh PLUGIN CHAOSMASK WORKDIR - the scale-out deployment on one machine: a
# PostgreSQL cluster made in the test's folder (initdb, started and stopped here), two Orthanc
# processes with the PostgreSQL index plugin and this plugin sharing that index and one
# storage folder.  Objects stored through the first are found (C-FIND, REST), retrieved
# (REST, C-GET) and previewed as the originals through the second, which also deletes one
# (its files leave the shared storage).
set -euo pipefail
PLUGIN=$(realpath "$1"); CHAOSMASK=$(realpath "$2"); WORK=$3
source "$(dirname "$0")/lib.sh"
enter_netns "$@"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_INDEX=$(ls /usr/lib/orthanc/libOrthancPostgreSQLIndex.so* 2>/dev/null | head -1)
[ -x "$PG_BIN/initdb" ] || fail "PostgreSQL server binaries not found (package postgresql; scripts/deps.sh)"
[ -n "$PG_INDEX" ] || fail "Orthanc's PostgreSQL index plugin not found (package orthanc-postgresql)"

rm -rf "$WORK"; mkdir -p "$WORK"; WORK=$(realpath "$WORK"); cd "$WORK"
PIDS=
trap 'for p in $PIDS; do orthanc_stop $p; done; pg stop' EXIT

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
pg_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg() {
    case $1 in
        start) pg_user "$PG_BIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/pgdata/server.log" -w \
                   -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pgdata" start >/dev/null ;;
        stop) [ -d "$WORK/pgdata" ] && pg_user "$PG_BIN/pg_ctl" -D "$WORK/pgdata" -m fast -w stop >/dev/null 2>&1 || true ;;
    esac
}
PG_PORT=$(free_port)
mkdir pgdata; [ "$(id -u)" = 0 ] && chown postgres: pgdata
pg_user "$PG_BIN/initdb" -D "$WORK/pgdata" -U postgres --auth=trust -E UTF8 >initdb.log 2>&1 || fail "initdb: $(tail -3 initdb.log)"
pg start || fail "PostgreSQL did not start: $(tail -5 pgdata/server.log)"
pg_user "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres orthanc || fail "createdb"

"$CHAOSMASK" -q --keyring keyring keygen >/dev/null
printf '[keyring]\ndir = %s/keyring\n[log]\naudit = %s/audit.log\n' "$WORK" "$WORK" >chaosmask.ini
fresh_samples sent CT_small.dcm MR_small.dcm MR_small_RLE.dcm SC_rgb_jpeg_dcmtk.dcm rtplan.dcm
SCU=$(free_port)
start_node() {   # start_node NAME HTTP DICOM
    orthanc_config "$1" "$WORK/$1" "$2" "$3" "$SCU" "[\"$PLUGIN\", \"$PG_INDEX\"]" \
        ", \"StorageDirectory\": \"$WORK/shared-storage\", \"ChaosMask\": {\"Config\": \"$WORK/chaosmask.ini\"},
          \"PostgreSQL\": {\"EnableIndex\": true, \"EnableStorage\": false, \"Host\": \"127.0.0.1\",
                          \"Port\": $PG_PORT, \"Database\": \"orthanc\", \"Username\": \"postgres\",
                          \"Password\": \"\", \"Lock\": false}"
    # the shared folder, not the one orthanc_config names
    sed -i "0,/\"StorageDirectory\": \"[^\"]*\",/s///" "$WORK/$1/orthanc.json"
    orthanc_start "$WORK/$1" "$2" || fail "Orthanc $1 did not start: $(grep -i 'error\|ChaosMask' "$1/orthanc.log" | tail -3)"
    PIDS="$PIDS $ORTHANC_PID"
}
A_HTTP=$(free_port); A_DICOM=$(free_port); B_HTTP=$(free_port); B_DICOM=$(free_port)
start_node a "$A_HTTP" "$A_DICOM"
start_node b "$B_HTTP" "$B_DICOM"
grep -q "ChaosMask: storage area $WORK/shared-storage" b/orthanc.log || fail "node b does not use the shared storage"
A=http://127.0.0.1:$A_HTTP; B=http://127.0.0.1:$B_HTTP

say "store through node a"
store_files "$A_DICOM" sent/*.dcm
"$PY" -W ignore "$HERE/no_plaintext.py" shared-storage sent/*.dcm

say "find and retrieve the originals through node b"
[ "$(curl -sf "$B/instances" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 5 ] ||
    fail "node b does not see the 5 instances in the shared index"
for f in sent/*.dcm; do
    b=$(basename "$f" .dcm)
    study=$(dcmdump -q +P 0020,000d "$f" | sed -n '1s/.*\[\(.*\)\].*/\1/p')
    rm -rf "find_$b" "get_$b"; mkdir "find_$b" "get_$b"
    findscu -S -aet SCU -aec ORTHANC -X -od "find_$b" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$study" \
        127.0.0.1 "$B_DICOM" 2>/dev/null || fail "findscu $b on node b"
    [ "$(ls "find_$b" | wc -l)" = 1 ] || fail "C-FIND on node b found $(ls "find_$b" | wc -l) studies for $b"
    id=$(orthanc_id "$B" "$(sop_uid "$f")")
    curl -sf "$B/instances/$id/file" -o "rest_$b.dcm" || fail "$b: REST /file on node b"
    same_dataset "$f" "rest_$b.dcm" "$b over REST from node b"
    prefer=$(propose_option "$f"); prefer=+${prefer#-}
    getscu -S -aet SCU -aec ORTHANC "$prefer" -od "get_$b" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$study" \
        127.0.0.1 "$B_DICOM" >/dev/null 2>&1 || fail "getscu $b on node b"
    [ "$(ls "get_$b" | wc -l)" = 1 ] || fail "C-GET on node b brought $(ls "get_$b" | wc -l) objects for $b"
    case $prefer in   # Orthanc may transcode compressed objects for getscu; uncompressed ones never
        +x= | +xi | +xb) same_dataset "$f" "get_$b"/* "$b over C-GET from node b" ;;
    esac
done
id=$(orthanc_id "$B" "$(sop_uid sent/CT_small.dcm)")
curl -sf "$B/instances/$id/preview" -o preview_b.png && file preview_b.png | grep -q 'PNG image' ||
    fail "no preview of CT_small from node b"
curl -sf "$A/instances/$id/preview" -o preview_a.png && cmp -s preview_a.png preview_b.png ||
    fail "the previews of node a and node b differ"

say "delete through node b: the files leave the shared storage"
before=$(find shared-storage -type f | wc -l)
curl -sf -X DELETE "$B/instances/$id" >/dev/null || fail "DELETE on node b"
after=$(find shared-storage -type f | wc -l)
[ "$after" = $((before - 2)) ] || fail "deleting CT_small left $after of $before files (object and prefix should go)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$A/instances/$id")" = 404 ] || fail "node a still knows the deleted instance"
say "all checks passed"
