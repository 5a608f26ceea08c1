#!/bin/bash
# test_migrate.sh CHAOSMASK TESTTOOL - `chaosmask migrate` over a generated archive tree (nested
# folders, several modalities and transfer syntaxes, files that are not DICOM, a DICOMDIR, an
# SR without pixels, a file owned by nobody, a hard link):
#   encrypt -> scan -> verify -> rekey -> scan -> decrypt gives every original back (same bytes,
#   or DCMTK's load+save of them); owners, modes and mtimes kept; hard links skipped;
#   kill -9 in the middle of encrypt and of rekey at several points, then --resume: every file
#   exactly once; a second run on a journal in use is refused before it touches a file; two shards cover the tree exactly once; --dry-run writes nothing; the JSON
#   lines and the summary are valid and add up; decrypt --out writes 0600 files, audited.
CM=$1 TOOL=$2
. "$(dirname "$0")/lib.sh"
write_cli_config "audit_fsync = no\n"
cm keygen --id first -q || exit 1

# ---- the tree ----
T=tree
mkdir -p $T/ct/series1 $T/ct/series2 $T/mr $T/xa/deep/deeper $T/other
i=0
for s in series1 series2; do
  for n in 1 2 3 4 5 6 7 8; do
    cp "$P/CT_small.dcm" "$T/ct/$s/im$n.dcm"; i=$((i + 1))
  done
done
cp "$P/MR_small_RLE.dcm" $T/mr/rle.dcm
cp "$P/MR_small.dcm" $T/mr/native.dcm
cp "$P/SC_rgb_jpeg_dcmtk.dcm" $T/xa/deep/jpeg.dcm
cp "$P/JPEG2000.dcm" $T/xa/deep/deeper/j2k.dcm
dcmconv +tb "$P/CT_small.dcm" $T/xa/deep/bigendian.dcm
dcmconv +td "$P/CT_small.dcm" $T/xa/deep/deflate.dcm
cp "$P/emri_small.dcm" $T/mr/multiframe.dcm 2>/dev/null || cp "$P/MR_small.dcm" $T/mr/multiframe.dcm
for f in $(find $T -name '*.dcm'); do dcmodify -q -nb -gin "$f"; done
cp "$P/test-SR.dcm" $T/other/report.dcm
echo "not a DICOM file" >$T/other/notes.txt
head -c 5000 /dev/urandom >$T/other/random.bin
cp "$P/dicomdirtests/DICOMDIR" $T/ct/DICOMDIR
# bigger objects, so that a run lasts long enough to be killed in the middle
/usr/bin/python3 - $T/xa <<'PY'
import sys
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
for n in range(12):
    m = FileMetaDataset(); m.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.1"
    m.MediaStorageSOPInstanceUID = generate_uid(); m.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=m, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = m.MediaStorageSOPClassUID, m.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = ds.SeriesInstanceUID = generate_uid(); ds.Modality = "XA"
    ds.Rows = ds.Columns = 512; ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16; ds.HighBit = 15; ds.PixelRepresentation = 0; ds.NumberOfFrames = 8
    ds.PixelData = b"".join((((i * 37 + n) % 4096).to_bytes(2, "little")) for i in range(512 * 512)) * 8
    ds["PixelData"].VR = "OW"
    ds.save_as("%s/run%02d.dcm" % (sys.argv[1], n), write_like_original=False)
PY
cp $T/ct/series1/im1.dcm $T/other/owned.dcm && dcmodify -q -nb -gin $T/other/owned.dcm && chmod 640 $T/other/owned.dcm &&
  touch -d '2021-02-03 04:05:06' $T/other/owned.dcm
[ "$(id -u)" = 0 ] && chown nobody:nogroup $T/other/owned.dcm
ln $T/mr/native.dcm $T/other/hardlink.dcm
cp -a $T originals
TOTAL=$(find $T -type f | wc -l)
PIXELFILES=$(find $T -name '*.dcm' ! -name report.dcm ! -path '*hardlink*' ! -path '*mr/native*' | wc -l)
echo "tree: $TOTAL files, $PIXELFILES to encrypt (hard-linked ones are skipped)"

# summary_check FILE TOTAL: the summary line is valid JSON and adds up
summary_check() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
files, summary = lines[:-1], lines[-1]["summary"]
assert summary["files"] == int(sys.argv[2]), (summary["files"], sys.argv[2])
assert len(files) == summary["files"], (len(files), summary["files"])
assert summary["processed"] + summary["skipped"] + summary["failed"] == summary["files"], summary
for f in files:
    assert {"path", "outcome", "reason", "bytes", "key_id", "ms"} <= set(f), f
