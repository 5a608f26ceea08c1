#!/bin/bash
# test_io_failure.sh CHAOSMASK_IOFAIL CHAOSMASK MAKE_PHANTOM WORKDIR - every writer of ChaosMask
# when the disk fails under it.  CHAOSMASK_IOFAIL is the `chaosmask` command linked with
# iofail.c, which fails the N-th write, fsync, fdatasync, syncfs, rename, close, fwrite, fflush
# or fclose on a file of the work directory (EIO; ENOSPC and short writes too for write and
# fwrite).  For each writer the calls of one successful run are counted, then every one of
# them (of more than 8 calls of a kind, a spread of about 10) is failed in turn, each time on a
# fresh copy of the work directory:
#   encrypt IN OUT, decrypt IN OUT, encrypt --in-place, migrate rekey (in place), keygen
#   --activate, migrate encrypt --out (a mirror) and in place, analyze (the research outputs),
#   and the audit log, which every one of them but keygen and analyze writes.
# After every failure: a non-zero exit with a "chaosmask ...:" message (or success when the
# failure was recovered, e.g. a short write that is completed); no temporary file
# (.NAME.chaosmask-XXXXXX) anywhere; the inputs byte for byte as they were; an output either
# absent (or, in place, the original) or complete and correct (decrypts to the original, or
# equals a reference run).  Two exceptions, by design: encrypt and rekey record their outcome
# after the output is written, so when only the record fails the command fails with a complete
# output; keygen --activate may fail after the key file is written and leave the old key active.
# Migrations are then run again with --resume and must finish every file correctly; when a
# syncfs failed, the journal must not hold a file of that batch (70 files: the commit after the
# first 64 fails, the one at the end must not commit them either).  After a failed write the
# audit log still takes the next record as a line of its own.
set -u
CMI=$1 CM=$2 PHANTOM=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
WORK=$(realpath "$WORK")
P=$WORK/pristine C=$WORK/case
SAMPLES=$(/usr/bin/python3 -c 'import os, pydicom; print(os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files"))')
fails=0 runs=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# ---- the pristine work directory ----
mkdir -p "$P"/{in,out,rk,mig,mip,an} "$WORK/many"
cat >"$WORK/setup.ini" <<EOF
[keyring]
dir = $P/ring
[log]
audit =
EOF
chmod 600 "$WORK/setup.ini"
setup() { "$CM" --config "$WORK/setup.ini" -q "$@"; }
setup keygen --id k1 >/dev/null || exit 1
cp "$SAMPLES/CT_small.dcm" "$P/in/a.dcm"
cp "$SAMPLES/MR_small.dcm" "$P/in/b.dcm"
setup encrypt "$P/in/a.dcm" "$P/in/s.enc" || exit 1
setup encrypt "$SAMPLES/CT_small.dcm" "$P/rk/r1.enc" || exit 1
setup encrypt "$SAMPLES/MR_small.dcm" "$P/rk/r2.enc" || exit 1
setup keygen --id k2 --activate >/dev/null || exit 1
cp "$SAMPLES/CT_small.dcm" "$P/mig/m1.dcm"
cp "$SAMPLES/MR_small.dcm" "$P/mig/m2.dcm"
cp "$SAMPLES/rtdose_1frame.dcm" "$P/mig/m3.dcm"
cp "$P/mig"/*.dcm "$P/mip/"
for i in $(seq -w 1 70); do cp "$SAMPLES/rtdose_1frame.dcm" "$WORK/many/f$i.dcm"; done # copied in for its own test
"$PHANTOM" shepp-logan 32 8 "$P/an/p.png" || exit 1
cat >"$P/chaosmask.ini" <<EOF
[keyring]
dir = $C/ring
[log]
audit = $C/audit.log
level = error
[engine]
threads = 1
EOF
chmod 600 "$P/chaosmask.ini"
original() { # the original of a file of the work directory
  case "${1##*/}" in
    a.dcm | s.enc | r1.enc | m1.dcm) echo "$SAMPLES/CT_small.dcm" ;;
    b.dcm | r2.enc | m2.dcm) echo "$SAMPLES/MR_small.dcm" ;;
    *) echo "$SAMPLES/rtdose_1frame.dcm" ;;
  esac
}

