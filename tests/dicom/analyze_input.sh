#!/bin/bash
# `chaosmask analyze` on DICOM input: native 16-bit signed CT, RLE, JPEG RGB are decoded and
# analysed (exact recovery, right geometry); JPEG 2000 and encrypted objects are refused with
# exit 4 and a message saying why.  usage: analyze_input.sh CHAOSMASK WORKDIR
set -u
CM=$1 WORK=$2
P=/usr/lib/python3/dist-packages/pydicom/data/test_files
rm -rf "$WORK" && mkdir -p "$WORK"
fail=0
check() { # name file width height channels bits
  local out="$WORK/$1"
  if ! "$CM" analyze "$P/$2" --out "$out" --json >"$out.json" 2>"$out.err"; then
    echo "FAILED: analyze $2: $(cat "$out.err")"; fail=1; return
  fi
  /usr/bin/python3 - "$out.json" "$3" "$4" "$5" "$6" <<'PY' || { echo "FAILED: $2 metrics"; fail=1; return; }
import json, sys
j = json.load(open(sys.argv[1]))
w, h, c, b = map(int, sys.argv[2:6])
assert (j["width"], j["height"], j["channels"], j["bits"]) == (w, h, c, b), j
assert j["lossless"] is True and j["psnr_recovered"] == "inf", (j["lossless"], j["psnr_recovered"])
assert j["entropy_cipher"] > j["entropy_plain"], (j["entropy_cipher"], j["entropy_plain"])
PY
  [ -s "$out/plain.png" ] && [ -s "$out/cipher.png" ] || { echo "FAILED: $2 images"; fail=1; return; }
  echo "ok: $2 (${3}x$4, $5 x $6-bit)"
}
check ct CT_small.dcm 128 128 1 16
check rle MR_small_RLE.dcm 64 64 1 16
check jpeg SC_rgb_jpeg_dcmtk.dcm 100 100 3 8

refuse() { # name file expected-message
  "$CM" analyze "$2" --out "$WORK/$1" >/dev/null 2>"$WORK/$1.err"
  local rc=$?
  if [ $rc -eq 4 ] && grep -q "$3" "$WORK/$1.err"; then echo "ok: $1 refused"; else
    echo "FAILED: $1: exit $rc, $(cat "$WORK/$1.err")"; fail=1; fi
}
refuse jp2k "$P/MR_small_jp2klossless.dcm" "cannot decode"
mkdir -p "$WORK/kr"
"$CM" keygen --keyring "$WORK/kr" >/dev/null
"$CM" --keyring "$WORK/kr" encrypt "$P/CT_small.dcm" "$WORK/ct.enc.dcm" || fail=1
refuse encrypted "$WORK/ct.enc.dcm" "decrypt it first"
exit $fail
