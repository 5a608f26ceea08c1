#!/bin/bash
# corpus.sh CHAOSMASK TESTTOOL SRCDIR WORKDIR - the corpus round trip of issue 4.
# Every file of pydicom's test_files and every generated fixture (made here with DCMTK's
# dcmconv/dcmcjpeg/dcmcjpls/dcmcrle, gdcmconv and tests/dicom/make_fixtures.py) is encrypted
# and decrypted; for each:
#   encrypt: >= 99 % of the bytes of every protected element >= 1 KiB changed; dcmdump
#            outside the protected values and the private block unchanged; transfer syntax
#            unchanged; dciodvfy reports no error the original did not have; verify passes;
#   decrypt: dcmdump identical to the original (or, where DCMTK itself normalises the file,
#            to DCMTK's own load+save of it), pixel hash identical, and the file byte-identical
#            to the original or, when DCMTK rewrites the original differently, to that rewrite.
# Files that must be refused (broken samples, objects without pixels) are listed with the
# reason; any other refusal fails the test.
set -u
CM=$1 TOOL=$2 SRC=$3 WORK=$4
PYDICOM=/usr/lib/python3/dist-packages/pydicom/data/test_files
rm -rf "$WORK" && mkdir -p "$WORK/fx" "$WORK/out" "$WORK/kr" || exit 1
export CM_TEST_KEYRING=$WORK/kr
cm() { "$CM" --keyring "$WORK/kr" "$@"; }
cm keygen --id corpus >/dev/null || { echo "keygen failed"; exit 1; }

# Expected refusals: name -> why (exit 4, nothing written).
declare -A REFUSED=(
  [ExplVR_BigEndNoMeta]="no File Meta Information (not Part 10)"
  [ExplVR_LitEndNoMeta]="no File Meta Information (not Part 10)"
  [no_meta]="no File Meta Information (not Part 10)"
  [rtstruct]="no File Meta Information (not Part 10)"
  [meta_missing_tsyntax]="File Meta Information without Transfer Syntax UID"
  [MR_truncated]="truncated Pixel Data"
  [rtplan_truncated]="truncated"
  [SC_rgb_jpeg]="unparsable (broken explicit VR)"
  [badVR]="Pixel Data length inconsistent with Rows x Columns x Bits"
  [MR_small_padded]="Pixel Data longer than Rows x Columns x Bits (trailing padding)"
  [nested_priv_SQ]="Pixel Data without Rows/Columns"
  [UN_sequence]="no pixel-bearing element"
  [empty_charset_LEI]="no pixel-bearing element"
  [no_meta_group_length]="no pixel-bearing element"
  [priv_SQ]="no pixel-bearing element"
  [reportsi]="no pixel-bearing element"
  [reportsi_with_empty_number_tags]="no pixel-bearing element"
  [rtplan]="no pixel-bearing element"
  [test-SR]="no pixel-bearing element"
)

