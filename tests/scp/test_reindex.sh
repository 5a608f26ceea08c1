#!/bin/bash
# test_reindex.sh SCP CM TESTS WORK - chaosmask-scp --reindex: refused while the service runs
# (and the service refused while the archive is locked for a reindex); index.dat lost, a
# stray file, a damaged archive file and a second copy of an instance in the archive: the
# index rebuilt from the files (the damaged one and the older copy named and left out, exit
# 4, the stray file left alone), audited; nothing in the archive changed; the service then
# finds both studies and gives the originals back; a second reindex keeps the index it
# replaces and exits 0; run as root on an archive of another user, it runs as that user (the
# new index is theirs).
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port)
write_config scp.ini "$PORT"
start_service scp.ini || exit 1
$PY "$TESTS/make_study.py" study 9 --studies 2 --prefix ct >study.uid
storescu -v -aec CHAOSMASK 127.0.0.1 "$PORT" study/*.dcm >store.log 2>&1
check "9 objects in 2 studies stored" stores_ok store.log 9

"$SCP" --config scp.ini --reindex >busy.out 2>busy.err
rc=$?
check "--reindex while the service runs: refused (exit 6)" \
    bash -c "[ $rc = 6 ] && grep -q 'in use by a running chaosmask-scp' busy.err"
stop_service
check "... and the index untouched" bash -c "[ -s archive/index.dat ] && [ ! -e archive/index.dat.before-reindex ]"

flock -x archive sh -c 'touch locked; sleep 2' &   # holds the lock as --reindex does, for 2 s
locker=$!
for _ in $(seq 100); do [ -e locked ] && break; sleep 0.05; done
timeout 20 "$SCP" --config scp.ini >locked.log 2>&1
rc=$?
check "the service while the archive is locked for a reindex: exit 6" \
    bash -c "[ $rc = 6 ] && grep -q 'being reindexed' locked.log"
wait $locker

# ---- the index lost, and an archive as a crash or a careless copy leaves it
mapfile -t files < <(archive_files)
rm archive/index.dat
echo "notes" >archive/00/notes.txt
first=${files[0]} second=${files[1]}
dup=$(dirname "$first")/0123456789abcdef0123456789abcd.dcm
damaged=$(dirname "$second")/fedcba9876543210fedcba98765432.dcm
cp "$first" "$dup" && touch -d '+1 minute' "$dup"            # a newer copy of the same instance
head -c 700 "$second" >"$damaged"                              # cut short
(cd archive && find . -type f | sort | xargs sha256sum) >before.sums
"$SCP" --config scp.ini --reindex >re.out 2>re.err
rc=$?
check "reindex: exit 4 (files left out)" [ $rc = 4 ]
check "... the summary counts what it found" \
    grep -q "11 archive files: 9 indexed in 2 studies, 1 older copies and 1 files left out, 1 other files ignored" re.out
check "... names the damaged file and why" grep -q "${damaged#$WORK/archive/}: left out: .*truncated" re.err
check "... names the older copy of an instance" grep -q "${first#$WORK/archive/}: an older copy of SOP Instance" re.err
check "... and the stray file, left alone" grep -q "00/notes.txt: not an archive file, left alone" re.err
(cd archive && find . -type f ! -name index.dat | sort | xargs sha256sum) >after.sums
check "... no archive file changed, moved or removed" diff -q before.sums after.sums
check "... a new index.dat, nothing left of the build" \
    bash -c "[ -s archive/index.dat ] && [ -z \"\$(ls -A archive | grep reindex-build)\" ]"
check "... audited" audit_has reindex 'r["count"] == 9 and "left out" in r["detail"]'

start_service scp.ini || exit 1
nfind() {
    rm -rf find && mkdir find
    findscu -aec CHAOSMASK -X -od find "$@" 127.0.0.1 "$PORT" >/dev/null 2>&1
    ls find | wc -l
}
STUDY=$(head -1 study.uid) STUDY2=$(sed -n 2p study.uid)
check "C-FIND after the reindex: both studies" \
    [ "$(nfind -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY\\$STUDY2")" = 2 ]
images=0
for f in study/*.dcm; do echo "$(dump_value "$f" StudyInstanceUID) $(dump_value "$f" SeriesInstanceUID)"; done |
    sort -u >series.txt
while read -r st se; do
    images=$((images + $(nfind -S -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID="$st" -k SeriesInstanceUID="$se" \
        -k SOPInstanceUID)))
done <series.txt
check "C-FIND IMAGE level: 9 instances, each once" [ "$images" = 9 ]
mkdir get
for s in "$STUDY" "$STUDY2"; do
    getscu -aec CHAOSMASK -S -od get 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$s" \
        >>get.log 2>&1
done
check "C-GET after the reindex: the 9 originals" $PY "$TESTS/compare.py" same-dir study get 9
stop_service

rm "$damaged" "$first"
inode=$(stat -c %i archive/index.dat)
"$SCP" --config scp.ini --reindex >re2.out 2>re2.err
rc=$?
check "a second reindex of a clean archive: exit 0" \
    bash -c "[ $rc = 0 ] && grep -q '9 archive files: 9 indexed in 2 studies, 0 older copies and 0 files left out' re2.out"
check "... the index it replaced kept as index.dat.before-reindex" \
    [ "$(stat -c %i archive/index.dat.before-reindex)" = "$inode" ]
if [ "$(id -u)" = 0 ]; then
    chown -R nobody archive audit.log   # as the service's user owns them
    "$SCP" --config scp.ini --reindex >re3.out 2>re3.err
    rc=$?
    check "as root on an archive of nobody: rebuilt as nobody (the new index is nobody's)" \
        bash -c "[ $rc = 0 ] && [ \"\$(stat -c %U archive/index.dat)\" = nobody ] && [ -z \"\$(find archive -user root)\" ]"
    chown root archive/index.dat        # restored by root, say
    "$SCP" --config scp.ini --reindex >re4.out 2>re4.err
    rc=$?
    check "... an index.dat of another owner: refused (exit 2), run as the service's user" \
        bash -c "[ $rc = 2 ] && grep -q 'run --reindex as the service' re4.err && [ \"\$(stat -c %U archive/index.dat)\" = root ]"
    ln -s /root archive-link
    sed "s|^dir = $WORK/archive\$|dir = $WORK/archive-link|" scp.ini >link.ini && chmod 600 link.ini
    "$SCP" --config link.ini --reindex >re5.out 2>re5.err
    rc=$?
    check "... an archive directory that is a symbolic link: refused as root" \
        bash -c "[ $rc = 6 ] && grep -q 'not a symbolic link' re5.err"
else
    echo "not root: the owner check of a root reindex does not apply"
fi
finish
