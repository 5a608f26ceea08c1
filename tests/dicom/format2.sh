#!/bin/bash
# format2.sh CHAOSMASK TESTTOOL SRCDIR WORKDIR - object format 2, as an attacker and as a PACS
# administrator would try it:
#   - every bound attribute changed (or added) after encryption: decrypt and verify refuse it
#     and name it (exit 5);
#   - patient identity changed: refused by default (exit 9), decrypted with an audit record
#     under `patient_identity = allow`, accepted again after `chaosmask rebind`;
#   - native transcoding (dcmconv +te/+tb/+td/+ti, also through a tool that turns the block
#     into UN) and lossless compression (dcmcrle, dcmcjpls, dcmcjpeg) after encryption: decrypt
#     gives the original pixels (also of 8-bit OB pixels and of an icon, which the decoders give
#     back as OW and compress along); lossy compression: its own message and exit 10;
#   - fail closed: the marks viewers show, the originals restored exactly; a stripped block is
#     refused by encrypt (exit 4) and named by decrypt; pixels that are a mask refused unless
#     --force; inspect names a damaged block field;
#   - 100,000 frames of 1x2 pixels round-trip exactly in a few segments;
#   - objects written by release 0.1.0 (format 1, testdata/format1) still decrypt exactly;
#   - a data set element inside a damaged meta header is kept, moved into the data set.
set -u
CM=$1 TOOL=$2 SRC=$3 WORK=$4
P=/usr/lib/python3/dist-packages/pydicom/data/test_files
F1=$SRC/../../testdata/format1
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
fails=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cm() { "$CM" --keyring "$WORK/kr" "$@"; }
cm keygen --id site -q || exit 1
pixels() { "$TOOL" pixelhash "$1"; }

# run WANT PATTERN COMMAND...: exit code and message checked
run() {
  local want=$1 pattern=$2; shift 2
  local msg rc; msg=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne "$want" ]; then fail "$*: exit $rc, expected $want ($msg)"; return 1; fi
  if ! grep -qE -- "$pattern" <<<"$msg"; then fail "$*: message '$msg' lacks /$pattern/"; return 1; fi
  ok "$* -> $rc: ${msg:0:160}"
}

cm encrypt -q "$P/CT_small.dcm" ct.enc.dcm || { fail "encrypt CT_small"; exit 1; }

echo "== bound attributes: each change is refused and named"
while IFS='|' read -r how tag value name; do
  cp ct.enc.dcm m.dcm
  dcmodify -q -nb "$how" "$tag=$value" m.dcm 2>/dev/null || { fail "dcmodify $how $tag"; continue; }
  run 5 "$name .*changed since encryption" cm decrypt m.dcm out.dcm
  run 5 "$name" cm verify m.dcm
  [ -e out.dcm ] && fail "output written for $tag"
done <<'EOF'
-m|(0008,0016)|1.2.840.10008.5.1.4.1.1.4|SOP Class UID \(0008,0016\)
-m|(0020,000D)|1.2.3.4.5|Study Instance UID \(0020,000D\)
-m|(0020,000E)|1.2.3.4.6|Series Instance UID \(0020,000E\)
-m|(0020,0052)|1.2.3.4.7|Frame of Reference UID \(0020,0052\)
-m|(0008,0060)|MR|Modality \(0008,0060\)
-m|(0028,1052)|0|Rescale Intercept \(0028,1052\)
-m|(0028,1053)|2|Rescale Slope \(0028,1053\)
-i|(0028,1054)|US|Rescale Type \(0028,1054\)
-m|(0028,0030)|1\1|Pixel Spacing \(0028,0030\)
-i|(0018,1164)|0.2\0.2|Imager Pixel Spacing \(0018,1164\)
-m|(0018,0050)|1|Slice Thickness \(0018,0050\)
-m|(0020,0032)|0\0\0|Image Position \(Patient\) \(0020,0032\)
-m|(0020,0037)|-1\0\0\0\1\0|Image Orientation \(Patient\) \(0020,0037\)
-i|(0020,0020)|L\P|Patient Orientation \(0020,0020\)
-i|(0020,0060)|R|Laterality \(0020,0060\)
-i|(0020,0062)|L|Image Laterality \(0020,0062\)
-i|(0028,0008)|1|Number of Frames \(0028,0008\)
-i|(0028,3000)[0].(0028,3006)|1\2\3|Modality LUT Sequence \(0028,3000\)
-i|(0040,9096)[0].(0040,9224)|0|Real World Value Mapping Sequence \(0040,9096\)
-i|(0028,1101)|256\0\16|Red Palette Color LUT Descriptor \(0028,1101\)
-i|(5200,9229)[0].(0028,9110)[0].(0028,0030)|1\1|Shared Functional Groups Sequence \(5200,9229\)
-i|(5200,9230)[0].(0020,9113)[0].(0020,0032)|0\0\0|Per-frame Functional Groups Sequence \(5200,9230\)
EOF