# --- generated fixtures -------------------------------------------------------------------
FX=$WORK/fx
/usr/bin/python3 "$SRC/make_fixtures.py" "$FX" || { echo "make_fixtures.py failed"; exit 1; }
rm -f "$FX"/bad_*.dcm
CT=$PYDICOM/CT_small.dcm RGB=$PYDICOM/SC_rgb.dcm
[ -f "$RGB" ] || RGB=$PYDICOM/SC_rgb_small_odd.dcm
MF=$FX/gen_mf16s.dcm MF8=$FX/gen_rgb_mf.dcm
make() { local out=$1; shift; "$@" >/dev/null 2>&1 && [ -s "$out" ] || { echo "fixture $out: '$*' failed"; rm -f "$out"; }; }
make "$FX/ct_implicit.dcm" dcmconv +ti "$CT" "$FX/ct_implicit.dcm"
make "$FX/ct_bigendian.dcm" dcmconv +tb "$CT" "$FX/ct_bigendian.dcm"
make "$FX/ct_deflate.dcm" dcmconv +td "$CT" "$FX/ct_deflate.dcm"
make "$FX/ct_jpeg_lossless.dcm" dcmcjpeg "$CT" "$FX/ct_jpeg_lossless.dcm"
make "$FX/ct_jpegls.dcm" dcmcjpls "$CT" "$FX/ct_jpegls.dcm"
make "$FX/ct_rle.dcm" dcmcrle "$CT" "$FX/ct_rle.dcm"
make "$FX/mf16_rle.dcm" dcmcrle "$MF" "$FX/mf16_rle.dcm"
make "$FX/mf16_jpeg_lossless.dcm" dcmcjpeg "$MF" "$FX/mf16_jpeg_lossless.dcm"
make "$FX/mf16_jpegls.dcm" dcmcjpls "$MF" "$FX/mf16_jpegls.dcm"
make "$FX/mf16_bigendian.dcm" dcmconv +tb "$MF" "$FX/mf16_bigendian.dcm"
make "$FX/rgb_jpeg_baseline.dcm" dcmcjpeg +eb "$MF8" "$FX/rgb_jpeg_baseline.dcm"
make "$FX/rgb_jpeg_extended.dcm" dcmcjpeg +ee "$MF8" "$FX/rgb_jpeg_extended.dcm"
make "$FX/rgb_jpegls_near.dcm" dcmcjpls +en "$MF8" "$FX/rgb_jpegls_near.dcm"
make "$FX/rgb_rle.dcm" dcmcrle "$MF8" "$FX/rgb_rle.dcm"
make "$FX/overlay_icon_implicit.dcm" dcmconv +ti "$FX/gen_mf16_overlay_icon.dcm" "$FX/overlay_icon_implicit.dcm"
make "$FX/overlay_icon_bigendian.dcm" dcmconv +tb "$FX/gen_mf16_overlay_icon.dcm" "$FX/overlay_icon_bigendian.dcm"
if command -v gdcmconv >/dev/null; then
  make "$FX/ct_j2k.dcm" gdcmconv --j2k "$CT" "$FX/ct_j2k.dcm"
  make "$FX/rgb_j2k.dcm" gdcmconv --j2k "$MF8" "$FX/rgb_j2k.dcm"
else
  echo "note: gdcmconv not installed (libgdcm-tools): no JPEG 2000 fixtures"
fi
cp "$CT" "$FX/ct_renamed.dcm" && dcmodify -nb -gin "$FX/ct_renamed.dcm" >/dev/null 2>&1   # fresh SOP Instance UID

# --- the checks ---------------------------------------------------------------------------
# dcmdump without the protected values, the pixel items, the private block and the attributes
# that mark an object as encrypted (Image Type, Derivation Description, Image Comments: their
# originals are in the block and come back on decryption, which the round trip checks).
dump_outside() {
  dcmdump -q "$1" 2>/dev/null | grep -Eiv '\((0099),|\((7fe0),(0008|0009|0010)\)|\(60[01][0-9a-f],3000\)|\(5400,1010\)|\(fffe,e000\) pi|\((0008,0008|0008,2111|0020,4000)\)'
}
xfer() { dcmdump -q -M +P 0002,0010 "$1" 2>/dev/null; }
# dciodvfy cannot read the deflated transfer syntax (it parses the compressed bytes as tags,
# so its "errors" would follow the cipher bytes): validate an inflated copy instead.
dciodvfy_errors() {
  command -v dciodvfy >/dev/null || return 0
  local f=$1
  if xfer "$f" | grep -q Deflated; then
    f="$WORK/out/inflated.dcm"
    dcmconv +te "$1" "$f" 2>/dev/null || { echo "Error - dcmconv could not inflate"; return 0; }
  fi
  dciodvfy "$f" 2>&1 | grep -E '^Error' | sed 's/ - (0x0099,0x[0-9a-f]*)//' | sort -u
}

