#!/bin/bash
# test_dialect.sh CHAOSMASK - the command-line dialect and what scripts rely on:
#   --opt=value and --opt value, `help CMD`, every --help (options, global options, exit
#   codes from the one table), -q/-v/-d/-ll, --config read by every command (missing: exit 3),
#   every documented exit code of the file commands, several files per command (worst exit
#   code), an unknown key id is exit 3 everywhere, inspect --json on failure, in-place keeps
#   owner/group/mode/mtime (as root, a file owned by nobody), decrypted outputs 0600 under
#   umask 022, SIGTERM and kill -9 leave no temporary file behind (the next run in the
#   directory removes a dead process's), and the audit log: one valid JSON line per event,
#   never key material or pixel data.
CM=$1
. "$(dirname "$0")/lib.sh"
write_cli_config
cm keygen --id=site -q || exit 1

echo "== --opt=value and --opt value, DCMTK's spellings"
expect 0 "--id=value" -- cm keygen --id=second
expect 0 "--id value" -- cm keygen --id third
expect 0 "-ll trace before the command" -- "$CM" -ll trace --config=cm.ini keys list
expect 0 "--log-level=debug after the command" -- cm keys list --log-level=debug
expect 2 "--log-level with a bad level" -- cm keys list --log-level loud
expect 0 "-q" -- cm -q keys list
expect 2 "an abbreviated option" -- cm keygen --activ --id four
expect 2 "an unknown option" -- cm encrypt --frobnicate a b
expect 2 "a missing value" -- cm keygen --id

echo "== help CMD and --help: options, global options, exit codes"
size_t_cmds=$("$CM" help | sed -n '/^commands:/,/^$/p' | awk 'NF>1 {print $1}' | grep -v commands:)
for c in $size_t_cmds; do
  [ "$c" = help ] && continue
  "$CM" help "$c" >h1 2>&1 || fail "help $c"
  "$CM" "$c" --help >h2 2>&1 || fail "$c --help"
  cmp -s h1 h2 || fail "help $c and $c --help differ"
  grep -q "^usage: chaosmask $c" h1 && grep -q "^global options" h1 && grep -q -- "--config FILE" h1 &&
    grep -q "^exit codes:" h1 && grep -qE "^ +0  success" h1 && grep -qE "^ +2  bad command line" h1 &&
    ok "help $c lists usage, global options and exit codes" || fail "help $c: $(head -3 h1)"
done
"$CM" help encrypt | grep -q -- "--profile P" && "$CM" help encrypt | grep -qE "^ +8  nothing to protect" &&
  "$CM" help encrypt | grep -q "lorenz-chacha20 (default), aes-256-gcm, or lorenz" && ok "encrypt's help names its options, code 8 and the profiles" ||
  fail "encrypt help"
expect 2 "help of an unknown command" -- "$CM" help frobnicate

echo "== --config is read by every command; a missing file is exit 3"
for c in "keygen" "keys list" "keystream --bytes 1" "selftest" "demo --frames 1" "encrypt a b" "decrypt a b" \
         "verify a" "inspect a" "rebind a" "migrate scan ." "bench --bytes 2" "analyze a --out x" "paper --out x"; do
  expect 3 "$c with a missing --config" -- "$CM" --config "$WORK/no-such.ini" $c
done
printf '[engine]\nprofile = rot13\n' >bad.ini && chmod 600 bad.ini
expect 3 "a config error names file and line" -- "$CM" --config bad.ini inspect "$P/CT_small.dcm"
grep -q "bad.ini:2: profile 'rot13' is not one of lorenz, lorenz-chacha20, aes-256-gcm" err && ok "bad.ini:2 named" || fail "$(cat err)"

