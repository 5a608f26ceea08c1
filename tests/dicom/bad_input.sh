#!/bin/bash
# bad_input.sh CHAOSMASK SRCDIR WORKDIR - every refusal of issue 4 gives a clear message and
# the documented exit code, does not create OUT, leaves IN untouched and leaves no temporary
# file behind: not DICOM, truncated, pydicom's broken samples, inconsistent geometry,
# unsupported layouts, wrong key, unknown key id, changed pixels, changed private block,
# changed SOP Instance UID, decrypting a clear object, OUT naming IN.
set -u
CM=$1 SRC=$2 WORK=$3
PYDICOM=/usr/lib/python3/dist-packages/pydicom/data/test_files
rm -rf "$WORK" && mkdir -p "$WORK/in" "$WORK/out" || exit 1
fails=0
"$CM" --keyring "$WORK/kr" keygen --id site >/dev/null || exit 1
"$CM" --keyring "$WORK/kr_wrong" keygen --id site >/dev/null || exit 1    # same id, other key
"$CM" --keyring "$WORK/kr_other" keygen --id elsewhere >/dev/null || exit 1

# expect EXIT PATTERN KEYRING COMMAND IN [OUT]
expect() {
  local want=$1 pattern=$2 kr=$3 cmd=$4 in=$5 out=${6:-}
  local before; before=$(md5sum <"$in")
  local msg; msg=$("$CM" --keyring "$WORK/$kr" "$cmd" "$in" ${out:+"$out"} 2>&1 >/dev/null); local rc=$?
  local name; name="$cmd $(basename "$in")"
  if [ $rc -ne "$want" ]; then echo "FAIL $name: exit $rc, expected $want ($msg)"; fails=$((fails+1)); return; fi
  if ! grep -qiE -- "$pattern" <<<"$msg"; then echo "FAIL $name: message '$msg' lacks /$pattern/"; fails=$((fails+1)); return; fi
  if [ -n "$out" ] && [ -e "$out" ] && ! [ "$out" -ef "$in" ]; then echo "FAIL $name: OUT was created"; fails=$((fails+1)); return; fi
  if [ "$(md5sum <"$in")" != "$before" ]; then echo "FAIL $name: IN was changed"; fails=$((fails+1)); return; fi
  if ls -A "$WORK/out" "$(dirname "$in")" | grep -q 'chaosmask-'; then echo "FAIL $name: temporary file left"; fails=$((fails+1)); return; fi
  echo "ok $name -> exit $rc: ${msg//$'\n'/ | }"
}

I=$WORK/in O=$WORK/out
echo "this is not a DICOM file" >"$I/not_dicom.dcm"
head -c 1000 "$PYDICOM/CT_small.dcm" >"$I/truncated_header.dcm"
head -c 30000 "$PYDICOM/CT_small.dcm" >"$I/truncated_pixels.dcm"
: >"$I/empty.dcm"
expect 4 "not a readable DICOM" kr encrypt "$I/not_dicom.dcm" "$O/x.dcm"
expect 4 "not a readable DICOM|truncated" kr encrypt "$I/empty.dcm" "$O/x.dcm"
expect 4 "truncated|premature|not a readable" kr encrypt "$I/truncated_header.dcm" "$O/x.dcm"
expect 4 "truncated|premature|not a readable" kr encrypt "$I/truncated_pixels.dcm" "$O/x.dcm"
for s in no_meta MR_truncated rtplan_truncated badVR SC_rgb_jpeg meta_missing_tsyntax; do
  cp "$PYDICOM/$s.dcm" "$I/$s.dcm"; expect 4 "DICOM|truncated|bytes|premature" kr encrypt "$I/$s.dcm" "$O/x.dcm"
done
cp "$PYDICOM/UN_sequence.dcm" "$I/"; expect 8 "nothing to protect|no pixel" kr encrypt "$I/UN_sequence.dcm" "$O/x.dcm"

/usr/bin/python3 "$SRC/make_fixtures.py" "$WORK/fx" || exit 1
expect 4 "Rows 65 x Columns 64 .* = 8320 bytes but Pixel Data 7FE00010 holds 8192" kr encrypt "$WORK/fx/bad_length.dcm" "$O/x.dcm"
expect 4 "High Bit 16 must be below Bits Allocated 16" kr encrypt "$WORK/fx/bad_highbit.dcm" "$O/x.dcm"
expect 4 "exceeds the 4 GiB" kr encrypt "$WORK/fx/bad_overflow.dcm" "$O/x.dcm"
expect 4 "Bits Allocated 12 is not supported" kr encrypt "$WORK/fx/bad_bits12.dcm" "$O/x.dcm"
expect 4 "Samples per Pixel 2 is not supported" kr encrypt "$WORK/fx/bad_spp2.dcm" "$O/x.dcm"
expect 4 "Rows \(0028,0010\) is missing" kr encrypt "$WORK/fx/bad_norows.dcm" "$O/x.dcm"

# Encrypted objects, then damaged copies.
E=$I/ct.enc.dcm
"$CM" --keyring "$WORK/kr" encrypt "$PYDICOM/CT_small.dcm" "$E" || { echo "FAIL: encrypt of CT_small"; exit 1; }
expect 5 "authentication failed" kr_wrong decrypt "$E" "$O/x.dcm"
expect 5 "authentication failed" kr_wrong verify "$E"
expect 3 "site" kr_other decrypt "$E" "$O/x.dcm"
expect 4 "not encrypted" kr decrypt "$PYDICOM/CT_small.dcm" "$O/x.dcm"
expect 4 "not encrypted" kr verify "$PYDICOM/CT_small.dcm"
cp "$PYDICOM/CT_small.dcm" "$I/same.dcm"; ln -f "$I/same.dcm" "$I/same_link.dcm"
expect 2 "same file" kr encrypt "$I/same.dcm" "$I/same_link.dcm"
rm -f "$I/same_link.dcm"