reset_case() { rm -rf "$C" && cp -a "$P" "$C"; }
cm() { "$CM" --config "$C/chaosmask.ini" -q "$@"; }
# decrypts_to FILE ORIGINAL [KEY]: FILE is encrypted (under KEY) and decrypts to ORIGINAL
decrypts_to() {
  rm -f "$WORK/back.dcm"
  cm decrypt "$1" "$WORK/back.dcm" 2>/dev/null && cmp -s "$WORK/back.dcm" "$2" || return 1
  [ -z "${3:-}" ] || cm inspect --json "$1" | grep -q "\"key_id\": *\"$3\""
}
unchanged() { cmp -s "$C/$1" "$P/$1"; }
temporaries() { find "$C" -name '.*.chaosmask-*' | head -3; }
audit_takes_next_line() { # a record after the failure is a line of its own
  [ -f "$C/audit.log" ] || return 0
  cm verify "$C/in/s.enc" >/dev/null 2>&1 || return 1
  tail -n 1 "$C/audit.log" | /usr/bin/python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); sys.exit(r["event"] != "verify")'
}

# ---- the checks, one per writer: RC ERR WHAT (the failure), after the failing run ----
check_encrypt() {
  unchanged in/a.dcm || fail "$3: the input changed"
  if [ -e "$C/out/a.enc" ]; then
    decrypts_to "$C/out/a.enc" "$SAMPLES/CT_small.dcm" || fail "$3: a broken output"
    [ "$1" -eq 0 ] || grep -q "audit log" <<<"$2" || fail "$3: failed ($2) but left an output"
  elif [ "$1" -eq 0 ]; then
    fail "$3: success without an output"
  fi
}
check_decrypt() {
  unchanged in/s.enc || fail "$3: the input changed"
  if [ -e "$C/out/a.dcm" ]; then
    [ "$1" -eq 0 ] || fail "$3: failed ($2) but left a decrypted file"
    cmp -s "$C/out/a.dcm" "$SAMPLES/CT_small.dcm" || fail "$3: a wrong output"
  elif [ "$1" -eq 0 ]; then
    fail "$3: success without an output"
  fi
}
check_in_place() {
  if unchanged in/b.dcm; then
    [ "$1" -ne 0 ] || fail "$3: success, but the file was not encrypted"
  else
    decrypts_to "$C/in/b.dcm" "$SAMPLES/MR_small.dcm" || fail "$3: the file is neither the original nor its encryption"
    [ "$1" -eq 0 ] || grep -qE "audit log|replaced, but" <<<"$2" || fail "$3: failed ($2) but replaced the file"
  fi
}
check_rekey() {
  for f in r1 r2; do
    unchanged "rk/$f.enc" && continue
    decrypts_to "$C/rk/$f.enc" "$(original $f.enc)" k2 || fail "$3: rk/$f.enc is neither the original nor rekeyed"
  done
  [ "$1" -eq 0 ] || { cm migrate rekey "$C/rk" --journal "$C/rk.journal" --resume >/dev/null 2>&1 ||
                      fail "$3: the resumed rekey failed"; }
  for f in r1 r2; do
    decrypts_to "$C/rk/$f.enc" "$(original $f.enc)" k2 || fail "$3: after --resume, rk/$f.enc is not rekeyed"
  done
}
check_keygen() {
  local key=$C/ring/k3.key active
  active=$(cat "$C/ring/active")
  if [ -e "$key" ]; then
    grep -qxE '[0-9a-f]{64}' "$key" && [ "$(stat -c %a "$key")" = 600 ] || fail "$3: a broken key file"
  else
    [ "$1" -ne 0 ] || fail "$3: success without a key file"
  fi
  case "$active" in
    k2) [ "$1" -ne 0 ] || fail "$3: success, but k3 is not active" ;;
    k3) [ -e "$key" ] || fail "$3: k3 active without its key file" ;;
    *) fail "$3: the active file holds '$active'" ;;
  esac
}
# mirror check: DIR MIRROR, every file present in MIRROR decrypts to its original
mirror_ok() {
  local f ok=0
  for f in "$C/$1"/*.dcm; do
    local m=$C/$2/${f##*/}
    [ -e "$m" ] || { [ "${3:-}" = all ] && ok=1; continue; }
    decrypts_to "$m" "$(original "$f")" || ok=1
  done
  return $ok
}
check_migrate_out() { # also for the 70 files: $4 = the folder
  local dir=${4:-mig} j=$C/${4:-mig}.journal out
  for f in "$P/$dir"/*.dcm; do cmp -s "$f" "$C/$dir/${f##*/}" || fail "$3: $dir/${f##*/} changed"; done
  mirror_ok "$dir" mirror || fail "$3: a broken file in the mirror"
  [ "$1" -eq 0 ] && return
  out=$(cm migrate encrypt "$C/$dir" --out "$C/mirror" --journal "$j" --resume --json 2>&1) ||
    fail "$3: the resumed migration failed: $(tail -2 <<<"$out")"
  mirror_ok "$dir" mirror all || fail "$3: after --resume, the mirror is incomplete or broken"
  if [[ $3 == syncfs:* ]]; then # only the files committed before the failed flush come from the journal
    local unrecorded total journaled
    unrecorded=$(sed -n 's/.*the journal does not record the last \([0-9]*\) files.*/\1/p' <<<"$2")
    total=$(ls "$C/$dir"/*.dcm | wc -l)
    journaled=$(grep -cE '"from_journal": *true' <<<"$out")
    [ -n "$unrecorded" ] && [ "$journaled" -eq $((total - unrecorded)) ] ||
      fail "$3: $journaled files came from the journal after a failed flush that left ${unrecorded:-?} of $total unrecorded"
  fi
}
check_migrate_in_place() {
  local f
  for f in "$C"/mip/*.dcm; do
    unchanged "mip/${f##*/}" || decrypts_to "$f" "$(original "$f")" || fail "$3: mip/${f##*/} is broken"
  done
  [ "$1" -eq 0 ] || cm migrate encrypt "$C/mip" --journal "$C/mip.journal" --resume >/dev/null 2>&1 ||
    fail "$3: the resumed migration failed"
  for f in "$C"/mip/*.dcm; do
    decrypts_to "$f" "$(original "$f")" || fail "$3: after --resume, mip/${f##*/} is not encrypted"
  done
}
check_analyze() {
  local f
  unchanged an/p.png || fail "$3: the input changed"
  for f in "$C"/an/out/*; do
    [ -e "$f" ] || continue
    case "${f##*/}" in # the tables and the report hold the run's timing: complete, not equal
      metrics.json) /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null ||
                      fail "$3: a cut metrics.json" ;;
      metrics.csv) [ "$(awk -F, '{print NF}' "$f")" = "$(awk -F, '{print NF}' "$WORK/reference/metrics.csv")" ] ||
                     fail "$3: a cut metrics.csv" ;;
      report.html) [ "$(tail -c 15 "$f")" = "</body></html>" ] && [ "$(wc -l <"$f")" = "$(wc -l <"$WORK/reference/report.html")" ] ||
                     fail "$3: a cut report.html" ;;
      *) cmp -s "$f" "$WORK/reference/${f##*/}" || fail "$3: ${f##*/} differs from a complete run's" ;;
    esac
  done
  [ "$1" -ne 0 ] || [ -e "$C/an/out/report.html" ] || fail "$3: success without the report"
}