echo "== exit codes of the file commands"
cp "$P/CT_small.dcm" ct.dcm
expect 0 "encrypt" -- cm encrypt ct.dcm ct.enc.dcm
expect 0 "encrypt of an encrypted object: nothing to do" -- cm encrypt ct.enc.dcm again.dcm
grep -q "already encrypted" out && cmp -s ct.enc.dcm again.dcm && ok "copied as it was" || fail "already encrypted copy"
echo "not dicom" >text.dcm
expect 4 "encrypt of a non-DICOM file" -- cm encrypt text.dcm x.dcm
grep -qE "^chaosmask encrypt: text.dcm: not a readable DICOM Part 10 file" err && ok "one error line: chaosmask CMD: FILE: what" || fail "$(cat err)"
expect 8 "encrypt with nothing to protect" -- cm encrypt "$P/rtplan.dcm" x.dcm
expect 4 "decrypt of a clear object" -- cm decrypt ct.dcm x.dcm
expect 2 "OUT is IN" -- cm encrypt ct.dcm ct.dcm
mkdir -p wrongring && chmod 700 wrongring && cp ring/site.key wrongring/ && chmod 600 wrongring/site.key
printf '%064d\n' 7 >wrongring/site.key
expect 5 "decrypt with the wrong key" -- "$CM" --config cm.ini --keyring wrongring decrypt ct.enc.dcm x.dcm
mkdir -p ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then expect 6 "an output that cannot be written" -- cm decrypt ct.enc.dcm ro/x.dcm; fi
(ulimit -f 8; trap '' XFSZ; cm decrypt ct.enc.dcm big.dcm >out 2>err); rc=$?
[ $rc -eq 6 ] && [ ! -e big.dcm ] && ok "a write that fails is exit 6, nothing left" || fail "write failure: exit $rc $(cat err)"
[ -e x.dcm ] && fail "x.dcm written by a refused command"

echo "== an unknown key id is exit 3 in every command"
mkdir -p other && chmod 700 other
"$CM" --config cm.ini --keyring other keygen --id elsewhere -q
expect 3 "encrypt --key with an id not in the ring" -- cm encrypt --key nosuch ct.dcm x.dcm
for c in "decrypt ct.enc.dcm x.dcm" "verify ct.enc.dcm" "rebind ct.enc.dcm" "encrypt ct.enc.dcm x.dcm"; do
  expect 3 "$c under a ring without the object's key" -- "$CM" --config cm.ini --keyring other $c
  grep -q "key 'site' is not in the key ring" err || fail "$c: $(cat err)"
done

echo "== several files per command; the exit code is the worst"
for i in 1 2 3; do cp "$P/CT_small.dcm" "m$i.dcm"; dcmodify -q -nb -gin "m$i.dcm"; done
expect 0 "encrypt --in-place of three files" -- cm encrypt --in-place m1.dcm m2.dcm m3.dcm
[ "$(grep -c 'encrypted in place' out)" -eq 3 ] && ok "each reported" || fail "$(cat out)"
expect 0 "verify of three files" -- cm verify m1.dcm m2.dcm m3.dcm
expect 4 "verify of two good files and a clear one" -- cm verify m1.dcm ct.dcm m2.dcm
[ "$(grep -c authentic out)" -eq 2 ] && ok "the good ones still reported" || fail "$(cat out)"
# one pixel byte flipped (set to a fixed value, it already held that value once in 256 runs)
cp m3.dcm m3bad.dcm && /usr/bin/python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[30000] ^= 0xFF; open(sys.argv[1], "wb").write(b)' m3bad.dcm
expect 5 "verify: clear (4) and changed (5) -> 5" -- cm verify ct.dcm m3bad.dcm m1.dcm
expect 5 "decrypt --in-place: the worst of three" -- cm decrypt --in-place m1.dcm m3bad.dcm m2.dcm
expect 4 "inspect of a DICOM and a text file" -- cm inspect --json ct.dcm text.dcm
/usr/bin/python3 - out <<'PY' && ok "inspect --json: one object per file, a JSON error object for the failure" || fail "inspect --json lines: $(cat out)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2, lines
assert lines[0]["encrypted"] is False and lines[0]["file"] == "ct.dcm"
assert lines[1]["file"] == "text.dcm" and lines[1]["error"]["exit"] == 4 and lines[1]["error"]["reason"] == "input"
PY

echo "== files keep their owner; decrypted outputs are 0600"
cp "$P/CT_small.dcm" owned.dcm && chmod 0640 owned.dcm && touch -d '2020-01-02 03:04:05' owned.dcm
if [ "$(id -u)" = 0 ]; then chown nobody:nogroup owned.dcm; fi
before=$(stat -c '%U:%G %a %Y' owned.dcm)
expect 0 "encrypt --in-place" -- cm encrypt --in-place owned.dcm
[ "$(stat -c '%U:%G %a %Y' owned.dcm)" = "$before" ] && ok "owner, group, mode, mtime kept ($before)" ||
  fail "after encrypt: $(stat -c '%U:%G %a %Y' owned.dcm), before $before"
expect 0 "decrypt --in-place" -- cm decrypt --in-place owned.dcm
[ "$(stat -c '%U:%G %a %Y' owned.dcm)" = "$before" ] && ok "kept through decrypt too" || fail "after decrypt"
(umask 022; cm decrypt ct.enc.dcm phi.dcm) && [ "$(stat -c %a phi.dcm)" = 600 ] && ok "decrypted output 0600 under umask 022" ||
  fail "decrypted output mode $(stat -c %a phi.dcm)"