flip() { # flip one byte at offset $2 (negative: from the end) of a copy $1 -> $3
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read()); off = int(sys.argv[2])
data[off] ^= 0x01; open(sys.argv[3], "wb").write(data)
PY
}
flip "$E" -2000 "$I/pixel_byte.dcm"   # inside Pixel Data (CT_small ends with 126 bytes of trailing padding)
expect 5 "authentication failed" kr decrypt "$I/pixel_byte.dcm" "$O/x.dcm"
expect 5 "authentication failed" kr verify "$I/pixel_byte.dcm"
# one byte of the stored nonce, found by its value
NONCE_OFF=$(/usr/bin/python3 - "$E" <<'PY'
import sys
import pydicom
ds = pydicom.dcmread(sys.argv[1])
creator = next(e for e in ds if e.tag.group == 0x99 and e.tag.element < 0x100 and e.value == "CHAOSMASK 1")
nonce = ds[0x0099, (creator.tag.element << 8) | 0x05].value
print(open(sys.argv[1], "rb").read().index(nonce) + 7)
PY
)
flip "$E" "$NONCE_OFF" "$I/nonce_byte.dcm"
expect 5 "authentication failed" kr decrypt "$I/nonce_byte.dcm" "$O/x.dcm"
for change in "(0099,1003)=lorenz" "(0099,1006)=1.2.840.10008.1.2" "(0099,1007)=7FE00010\\60003000" "(0008,0018)=1.2.3.4"; do
  cp "$E" "$I/modified.dcm" && dcmodify -q -nb -m "$change" "$I/modified.dcm" || { echo "FAIL: dcmodify $change"; fails=$((fails+1)); continue; }
  echo "   (changed $change)"; expect 5 "authentication failed|changed data|lists disagree" kr decrypt "$I/modified.dcm" "$O/x.dcm"
done
cp "$E" "$I/missing_field.dcm" && dcmodify -q -nb -e "(0099,100c)" "$I/missing_field.dcm"
expect 5 "is missing" kr decrypt "$I/missing_field.dcm" "$O/x.dcm"

# Changes to what says how the pixels are read: authentication fails, never a wrong picture.
for change in "(0028,0103)=0" "(0028,0101)=11" "(0028,0004)=MONOCHROME1"; do
  cp "$E" "$I/geometry.dcm" && dcmodify -q -nb -m "$change" "$I/geometry.dcm" || { echo "FAIL: dcmodify $change"; fails=$((fails+1)); continue; }
  echo "   (changed $change)"; expect 5 "authentication failed" kr decrypt "$I/geometry.dcm" "$O/x.dcm"
done
# A second copy of the block (one would survive the decrypt and make plaintext look encrypted).
/usr/bin/python3 - "$E" "$I/two_blocks.dcm" <<'PY'
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
for el in list(ds):
    if el.tag.group == 0x99:
        e = el.tag.element
        new = (e + 0x0001) if e < 0x100 else (e + 0x0100)
        ds.add_new((0x0099, new), el.VR, el.value)
ds.save_as(sys.argv[2])
PY
expect 5 "more than one" kr decrypt "$I/two_blocks.dcm" "$O/x.dcm"
# The offset table of encapsulated data is authenticated (a changed table reorders frames).
cp "$PYDICOM/SC_rgb_rle_2frame.dcm" "$I/rle2.dcm"
"$CM" --keyring "$WORK/kr" encrypt "$I/rle2.dcm" "$I/rle2.enc.dcm" >/dev/null 2>&1 || { echo "FAIL: encrypt rle2"; fails=$((fails+1)); }
/usr/bin/python3 - "$I/rle2.enc.dcm" "$I/rle2_bot.dcm" <<'PY'
import sys, struct
data = bytearray(open(sys.argv[1], "rb").read())
i = data.index(bytes.fromhex("e07f1000"))            # Pixel Data, then OB, reserved, undefined length
item = data.index(bytes.fromhex("feff00e0"), i)       # the offset table item
n = struct.unpack_from("<I", data, item + 4)[0]
assert n == 8, n                                       # two frame offsets
a, b = struct.unpack_from("<II", data, item + 8)
struct.pack_into("<II", data, item + 8, b, a)          # swap them
open(sys.argv[2], "wb").write(data)
PY
expect 5 "authentication failed" kr decrypt "$I/rle2_bot.dcm" "$O/x.dcm"
# A clear object whose only sign of encryption is a creator string: refused, never "already
# encrypted" (that would leave the plaintext at rest).
cp "$PYDICOM/CT_small.dcm" "$I/forged.dcm" && dcmodify -q -nb -i "(0099,0010)=CHAOSMASK 1" "$I/forged.dcm"
expect 5 "does not authenticate" kr encrypt "$I/forged.dcm" "$O/x.dcm"

# Already encrypted (and authentic): said so, exit 0, OUT holds the object unchanged.
msg=$("$CM" --keyring "$WORK/kr" encrypt "$E" "$O/twice.dcm" 2>&1); rc=$?
if [ $rc -ne 0 ] || ! [ -e "$O/twice.dcm" ] || ! grep -q "already encrypted" <<<"$msg" ||
   ! "$CM" --keyring "$WORK/kr" verify "$O/twice.dcm" >/dev/null 2>&1; then
  echo "FAIL encrypt twice: exit $rc, '$msg'"; fails=$((fails+1))
else echo "ok encrypt twice -> exit 0: $msg"; fi

echo "bad input: $fails failure(s)"
[ $fails -eq 0 ]