echo "== what is not bound: windowing and descriptions may change"
cp ct.enc.dcm w.dcm && dcmodify -q -nb -i "(0028,1050)=40" -i "(0028,1051)=400" -m "(0008,103E)=corrected" w.dcm
run 0 "" cm decrypt w.dcm w.out.dcm && [ "$(pixels w.out.dcm)" = "$(pixels "$P/CT_small.dcm")" ] && ok "pixels exact after a windowing change"

echo "== patient identity: refused by default, allowed by policy with an audit record, rebind"
for change in "(0010,0010)=Other^Patient" "(0010,0020)=OTHER-ID" "(0010,0030)=19000101" "(0010,0040)=F" \
              "(0008,0050)=ACC-9" "(0010,0021)=ISSUER"; do
  cp ct.enc.dcm id.dcm && dcmodify -q -nb -i "$change" id.dcm
  run 9 "patient identity changed since encryption: " cm decrypt id.dcm id.out.dcm
done
cp ct.enc.dcm id.dcm && dcmodify -q -nb -m "(0010,0020)=MERGED-42" id.dcm
printf '[keyring]\ndir = %s/kr\n[log]\naudit = %s/allow-audit.log\n[dicom]\npatient_identity = allow\n' "$WORK" "$WORK" >allow.ini
chmod 600 allow.ini
run 0 "" "$CM" --config allow.ini decrypt id.dcm id.allowed.dcm
grep -q '"detail": "patient identity changed since encryption: Patient ID (0010,0020)"' allow-audit.log &&
  ok "the allowed decryption is audited with what changed" || fail "audit line for an allowed identity change: $(tail -1 allow-audit.log)"
run 9 "Patient ID" cm verify id.dcm
run 0 "" cm rebind id.dcm
run 0 "" cm verify id.dcm
run 0 "" cm decrypt id.dcm id.rebound.dcm
dcmdump -q +P 0010,0020 id.rebound.dcm | grep -q MERGED-42 && [ "$(pixels id.rebound.dcm)" = "$(pixels "$P/CT_small.dcm")" ] &&
  ok "after rebind: the corrected identity and the original pixels" || fail "rebind round trip"
grep -q '"event": "rebind", "outcome": "ok"' audit.log && ok "rebind audited" || fail "no rebind audit line"

echo "== native transcoding after encryption keeps the object decryptable"
dcmconv +ti "$P/CT_small.dcm" ct_implicit.dcm && cm encrypt -q ct_implicit.dcm imp.enc.dcm
for opt in +te +tb +td +ti; do
  for src in ct.enc.dcm imp.enc.dcm; do
    dcmconv $opt "$src" t.dcm 2>/dev/null || { fail "dcmconv $opt $src"; continue; }
    run 0 "" cm decrypt t.dcm t.out.dcm && [ "$(pixels t.out.dcm)" = "$(pixels "$P/CT_small.dcm")" ] &&
      ok "dcmconv $opt of $src: original pixels" || fail "dcmconv $opt of $src: pixels differ"
    rm -f t.dcm t.out.dcm
  done
done
# implicit -> explicit by a tool without our dictionary: the block's fields come back as UN
dcmconv +te imp.enc.dcm un.dcm && dcmdump -q un.dcm | grep -q "(0099,1001) UN" &&
  ok "the block's fields are UN after dcmconv +te" || fail "expected UN fields after dcmconv +te"
run 0 "" cm decrypt un.dcm un.out.dcm
export DCMDICTPATH=/usr/share/libdcmtk17/dicom.dic:$SRC/../../dicom/chaosmask.dic
dcmdump -q ct.enc.dcm | grep -q "ChaosMaskBoundAttributes" && ok "dcmdump names the block's fields with chaosmask.dic" ||
  fail "dcmdump with chaosmask.dic"
unset DCMDICTPATH

