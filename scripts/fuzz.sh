#!/bin/bash
# Builds every libFuzzer harness of tests/fuzz (clang, ASan + UBSan, in build/fuzz; see
# FUZZ_SANITIZERS below) and runs each, one after the other, for SECONDS seconds (default 60),
# then prints per harness the
# executions, executions per second, coverage (libFuzzer's cov and ft), the corpus size and
# whether it found a crash, a leak, a timeout or a failed invariant.  Exits non-zero when one
# did; the input that failed is in build/fuzz/artifacts/HARNESS/ (copy it to
# tests/fuzz/regress/HARNESS/ once the bug is fixed: ctest replays it from then on).
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     e.g. scripts/fuzz.sh 600, scripts/fuzz.sh 20 object png
#
# The artifact prefix is absolute: the service's harnesses (scp_*) run each input in their archive
# directory, and libFuzzer writes a crash where the process stands.
# The corpus grows across runs in build/fuzz/corpus/HARNESS/ (seeds: make_seeds.py, rewritten
# every run into build/fuzz/seeds/).  Every run appends its figures to build/fuzz/fuzz-stats.tsv;
# the last column of the table is the executions of all recorded runs.  The fuzzers run niced,
# one at a time.  Extra libFuzzer options: FUZZ_OPTIONS="-jobs=..." (rarely useful).
# FUZZ_SANITIZERS=undefined builds without ASan in build/fuzz-undefined, with its own corpus
# and figures: about twice the executions per second for long runs, but memory errors that
# do not crash go unseen there (replay its corpus in the default build afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
case "$SECONDS_EACH" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [HARNESS...]" >&2; exit 2 ;; esac
bash scripts/deps.sh
SANITIZERS=${FUZZ_SANITIZERS:-address,undefined}
case "$SANITIZERS" in address,undefined) BUILD=build/fuzz ;; undefined) BUILD=build/fuzz-undefined ;;
  *) echo "FUZZ_SANITIZERS: address,undefined or undefined" >&2; exit 2 ;; esac
SRC=tests/fuzz

CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHAOSMASK_FUZZ=ON \
  -DCHAOSMASK_FUZZ_SANITIZERS="$SANITIZERS" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }
/usr/bin/python3 "$SRC/make_seeds.py" --chaosmask "$BUILD/plugin/cli/chaosmask" "$BUILD/seeds"

if [ $# -gt 0 ]; then
  HARNESSES=("$@")
else
  mapfile -t HARNESSES < <(find "$BUILD/tests/fuzz" -maxdepth 2 -type f -name 'fuzz_*' -perm -u+x -printf '%f\n' |
                           sed 's/^fuzz_//' | sort)
fi
[ ${#HARNESSES[@]} -gt 0 ] || { echo "no harness was built" >&2; exit 1; }

options_of() { # dictionary and largest input per harness
  case "$1" in
    object | tamper | precheck | scp_*) echo "-dict=$SRC/dicom.dict -max_len=65600" ;;
    block) echo "-max_len=4096" ;;
    config) echo "-dict=$SRC/config.dict -max_len=4096" ;;
    keyfile) echo "-max_len=256" ;;
    png) echo "-dict=$SRC/png.dict -max_len=65536" ;;
    *) echo "-max_len=65536" ;;
  esac
}

STATS="$BUILD/fuzz-stats.tsv"
[ -f "$STATS" ] || printf 'date\tharness\tseconds\texecs\texecs_per_s\tcov\tft\tcorpus\tresult\n' >"$STATS"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
rows=()
for h in "${HARNESSES[@]}"; do
  bin=$(find "$BUILD/tests/fuzz" -maxdepth 2 -type f -name "fuzz_$h" | head -1)
  [ -n "$bin" ] || { echo "no harness fuzz_$h" >&2; failed=1; continue; }
  corpus="$BUILD/corpus/$h" artifacts="$BUILD/artifacts/$h" log="$BUILD/logs/$h.log"
  mkdir -p "$corpus" "$artifacts" "$BUILD/logs"
  inputs=("$corpus")
  [ -d "$BUILD/seeds/$h" ] && inputs+=("$BUILD/seeds/$h")
  [ -d "$SRC/regress/$h" ] && inputs+=("$SRC/regress/$h")
  echo "=== fuzz_$h: $SECONDS_EACH s"
  # shellcheck disable=SC2046
  if nice -n 10 "$bin" $(options_of "$h") ${FUZZ_OPTIONS:-} -max_total_time="$SECONDS_EACH" -timeout=30 \
       -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$PWD/$artifacts/" "${inputs[@]}" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed=1
    grep -E "ERROR: |invariant failed|SUMMARY|Test unit written" "$log" | head -8 || true
  fi
  stat() { grep -E "^stat::$1:" "$log" | awk '{print $2}' | tail -1; }
  execs=$(stat number_of_executed_units) rate=$(stat average_exec_per_sec)
  last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last") ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$h" "$SECONDS_EACH" "${execs:-0}" "${rate:-0}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result" >>"$STATS"
  total=$(awk -F'\t' -v h="$h" '$2 == h { s += $4 } END { printf "%d", s }' "$STATS")
  rows+=("$(printf '%-10s %8s %12s %9s %7s %7s %14s %8s %15s' "$h" "$SECONDS_EACH" "${execs:-0}" "${rate:-0}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result" "$total")")
done

echo
printf '%-10s %8s %12s %9s %7s %7s %14s %8s %15s\n' harness seconds execs execs/s cov ft corpus result "execs, all runs"
printf '%s\n' "${rows[@]}"
echo "(logs: $BUILD/logs/, every run: $STATS)"
if [ "$failed" -ne 0 ]; then
  echo "a harness failed: the inputs are in $BUILD/artifacts/" >&2
  exit 1
fi
