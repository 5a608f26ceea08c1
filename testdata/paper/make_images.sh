#!/bin/sh
# make_images.sh - the three medical images of `chaosmask paper`, made from Debian's
# python3-pydicom sample files with DCMTK's dcmj2pnm (min-max VOI window, 8-bit gray PNG,
# scaled to 300 x 300).  The other three images of the set are phantoms that `chaosmask paper`
# generates itself.  Run from anywhere: ./testdata/paper/make_images.sh [SAMPLES_DIR]
# Needs: dcmtk (dcmj2pnm), python3-pydicom (only for its data files).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
samples=${1:-/usr/lib/python3/dist-packages/pydicom/data/test_files}
for f in CT_small.dcm MR_small.dcm JPGExtended.dcm; do
    [ -r "$samples/$f" ] || { echo "make_images.sh: $samples/$f not found (apt-get install python3-pydicom)" >&2; exit 1; }
done
png() { dcmj2pnm --write-png --nointerlace --meta-none --min-max-window "$@"; }
# CT, 128 x 128, 16-bit -> 300 x 300
png --scale-x-size 300 "$samples/CT_small.dcm" "$here/ct_small_300.png"
# MR, 64 x 64, 16-bit -> 300 x 300
png --scale-x-size 300 "$samples/MR_small.dcm" "$here/mr_small_300.png"
# NM whole-body bone scan, 256 x 1024 (JPEG extended): the torso, 256 x 256 -> 300 x 300
# (dcmj2pnm cannot clip and interpolate at once: nearest-neighbour scaling here)
png --no-interpolation --clip-region 0 150 256 256 --scale-x-size 300 "$samples/JPGExtended.dcm" "$here/nm_bonescan_300.png"
echo "wrote $here/ct_small_300.png $here/mr_small_300.png $here/nm_bonescan_300.png"
