#!/bin/bash
# hostile_commands.sh CHAOSMASK SRCDIR WORKDIR - the commands that read DICOM objects refuse
# the files of make_hostile.py before DCMTK parses them: encrypt, decrypt, verify and inspect
# on every 20,000-deep file exit 4 with a message naming the nesting, and nothing dies of a
# signal (stock DCMTK readers die of SIGSEGV on these files); the other hostile files exit 4
# with their reason; a file exactly at the depth limit is read.  The wide files (200,000
# elements, fragments or sequence items) encrypt and decrypt back to themselves within 60 s
# each (in linear time a second or two; walks that restart from the first element for every
# element took minutes).
set -u
CM=$1 SRC=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK/out" || exit 1
/usr/bin/python3 "$SRC/make_hostile.py" "$WORK/in" || exit 1
"$CM" --keyring "$WORK/kr" keygen --id site >/dev/null || exit 1
fails=0

# run EXPECTED_EXIT PATTERN COMMAND IN [OUT]
run() {
  local want=$1 pattern=$2 cmd=$3 in=$WORK/in/$4 out=${5:-}
  local msg rc
  msg=$("$CM" --keyring "$WORK/kr" "$cmd" "$in" ${out:+"$WORK/out/$out"} 2>&1 >/dev/null); rc=$?
  local name="$cmd $4"
  if [ $rc -ge 128 ]; then echo "FAIL $name: killed by signal $((rc - 128))"; fails=$((fails+1)); return; fi
  if [ $rc -ne "$want" ]; then echo "FAIL $name: exit $rc, expected $want ($msg)"; fails=$((fails+1)); return; fi
  if ! grep -qE -- "$pattern" <<<"$msg"; then echo "FAIL $name: message '$msg' lacks /$pattern/"; fails=$((fails+1)); return; fi
  if [ -n "$out" ] && [ -e "$WORK/out/$out" ]; then echo "FAIL $name: OUT was written"; fails=$((fails+1)); return; fi
  echo "ok $name -> exit $rc: ${msg:0:200}"
}

DEEP="nesting deeper than 32 levels at byte offset [0-9]+( of the inflated data set)? \(tag \(0040,A730\)\)"
for f in deep_explicit_undefined deep_explicit_defined deep_implicit deep_bigendian deep_deflate deep_un_cp246 \
         deep_wrong_lengths; do
  run 4 "$DEEP" encrypt "$f.dcm" x.dcm
  run 4 "$DEEP" decrypt "$f.dcm" x.dcm
  run 4 "$DEEP" verify "$f.dcm"
  run 4 "$DEEP" inspect "$f.dcm"
done
run 4 "nesting deeper than 32" inspect depth_33.dcm
run 0 "" inspect depth_32.dcm
run 8 "nothing to protect|no pixel" encrypt depth_32.dcm x.dcm
run 4 "more than 1000000 data elements and items" inspect many_elements.dcm
run 4 "truncated: element \(7FE0,0010\) at byte offset [0-9]+ claims 524288 bytes but 30000 remain" \
  encrypt value_past_end.dcm x.dcm
run 4 "malformed: item at byte offset [0-9]+ claims 100 bytes" encrypt item_past_sequence.dcm x.dcm
run 4 "truncated: element \(0009,1010\)" encrypt deflate_bomb.dcm x.dcm
run 4 "not a readable DICOM Part 10 file" encrypt garbage_after.dcm x.dcm
run 4 "needs 8 bytes but 5 remain" verify short_garbage_after.dcm
run 0 "" inspect valid_small.dcm

for f in wide_elements wide_fragments wide_items; do
  rm -f "$WORK/out/$f".*
  if timeout 60 "$CM" --keyring "$WORK/kr" -q encrypt "$WORK/in/$f.dcm" "$WORK/out/$f.enc" &&
     timeout 60 "$CM" --keyring "$WORK/kr" -q decrypt "$WORK/out/$f.enc" "$WORK/out/$f.dec" &&
     cmp -s "$WORK/in/$f.dcm" "$WORK/out/$f.dec"; then
    echo "ok $f: encrypted and decrypted back within 60 s each"
  else
    echo "FAIL $f: not encrypted and decrypted back within 60 s each"; fails=$((fails+1))
  fi
done

echo "hostile commands: $fails failure(s)"
[ $fails -eq 0 ]