echo "== lossless compression after encryption is undone by decoding; lossy is its own error"
for tool in "dcmcrle" "dcmcjpls" "dcmcjpeg"; do
  $tool ct.enc.dcm c.dcm 2>/dev/null || { fail "$tool"; continue; }
  msg=$(cm decrypt c.dcm c.out.dcm 2>&1); rc=$?
  if [ $rc -eq 0 ] && [ "$(pixels c.out.dcm)" = "$(pixels "$P/CT_small.dcm")" ] && grep -q "decoded from" <<<"$msg" &&
     [ "$(dcmdump -q -M +P 0002,0010 c.out.dcm)" = "$(dcmdump -q -M +P 0002,0010 "$P/CT_small.dcm")" ]; then
    ok "$tool (lossless) then decrypt: original pixels, native syntax ($msg)"
  else fail "$tool then decrypt: exit $rc ($msg)"; fi
  rm -f c.dcm c.out.dcm
done
# the decoders give 8-bit pixels back as OW (most writers store OB, which the tag covers) and
# compress an icon's pixels with the image's: both decrypt to the original data set
/usr/bin/python3 - ob8.dcm <<'PY'
import sys
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
m = FileMetaDataset(); m.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
m.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.1049.400.1"; m.TransferSyntaxUID = ExplicitVRLittleEndian
ds = FileDataset(None, {}, file_meta=m, preamble=b"\0" * 128)
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID = m.MediaStorageSOPClassUID, m.MediaStorageSOPInstanceUID
ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.1049.400.2", "1.2.826.0.1.3680043.10.1049.400.3"
ds.PatientName, ds.PatientID, ds.Modality = "Eight^Bit", "CM-OB8", "OT"
ds.Rows = ds.Columns = 16
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
ds.PixelData = bytes((i * 7) % 251 for i in range(256))
ds["PixelData"].VR = "OB"
ds.save_as(sys.argv[1], write_like_original=False)
PY
# an icon nested where the layout does not reach (in a Referenced Image Sequence item) stays in
# the clear and is compressed along with the image: the decode bound lets it through
/usr/bin/python3 - ob8.dcm nested.dcm <<'PY'
import sys, pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
ds = pydicom.dcmread(sys.argv[1])
ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.1049.400.4"
icon = Dataset()
icon.Rows = icon.Columns = 64
icon.SamplesPerPixel, icon.PhotometricInterpretation = 1, "MONOCHROME2"
icon.BitsAllocated, icon.BitsStored, icon.HighBit, icon.PixelRepresentation = 8, 8, 7, 0
icon.PixelData = bytes(i % 7 for i in range(64 * 64))
icon["PixelData"].VR = "OB"
ref = Dataset()
ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = ds.SOPClassUID, "1.2.826.0.1.3680043.10.1049.400.5"
ref.IconImageSequence = Sequence([icon])
ds.ReferencedImageSequence = Sequence([ref])
ds.save_as(sys.argv[2], write_like_original=False)
PY
dataset() { dcmdump -q +L "$1" | grep -v '^(0002,'; }
for src in ob8.dcm "$F1/mf5_icon.dcm" nested.dcm; do
  cm encrypt -q "$src" e.dcm || { fail "encrypt $src"; continue; }
  for tool in dcmcrle dcmcjpls dcmcjpeg; do
    rm -f c.dcm c.out.dcm
    $tool e.dcm c.dcm 2>/dev/null || { fail "$tool $src"; continue; }
    if cm decrypt -q c.dcm c.out.dcm && [ "$(dataset c.out.dcm)" = "$(dataset "$src")" ]; then
      ok "$(basename "$src"), encrypted, $tool, decrypted: the original data set (VRs and icon included)"
    else fail "$(basename "$src"), encrypted, $tool, decrypted: not the original"; fi
  done
  rm -f e.dcm