# Which of MAX calls are failed: all of them up to 8 (one file operation makes at most 6 calls
# of a kind); of more (the ten research outputs, one writer each), the first three, the last
# two and five spread between.
calls_to_fail() {
  local max=$1
  if [ "$max" -le 8 ]; then seq 1 "$max"; return; fi
  { seq 1 3; seq 4 $(((max + 4) / 6)) $((max - 2)); seq $((max - 1)) "$max"; } | sort -nu
}

# sweep NAME CHECK COMMAND...: every counted call of one successful run failed in turn
sweep() {
  local name=$1 check=$2 rc err call n how max
  shift 2
  reset_case
  rm -f "$WORK/counts"
  CHAOSMASK_IOFAIL_DIR=$C CHAOSMASK_IOFAIL_COUNT=$WORK/counts "$CMI" --config "$C/chaosmask.ini" "$@" \
    >/dev/null 2>"$WORK/err"; rc=$?
  if [ $rc -ne 0 ] || [ ! -s "$WORK/counts" ]; then
    fail "$name: the run without failures exits $rc: $(head -3 "$WORK/err")"
    return
  fi
  [ "$name" != analyze ] || { rm -rf "$WORK/reference" && cp -a "$C/an/out" "$WORK/reference"; }
  local before=$runs
  while read -r call max; do
    for n in $(calls_to_fail "$max"); do
      for how in eio enospc short; do
        [ $how = eio ] || [ "$call" = write ] || { [ "$call" = fwrite ] && [ $how = short ]; } || continue
        reset_case
        CHAOSMASK_IOFAIL_DIR=$C CHAOSMASK_IOFAIL="$call:$n:$how" "$CMI" --config "$C/chaosmask.ini" "$@" \
          >"$WORK/out" 2>"$WORK/err"; rc=$?
        err=$(cat "$WORK/err")
        runs=$((runs + 1))
        local what="$name $call:$n:$how"
        if [ $rc -ge 128 ]; then fail "$what: killed by signal $((rc - 128))"; continue; fi
        # one line per failure: on stderr, or (migrate --json) in the failed file's line
        if [ $rc -ne 0 ] && ! grep -q "^chaosmask [a-z]*:" <<<"$err" &&
           ! grep -qE '"outcome": *"failed".*"message": *"[^"]' "$WORK/out"; then
          fail "$what: exit $rc without a message"
        fi
        [ -z "$(temporaries)" ] || fail "$what: temporary files left: $(temporaries)"
        "$check" "$rc" "$err" "$call:$n:$how" "${CHECK_ARG:-}"
        [[ $call != write ]] || audit_takes_next_line || fail "$what: the audit log does not take the next record"
      done
    done
  done < <(awk '$2 > 0' "$WORK/counts")
  echo "ok $name: $((runs - before)) failures injected ($(awk '$2 > 0 {printf "%s%s %s", s, $1, $2; s=", "}' "$WORK/counts"))"
}

