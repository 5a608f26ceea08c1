#!/bin/bash
# The whole test suite: installs the packages, then
#   1. release build + ctest (every test),
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build + ctest (every test),
#   3. the engine alone with clang at -O0 and -O3 and without the AVX2 clones: each must
#      reproduce the known-answer vectors in testdata/ exactly (and pass the engine tests),
#   4. every libFuzzer harness of tests/fuzz for 20 s (scripts/fuzz.sh 20; FUZZ_SECONDS
#      changes it): no crash, leak or failed invariant.
# Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=$(nproc)
export CTEST_OUTPUT_ON_FAILURE=1

stage() { echo; echo "=== $* ==="; }

stage "release build (gcc)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$JOBS"
(cd build/release && ctest -j"$JOBS")

stage "sanitizer build (ASan + UBSan)"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCHAOSMASK_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$JOBS"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j"$JOBS")

for variant in "clang-O0:-O0" "clang-O3:-O3" "clang-baseline:-O2 -DCM_NO_TARGET_CLONES"; do
  name=${variant%%:*}; flags=${variant#*:}
  stage "engine reproducibility: $name ($flags)"
  CC=clang cmake -S . -B "build/$name" -DCHAOSMASK_CORE_ONLY=ON -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_FLAGS="$flags" >/dev/null
  cmake --build "build/$name" -j"$JOBS"
  (cd "build/$name" && ctest -j"$JOBS")
done
stage "fuzzing: every harness ${FUZZ_SECONDS:-20} s"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
stage "all stages passed"