done
# a changed pixel description is refused before a decoder allocates what it declares: the
# streams' frame headers must be the image the attributes describe; with both changed, masked
# pixels do not compress (4096 x 4096 from CT_small's 32 KB) and decode to no more than the
# block records (twice the rows: within the compression bound)
dcmcjpeg ct.enc.dcm c.dcm 2>/dev/null
forge() { # forge IN OUT ROWS COLUMNS [frame header too]
  /usr/bin/python3 - "$@" <<'PY'
import sys, struct, pydicom
ds = pydicom.dcmread(sys.argv[1]); rows, cols = int(sys.argv[3]), int(sys.argv[4])
ds.Rows, ds.Columns = rows, cols
if len(sys.argv) > 5:
    px = bytearray(ds.PixelData); i = px.index(b"\xff\xc3")
    px[i + 5:i + 9] = struct.pack(">HH", rows, cols); ds.PixelData = bytes(px)
ds.save_as(sys.argv[2])
PY
}
forge c.dcm hdr.dcm 4096 4096
run 5 "frame header \(FFC3, 128 x 128.*not the image the attributes describe \(4096 x 4096" cm decrypt hdr.dcm o1.dcm
forge c.dcm big.dcm 4096 4096 sof
run 5 "masked pixels do not compress that far" cm decrypt big.dcm o2.dcm
forge c.dcm tall.dcm 256 128 sof
run 5 "would decode to 65536 bytes, more than the private block records" cm decrypt tall.dcm o3.dcm
# markers a decoder must not meet before authentication: TEM (DCMTK 3.6.7's bit-depth scan
# loops on it forever), and more scans than components (each one a pass over the image)
restream() { # restream IN OUT tem|scans
  /usr/bin/python3 - "$@" <<'PY'
import sys, pydicom
from pydicom.encaps import generate_pixel_data_frame, encapsulate
ds = pydicom.dcmread(sys.argv[1])
f = next(generate_pixel_data_frame(ds.PixelData, 1))
assert f[:2] == b"\xff\xd8" and f.rstrip(b"\0").endswith(b"\xff\xd9")
if sys.argv[3] == "tem":
    f = f[:2] + b"\xff\x01" + f[2:]
else:
    f = f.rstrip(b"\0")[:-2] + b"\xff\xda\x00\x08\x01\x01\x00\x01\x00\x00" * 3 + b"\xff\xd9"
ds.PixelData = encapsulate([f])
ds.save_as(sys.argv[2])
PY
}
restream c.dcm tem.dcm tem
run 5 "stream with marker FF01 where a decoder does not expect one" timeout 60 "$CM" --keyring "$WORK/kr" decrypt tem.dcm o4.dcm
restream c.dcm scans.dcm scans
run 5 "stream with more scans than the frame has components" cm decrypt scans.dcm o5.dcm
[ ! -e o1.dcm ] && [ ! -e o2.dcm ] && [ ! -e o3.dcm ] && [ ! -e o4.dcm ] && [ ! -e o5.dcm ] && ok "no output for any" ||
  fail "output written for a refused object"
rm -f c.dcm hdr.dcm big.dcm tall.dcm tem.dcm scans.dcm
dcmcjpeg +eb ct.enc.dcm lossy.dcm 2>/dev/null
run 10 "compressed lossily.*cannot be decrypted" cm decrypt lossy.dcm lossy.out.dcm
# encapsulated data re-labelled or transcoded after encryption: the masked fragments are gone
# (a decoder cannot read masked fragments, so what a PACS would do is re-label the syntax)
dcmcrle "$P/CT_small.dcm" ct_rle.dcm && cm encrypt -q ct_rle.dcm rle.enc.dcm &&
  /usr/bin/python3 -c 'import sys, pydicom
ds = pydicom.dcmread(sys.argv[1]); ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.80"; ds.save_as(sys.argv[2])' \
    rle.enc.dcm relabelled.dcm
run 10 "transcoded to JPEG-LS Lossless since.*cannot be decrypted" cm decrypt relabelled.dcm x.dcm

echo "== fail closed: the marks, their originals restored, stripped blocks, masks"
dcmdump -q ct.enc.dcm | grep -q "(0020,4000) LT \[CHAOSMASK ENCRYPTED" && dcmdump -q ct.enc.dcm | grep -q "(0008,0008) CS \[DERIVED" &&
  ok "Image Comments and Image Type say encrypted" || fail "marks missing"
cm decrypt -q ct.enc.dcm ct.dec.dcm && diff <(dcmdump -q "$P/CT_small.dcm") <(dcmdump -q ct.dec.dcm) >/dev/null &&
  ok "decrypt restores every element, marks included" || fail "decrypted dump differs"
cp ct.enc.dcm stripped.dcm
for e in $(dcmdump -q stripped.dcm | grep -o '^(0099,[0-9a-f]*)'); do dcmodify -q -nb -ea "$e" stripped.dcm; done
dcmdump -q stripped.dcm | grep -q '(0099,' && fail "block not stripped"
run 4 "says it was encrypted by ChaosMask \(Image Comments and Derivation Description\) but carries no ChaosMask private block" \
  cm encrypt stripped.dcm s.out.dcm