(umask 022; cm encrypt ct.dcm enc644.dcm) && [ "$(stat -c %a enc644.dcm)" = 644 ] && ok "encrypted output follows the umask" ||
  fail "encrypted output mode $(stat -c %a enc644.dcm)"

echo "== signals and kill -9 leave no temporary file"
/usr/bin/python3 - big.dcm <<'PY'
import sys
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
m = FileMetaDataset(); m.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
m.MediaStorageSOPInstanceUID = generate_uid(); m.TransferSyntaxUID = ExplicitVRLittleEndian
ds = FileDataset(None, {}, file_meta=m, preamble=b"\0" * 128)
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID = m.MediaStorageSOPClassUID, m.MediaStorageSOPInstanceUID
ds.Rows = ds.Columns = 1024; ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = "MONOCHROME2"
ds.BitsAllocated = ds.BitsStored = 16; ds.HighBit = 15; ds.PixelRepresentation = 0; ds.NumberOfFrames = 160
ds.PixelData = bytes(range(256)) * (1024 * 1024 * 2 * 160 // 256); ds["PixelData"].VR = "OW"
ds.save_as(sys.argv[1], write_like_original=False)
PY
mkdir -p sig
# start a long write, wait for its temporary file, signal it
seen_temp=0
signal_during_write() {
  local sig=$1
  seen_temp=0
  "$CM" --config "$WORK/cm.ini" encrypt big.dcm sig/out.dcm >/dev/null 2>&1 &
  local pid=$! n=0
  while [ $n -lt 3000 ] && kill -0 $pid 2>/dev/null; do
    if ls -A sig 2>/dev/null | grep -q chaosmask-; then seen_temp=1; break; fi
    sleep 0.01; n=$((n + 1))
  done
  kill -"$sig" $pid 2>/dev/null
  wait $pid 2>/dev/null
}
for try in 1 2 3; do
  rm -f sig/out.dcm
  signal_during_write TERM
  [ $seen_temp -eq 1 ] && [ ! -e sig/out.dcm ] && break
done
[ $seen_temp -eq 1 ] && [ -z "$(ls -A sig | grep chaosmask-)" ] && [ ! -e sig/out.dcm ] &&
  ok "SIGTERM during a write: the temporary file removed, no output" || fail "after SIGTERM (temp seen $seen_temp): $(ls -A sig)"
for try in 1 2 3; do
  rm -f sig/out.dcm
  signal_during_write KILL
  [ -n "$(ls -A sig | grep chaosmask-)" ] && break
done
leftover=$(ls -A sig | grep chaosmask-)
[ -n "$leftover" ] && ok "kill -9 leaves $leftover" || fail "no leftover after kill -9 to clean up"
touch -d '1 minute ago' "sig/$leftover"
cm encrypt ct.dcm sig/other.dcm -q
[ -z "$(ls -A sig | grep chaosmask-)" ] && ok "the next run in that directory removed it" || fail "still there: $(ls -A sig)"

echo "== the audit log"
/usr/bin/python3 - audit.log ring/site.key <<'PY' && ok "audit: valid JSON lines, one per event, no key, no pixels" || fail "audit log"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
events = [json.loads(l) for l in lines]
need = {"time", "host", "program", "pid", "uid", "event", "outcome", "reason"}
assert all(need <= set(e) for e in events), [e for e in events if not need <= set(e)][:1]
kinds = {(e["event"], e["outcome"]) for e in events}
for k in [("encrypt", "ok"), ("decrypt", "ok"), ("decrypt", "refused"), ("encrypt", "refused"), ("verify", "ok"),
          ("verify", "refused"), ("keygen", "ok")]:
    assert k in kinds, (k, kinds)
refusal = [e for e in events if e["event"] == "decrypt" and e["outcome"] == "refused"][0]
assert refusal["reason"] in ("auth", "input", "config") and refusal["message"]
ok = [e for e in events if e["event"] == "decrypt" and e["outcome"] == "ok"][0]
assert ok["sop_instance_uid"] and ok["key_id"] == "site" and ok["bytes"] > 0 and ok["output"]
key = open(sys.argv[2]).read().strip()
text = open(sys.argv[1]).read()
assert key not in text and key.upper() not in text, "key material in the audit log"
assert max(len(l) for l in lines) < 4096, "a line long enough to hold pixel data"
PY

finish