by = {}
for f in files:
    if f["outcome"] == "skipped":
        by[f["reason"]] = by.get(f["reason"], 0) + 1
assert by == summary["skipped_by_reason"], (by, summary["skipped_by_reason"])
assert summary["failed"] == 0, summary
PY
}

echo "== dry run writes nothing"
cm migrate encrypt $T --dry-run --json >dry.jsonl || fail "dry run exit $?"
diff -r $T originals >/dev/null && ok "dry run: tree unchanged" || fail "dry run changed the tree"
ls chaosmask-migrate-* 2>/dev/null && fail "dry run wrote a journal"
summary_check dry.jsonl $TOTAL && ok "dry-run summary adds up" || fail "dry-run summary"

# kill_after CUT COMMAND...: runs chaosmask (the program itself, so that $! is its pid) in the
# background with its JSON lines in part.jsonl, kills it with -9 once CUT lines are out; counts
# the runs the kill interrupted (no summary line) in $interrupted.  If checked=1, a second run
# of the same command (with --resume) is started while it runs first: refused (journal in use).
interrupted=0
kill_after() {
  local cut=$1; shift
  : >part.jsonl
  "$CM" --config "$WORK/cm.ini" "$@" >part.jsonl 2>/dev/null &
  local pid=$!
  while [ "$(wc -l <part.jsonl)" -lt "$cut" ] && kill -0 $pid 2>/dev/null; do sleep 0.005; done
  if [ "${checked:-0}" = 1 ] && kill -0 $pid 2>/dev/null; then
    cm "$@" --resume >second.jsonl 2>second.err; local rc=$?
    [ $rc -eq 2 ] && grep -q "is in use by another run" second.err && [ ! -s second.jsonl ] &&
      ok "a second run on a journal in use: refused at start (exit 2)" ||
      fail "second run on a journal in use: exit $rc, $(cat second.err), $(wc -l <second.jsonl) lines"
    checked=2
  fi
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  kill -0 $pid 2>/dev/null && fail "chaosmask $pid survived kill -9"
  grep -q '"summary"' part.jsonl || interrupted=$((interrupted + 1))
  echo "killed after $(wc -l <part.jsonl) files"
}

echo "== encrypt, killed with -9 at several points, then resumed"
checked=1
kill_after 3 migrate encrypt $T --jobs 1 --json --journal enc.journal
[ "$checked" = 2 ] || fail "the first run ended before a second could be started"
kill_after 9 migrate encrypt $T --jobs 1 --json --journal enc.journal --resume
sleep 2 # a temporary file a kill left empty (killed between creating and locking it) is stale 2 s later
cm migrate encrypt $T --jobs 2 --json --journal enc.journal --resume >enc.jsonl 2>enc.err ||
  fail "resumed encrypt exit $?: $(cat enc.err; grep '"failed"' enc.jsonl | head -3)"
summary_check enc.jsonl $TOTAL && ok "resumed encrypt: summary adds up" || fail "resumed encrypt summary"
[ -z "$(find $T -name '*chaosmask-*')" ] && ok "no temporary file left" || fail "temporary files: $(find $T -name '*chaosmask-*')"
cm migrate scan $T --json >scan1.jsonl
/usr/bin/python3 - scan1.jsonl $PIXELFILES <<'PY' && ok "scan: every encryptable file encrypted exactly once, under key first" || fail "scan after encrypt"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]["summary"]
enc = s["encrypted"]
assert len(enc) == 1 and enc[0]["key_id"] == "first" and enc[0]["objects"] == int(sys.argv[2]), enc
assert s["found"].get("no-pixels") == 1 and s["skipped_by_reason"].get("not-dicom") == 2, s
assert s["skipped_by_reason"].get("dicomdir") == 1 and s["found"].get("plain") == 2, s
PY
# each object encrypted once: decrypting once gives the original (an object encrypted twice would not)
[ "$(stat -c '%U %a %Y' $T/other/owned.dcm)" = "$(stat -c '%U %a %Y' originals/other/owned.dcm)" ] &&
  ok "owner, mode and mtime of a replaced file kept" || fail "owned.dcm metadata changed"
cmp -s $T/mr/native.dcm originals/mr/native.dcm && ok "the hard-linked file is left alone" || fail "hard link changed"
grep -q '"reason": "hardlink"' enc.jsonl && ok "hard link reported" || fail "hard link not reported"
cmp -s $T/ct/DICOMDIR originals/ct/DICOMDIR && cmp -s $T/other/notes.txt originals/other/notes.txt &&
  cmp -s $T/other/report.dcm originals/other/report.dcm && ok "DICOMDIR, text and SR untouched" || fail "a skipped file changed"