sweep encrypt check_encrypt encrypt "$C/in/a.dcm" "$C/out/a.enc"
sweep decrypt check_decrypt decrypt "$C/in/s.enc" "$C/out/a.dcm"
sweep in-place check_in_place encrypt --in-place "$C/in/b.dcm"
sweep rekey check_rekey migrate rekey "$C/rk" --journal "$C/rk.journal" --json
sweep keygen check_keygen keygen --id k3 --activate
sweep migrate-out check_migrate_out migrate encrypt "$C/mig" --out "$C/mirror" --journal "$C/mig.journal" --json
sweep migrate-in-place check_migrate_in_place migrate encrypt "$C/mip" --journal "$C/mip.journal" --json
sweep analyze check_analyze analyze "$C/an/p.png" --out "$C/an/out"

# 70 files: two journal commits; the first syncfs fails, the second succeeds
reset_case
cp -a "$WORK/many" "$C/many" && cp -a "$WORK/many" "$P/many"
CHAOSMASK_IOFAIL_DIR=$C CHAOSMASK_IOFAIL=syncfs:1:eio "$CMI" --config "$C/chaosmask.ini" migrate encrypt \
  "$C/many" --out "$C/mirror" --journal "$C/many.journal" >/dev/null 2>"$WORK/err"; rc=$?
if [ $rc -eq 0 ] || ! grep -q "could not be flushed" "$WORK/err"; then
  fail "70 files, syncfs:1: exit $rc, $(head -2 "$WORK/err")"
fi
check_migrate_out "$rc" "$(cat "$WORK/err")" syncfs:1:eio many
echo "ok 70 files: the first batch that could not be flushed is never journaled"

echo "io failure: $runs failures injected, $fails check(s) failed"
[ $fails -eq 0 ]