pass=0 fail=0 refused=0
failmsg() { echo "FAIL $NAME: $*"; ok=0; }
check() {
  local f=$1; NAME=$(basename "$f" .dcm); ok=1
  local E="$WORK/out/$NAME.enc.dcm" D="$WORK/out/$NAME.dec.dcm" R="$WORK/out/$NAME.ref.dcm"
  local msg; msg=$(cm encrypt "$f" "$E" 2>&1); local rc=$?
  if [ $rc -ne 0 ]; then
    local want=4
    [ "${REFUSED[$NAME]:-}" = "no pixel-bearing element" ] && want=8   # nothing to protect has its own code
    if [ -n "${REFUSED[$NAME]:-}" ] && [ $rc -eq $want ] && [ ! -e "$E" ]; then
      echo "refused $NAME (expected: ${REFUSED[$NAME]}): ${msg#chaosmask encrypt: }"; refused=$((refused+1)); return
    fi
    failmsg "encrypt exit $rc: $msg"; fail=$((fail+1)); return
  fi
  [ -n "${REFUSED[$NAME]:-}" ] && failmsg "expected a refusal (${REFUSED[$NAME]}) but it was encrypted"
  local changed; changed=$("$TOOL" changed "$f" "$E") || failmsg "protected bytes not changed enough:"$'\n'"$changed"
  [ "$(xfer "$f")" = "$(xfer "$E")" ] || failmsg "transfer syntax changed"
  "$TOOL" copy "$f" "$R" 2>/dev/null || failmsg "reference rewrite failed"
  # DCMTK normalises a few values of some samples (padding inside CS values); the encrypted
  # file must then match DCMTK's own rewrite of the original.
  diff <(dump_outside "$f") <(dump_outside "$E") >"$WORK/out/$NAME.diff" ||
    diff <(dump_outside "$R") <(dump_outside "$E") >"$WORK/out/$NAME.diff" ||
    failmsg "dcmdump outside protected values differs: $(head -5 "$WORK/out/$NAME.diff")"
  local new_err; new_err=$(comm -13 <(dciodvfy_errors "$f") <(dciodvfy_errors "$E"))
  [ -z "$new_err" ] || failmsg "dciodvfy reports new errors: $new_err"
  cm verify "$E" >/dev/null 2>&1 || failmsg "verify failed"
  msg=$(cm decrypt "$E" "$D" 2>&1) || { failmsg "decrypt: $msg"; fail=$((fail+1)); return; }
  local how
  if diff -q <(dcmdump -q "$f" 2>/dev/null) <(dcmdump -q "$D" 2>/dev/null) >/dev/null; then how="dcmdump identical"
  elif diff -q <(dcmdump -q "$R" 2>/dev/null) <(dcmdump -q "$D" 2>/dev/null) >/dev/null; then how="dcmdump identical to DCMTK's rewrite"
  else failmsg "dcmdump after decrypt differs: $(diff <(dcmdump -q "$f" 2>/dev/null) <(dcmdump -q "$D" 2>/dev/null) | head -6)"; fi
  [ "$("$TOOL" pixelhash "$f")" = "$("$TOOL" pixelhash "$D")" ] || failmsg "pixel hash differs"
  if command -v gdcminfo >/dev/null; then
    local m1 m2; m1=$(gdcminfo --md5sum "$f" 2>/dev/null | grep -i md5sum); m2=$(gdcminfo --md5sum "$D" 2>/dev/null | grep -i md5sum)
    [ "$m1" = "$m2" ] || failmsg "gdcminfo --md5sum differs ($m1 / $m2)"
  fi
  if cmp -s "$f" "$D"; then how="$how, byte-identical"
  elif cmp -s "$R" "$D"; then how="$how, byte-identical to DCMTK's rewrite"
  else failmsg "decrypted file differs from DCMTK's own load+save"; fi
  if [ $ok -eq 1 ]; then
    pass=$((pass+1)); echo "ok $NAME: $how"; echo "$changed"
  else fail=$((fail+1)); fi
}

for f in "$PYDICOM"/*.dcm "$FX"/*.dcm; do check "$f"; done
echo "corpus: $pass passed, $refused refused as expected, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 40 ]
