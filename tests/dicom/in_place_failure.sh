#!/bin/bash
# in_place_failure.sh CHAOSMASK SRCDIR WORKDIR - a write that fails half-way leaves IN exactly as
# it was and no temporary file behind: (1) a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored,
# so write(2) fails with EFBIG) for encrypt and decrypt --in-place and for OUT; (2) as root, a
# full disk: a 1.5 MiB tmpfs holding a 1 MiB object.  Then the successful --in-place path
# keeps the file's permissions.
set -u
CM=$1 SRC=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK/d" || exit 1
fails=0
cm() { "$CM" --keyring "$WORK/kr" "$@"; }
cm keygen --id site >/dev/null || exit 1
/usr/bin/python3 "$SRC/make_fixtures.py" "$WORK/fx" >/dev/null || exit 1
BIG=$WORK/fx/gen_mf16s.dcm            # 1 MiB of pixels, 8 frames
cp "$BIG" "$WORK/d/clear.dcm"
cm encrypt "$BIG" "$WORK/d/enc.dcm" || { echo "FAIL: plain encrypt"; exit 1; }

# check NAME DIR FILE COMMAND...: the command must fail with exit 6, FILE unchanged, no temp.
check() {
  local name=$1 dir=$2 file=$3; shift 3
  local before; before=$(md5sum <"$file")
  local msg; msg=$("$@" 2>&1); local rc=$?
  if [ $rc -ne 6 ]; then echo "FAIL $name: exit $rc, expected 6 ($msg)"; fails=$((fails+1));
  elif [ "$(md5sum <"$file")" != "$before" ]; then echo "FAIL $name: IN changed"; fails=$((fails+1));
  elif ls -A "$dir" | grep -q 'chaosmask-'; then echo "FAIL $name: temporary file left"; fails=$((fails+1));
  else echo "ok $name -> exit 6: $msg"; fi
}
limited() { ( ulimit -f 256; trap '' XFSZ; "$@" ); }   # 256 KiB

check "encrypt --in-place, file size limit" "$WORK/d" "$WORK/d/clear.dcm" limited cm encrypt --in-place "$WORK/d/clear.dcm"
check "decrypt --in-place, file size limit" "$WORK/d" "$WORK/d/enc.dcm" limited cm decrypt --in-place "$WORK/d/enc.dcm"
check "encrypt IN OUT, file size limit" "$WORK/d" "$WORK/d/clear.dcm" limited cm encrypt "$WORK/d/clear.dcm" "$WORK/d/out.dcm"
[ -e "$WORK/d/out.dcm" ] && { echo "FAIL: OUT created after a failed write"; fails=$((fails+1)); }

if [ "$(id -u)" = 0 ] && mkdir -p "$WORK/mnt" && mount -t tmpfs -o size=1536k chaosmask-test "$WORK/mnt" 2>/dev/null; then
  cp "$BIG" "$WORK/mnt/clear.dcm" 2>/dev/null
  check "encrypt --in-place, full disk (tmpfs)" "$WORK/mnt" "$WORK/mnt/clear.dcm" cm encrypt --in-place "$WORK/mnt/clear.dcm"
  cmp -s "$BIG" "$WORK/mnt/clear.dcm" || { echo "FAIL: IN differs from the original after the full-disk failure"; fails=$((fails+1)); }
  rm -f "$WORK/mnt/clear.dcm"; cp "$WORK/d/enc.dcm" "$WORK/mnt/enc.dcm"
  check "decrypt --in-place, full disk (tmpfs)" "$WORK/mnt" "$WORK/mnt/enc.dcm" cm decrypt --in-place "$WORK/mnt/enc.dcm"
  umount "$WORK/mnt"
else
  echo "note: not root or tmpfs not mountable here; the full-disk case is covered by the file-size limit only"
fi

# The successful path: atomic replacement, permissions kept, round trip exact.
cp "$BIG" "$WORK/d/ok.dcm" && chmod 0640 "$WORK/d/ok.dcm"
if cm encrypt --in-place "$WORK/d/ok.dcm" && [ "$(stat -c %a "$WORK/d/ok.dcm")" = 640 ] && ! cmp -s "$BIG" "$WORK/d/ok.dcm" &&
   cm decrypt --in-place "$WORK/d/ok.dcm" && cmp -s "$BIG" "$WORK/d/ok.dcm"; then
  echo "ok --in-place round trip: byte-identical, mode 0640 kept"
else echo "FAIL --in-place round trip"; fails=$((fails+1)); fi

# In place through a symlink: the file behind the link is replaced, the link stays a link.
mkdir -p "$WORK/real" "$WORK/arch" && cp "$BIG" "$WORK/real/s.dcm" && ln -sf ../real/s.dcm "$WORK/arch/s.dcm"
if cm encrypt --in-place "$WORK/arch/s.dcm" && [ -L "$WORK/arch/s.dcm" ] && ! cmp -s "$BIG" "$WORK/real/s.dcm" &&
   cm decrypt --in-place "$WORK/arch/s.dcm" && [ -L "$WORK/arch/s.dcm" ] && cmp -s "$BIG" "$WORK/real/s.dcm"; then
  echo "ok --in-place through a symlink: the real file masked and restored, the link kept"
else echo "FAIL --in-place through a symlink"; fails=$((fails+1)); fi

echo "in place: $fails failure(s)"
[ $fails -eq 0 ]