echo "== verify"
cm migrate verify $T --json >verify.jsonl || fail "verify exit $?"
summary_check verify.jsonl $TOTAL && ok "verify adds up, nothing failed" || fail "verify summary"

(cd $T && "$CM" --config "$WORK/cm.ini" migrate verify . --json --journal v2.journal) >verify2.jsonl
summary_check verify2.jsonl $TOTAL && ok "a run from inside the tree (PATH .) passes over its own journal" ||
  fail "PATH .: the journal was taken for input"
rm -f $T/v2.journal $T/v2.journal-wal $T/v2.journal-shm

echo "== two shards cover the tree exactly once"
cm migrate scan $T --shard 0/2 --json >s0.jsonl && cm migrate scan $T --shard 1/2 --json >s1.jsonl
/usr/bin/python3 - s0.jsonl s1.jsonl $TOTAL <<'PY' && ok "shards 0/2 and 1/2 are disjoint and cover every file" || fail "shards"
import json, sys
a = {json.loads(l)["path"] for l in open(sys.argv[1]) if '"path"' in l}
b = {json.loads(l)["path"] for l in open(sys.argv[2]) if '"path"' in l}
assert not (a & b), a & b
assert len(a | b) == int(sys.argv[3]) and a and b, (len(a), len(b))
PY

echo "== rekey to a new key, killed and resumed"
cm keygen --id second --activate -q
kill_after 5 migrate rekey $T --jobs 1 --json --journal rekey.journal
sleep 2
[ $interrupted -eq 3 ] && ok "every kill -9 interrupted a run" || fail "only $interrupted of 3 runs were interrupted"
cm migrate rekey $T --json --journal rekey.journal --resume >rekey.jsonl 2>rekey.err ||
  fail "resumed rekey exit $?: $(cat rekey.err; grep '"failed"' rekey.jsonl | head -3)"
summary_check rekey.jsonl $TOTAL && ok "resumed rekey adds up" || fail "rekey summary"
cm migrate scan $T --json >scan2.jsonl
/usr/bin/python3 - scan2.jsonl $PIXELFILES <<'PY' && ok "scan: every object now under key second, none under first" || fail "scan after rekey"
import json, sys
enc = [json.loads(l) for l in open(sys.argv[1])][-1]["summary"]["encrypted"]
assert len(enc) == 1 and enc[0]["key_id"] == "second" and enc[0]["objects"] == int(sys.argv[2]), enc
PY

echo "== decrypt gives every original back"
cm migrate decrypt $T --out plain --json >dec.jsonl || fail "decrypt exit $?"
summary_check dec.jsonl $TOTAL && ok "decrypt adds up" || fail "decrypt summary"
bad=0
for f in $(cd $T && find . -name '*.dcm' ! -name report.dcm ! -path '*hardlink*' ! -path '*mr/native*'); do
  out=plain/${f#./}
  [ "$(stat -c %a "$out")" = 600 ] || { fail "$out mode $(stat -c %a "$out")"; bad=1; }
  "$TOOL" copy "originals/$f" ref.dcm 2>/dev/null
  cmp -s "originals/$f" "$out" || cmp -s ref.dcm "$out" || { fail "$f differs from its original"; bad=1; }
done
[ $bad -eq 0 ] && ok "every decrypted file equals its original (0600)"
[ "$(grep -c '"event": "decrypt", "outcome": "ok"' audit.log)" -eq "$PIXELFILES" ] && ok "every decryption audited" ||
  fail "decrypt audit lines: $(grep -c '"event": "decrypt"' audit.log)"

echo "== keys: list, fingerprints, activate"
cm keys list --json >keys.jsonl && /usr/bin/python3 - keys.jsonl ring <<'PY' && ok "keys list" || fail "keys list"
import json, sys
keys = {k["id"]: k for k in map(json.loads, open(sys.argv[1]))}
assert set(keys) == {"first", "second"} and keys["second"]["active"] and not keys["first"]["active"], keys
assert keys["first"]["fingerprint"] != keys["second"]["fingerprint"] and len(keys["first"]["fingerprint"]) == 16
for k in keys:
    assert keys[k]["fingerprint"] not in open(sys.argv[2] + "/" + k + ".key").read()
PY
cm keys activate first -q && grep -qx first ring/active && ok "keys activate" || fail "keys activate"

finish