run 5 "says it is encrypted .* private block is gone" cm decrypt stripped.dcm s.out.dcm
dcmodify -q -nb -ea "(0020,4000)" -ea "(0008,2111)" stripped.dcm
run 4 "looks like a mask already" cm encrypt stripped.dcm s.out.dcm
run 0 "" cm encrypt --force stripped.dcm forced.dcm
cp ct.enc.dcm damaged.dcm && dcmodify -q -nb -ea "(0099,100e)" damaged.dcm
cm inspect damaged.dcm >inspect.txt 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "block damaged:.*ChaosMaskBoundDigests" inspect.txt && ok "inspect names the damaged field" ||
  fail "inspect of a damaged block: exit $rc $(cat inspect.txt)"
cm inspect --json damaged.dcm | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); assert "ChaosMaskBoundDigests" in j["block"]["damaged"]' &&
  ok "inspect --json names it too" || fail "inspect --json of a damaged block"

echo "== 100,000 frames of 1x2 pixels: a few segments, exact"
/usr/bin/python3 - tiny.dcm <<'PY'
import sys
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
meta = FileMetaDataset(); meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
meta.MediaStorageSOPInstanceUID = generate_uid(); meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 2, 1, "MONOCHROME2"
ds.BitsAllocated = ds.BitsStored = 8; ds.HighBit = 7; ds.PixelRepresentation = 0
ds.NumberOfFrames = 100000
ds.PixelData = bytes((i * 7) & 0xff for i in range(200000)); ds["PixelData"].VR = "OB"
ds.save_as(sys.argv[1], write_like_original=False)
PY
start=$(date +%s.%N)
cm encrypt -q tiny.dcm tiny.enc.dcm && cm decrypt -q tiny.enc.dcm tiny.dec.dcm && cmp -s tiny.dcm tiny.dec.dcm &&
  ok "100,000 tiny frames round trip, byte-identical ($(echo "$(date +%s.%N) - $start" | bc) s for both)" || fail "tiny frames round trip"
segs=$(cm inspect --json tiny.enc.dcm | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["segments"])')
[ "$segs" -le 4 ] && ok "grouped into $segs segments" || fail "tiny frames in $segs segments"

echo "== format-1 objects of release 0.1.0 still decrypt exactly"
mkdir -p ring1 && chmod 700 ring1 && cp "$F1/format1-test.key" ring1/ && chmod 600 ring1/format1-test.key
for f in "$F1"/*.f1.dcm; do
  b=$(basename "$f" .f1.dcm); orig=${b%%.*}
  src=$P/$orig.dcm; [ -e "$src" ] || src=$F1/$orig.dcm
  "$CM" --keyring ring1 decrypt -q "$f" f1.dcm || { fail "format 1 $b: decrypt"; continue; }
  "$TOOL" copy "$src" ref.dcm 2>/dev/null
  if cmp -s "$src" f1.dcm || cmp -s ref.dcm f1.dcm; then ok "format 1 $b: byte-identical"; else fail "format 1 $b differs"; fi
  rm -f f1.dcm ref.dcm
done

echo "== a damaged meta header holding a data set element: the element is kept, in the data set"
python3 - "$P/CT_small.dcm" meta_foreign.dcm <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[128:132] == b"DICM" and b[132:136] == b"\x02\x00\x00\x00"
length = struct.unpack("<I", b[140:144])[0]
value = b"Study in meta "
element = b"\x32\x00\x00\x40LT" + struct.pack("<H", len(value)) + value  # (0032,4000) Study Comments
open(sys.argv[2], "wb").write(b[:140] + struct.pack("<I", length + len(element)) + b[144:144 + length] + element +
                              b[144 + length:])
PY
if cm encrypt -q meta_foreign.dcm meta_foreign.enc.dcm && cm decrypt -q meta_foreign.enc.dcm meta_foreign.back.dcm; then
  [ "$(dcmdump +P 0032,4000 meta_foreign.back.dcm | grep -c 'Study in meta')" = 1 ] &&
    ! dcmdump meta_foreign.back.dcm 2>&1 | grep -q 'Invalid Element (0032,4000) found in Meta' &&
    [ "$(pixels meta_foreign.back.dcm)" = "$(pixels "$P/CT_small.dcm")" ] &&
    ok "encrypt and decrypt keep it, in the data set, with the original pixels" ||
    fail "the element of the meta header was lost or left there"
else
  fail "encrypt or decrypt of a meta header holding a data set element"
fi

echo "format 2: $fails failure(s)"
[ $fails -eq 0 ]
