#!/bin/bash
# The main job on the built-in default configuration: installs the packages, builds, checks
# the engine (selftest), then encrypts and decrypts a generated 16-bit CT series with a key
# ring in ./out/keyring (created if there is none), proves the round trip bit-exact and
# prints the throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target chaosmask
CM=$PWD/build/release/plugin/chaosmask
mkdir -p out
cd out
"$CM" --version
"$CM" selftest
"$CM" --keyring "$PWD/keyring" demo
