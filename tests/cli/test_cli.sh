#!/bin/bash
# Drives the built `chaosmask` binary through the issue-2 commands and checks outputs, files,
# modes and exit codes.  Usage: test_cli.sh PATH/TO/chaosmask
CM=$1
. "$(dirname "$0")/lib.sh"

expect 0 "--help" -- "$CM" --help
grep -q "exit codes" out && ok "--help lists exit codes" || fail "--help has no exit codes"
expect 0 "--version" -- "$CM" --version
grep -qE '^chaosmask [0-9]+\.[0-9]+\.[0-9]+ \(object format 2' out && ok "version line" || fail "version line: $(cat out)"
expect 2 "no command" -- "$CM"
expect 2 "unknown command" -- "$CM" frobnicate
for c in keygen keystream bench demo selftest; do
    expect 0 "$c --help" -- "$CM" "$c" --help
    grep -q "usage: chaosmask $c" out && ok "$c --help usage line" || fail "$c --help has no usage line"
done
expect 0 "selftest" -- "$CM" selftest
[ "$(grep -c ': ok$' out)" -eq 4 ] && ok "selftest covers three profiles and format 1" || fail "selftest output: $(cat out)"

# keygen: first key active, mode 0600, dir 0700; second not active unless --activate
expect 0 "keygen first key" -- "$CM" keygen --keyring ring --id first
[ "$(stat -c %a ring/first.key)" = 600 ] && ok "key file mode 0600" || fail "key file mode $(stat -c %a ring/first.key)"
[ "$(stat -c %a ring)" = 700 ] && ok "key ring mode 0700" || fail "key ring mode $(stat -c %a ring)"
grep -qx first ring/active && ok "first key active" || fail "active: $(cat ring/active)"
grep -qE '^[0-9a-f]{64}$' ring/first.key && ok "key is 64 hex digits" || fail "key file content"
expect 0 "keygen second key" -- "$CM" keygen --keyring ring --id second
grep -qx first ring/active && ok "second key not active" || fail "active changed to $(cat ring/active)"
expect 0 "keygen --activate" -- "$CM" keygen --keyring ring --id third --activate
grep -qx third ring/active && ok "--activate" || fail "active: $(cat ring/active)"
expect 3 "keygen refuses an existing id" -- "$CM" keygen --keyring ring --id first
expect 2 "abbreviated long option refused (--activ)" -- "$CM" keygen --keyring ring --id abbr --activ
[ ! -e ring/abbr.key ] && ok "no key made by a refused command line" || fail "abbr.key written"
expect 2 "keygen refuses a path as id" -- "$CM" keygen --keyring ring --id ../evil
[ ! -e evil.key ] && ok "no file outside the ring" || fail "evil.key written"
cmp -s <(cat ring/first.key) <(cat ring/second.key) && fail "two keys are equal" || ok "keys differ"

# keystream: exact byte count, reproducible with --nonce, different without
expect 0 "keystream 1000 bytes" -- "$CM" keystream --keyring ring --bytes 1000 --nonce 000102030405060708090a0b0c0d0e0f
[ "$(stat -c %s out)" -eq 1000 ] && ok "keystream length" || fail "keystream length $(stat -c %s out)"
cp out ks1
"$CM" keystream --keyring ring --bytes 1000 --nonce 000102030405060708090a0b0c0d0e0f >ks2
cmp -s ks1 ks2 && ok "keystream reproducible for a nonce" || fail "keystream not reproducible"
"$CM" keystream --keyring ring --bytes 1000 >ks3
cmp -s ks1 ks3 && fail "random nonce gave the same keystream" || ok "fresh nonce, fresh keystream"
for p in lorenz-chacha20 aes-256-gcm; do
    expect 0 "keystream $p" -- "$CM" keystream --keyring ring --profile $p --bytes 20M
    [ "$(stat -c %s out)" -eq 20971520 ] && ok "$p keystream crosses a segment" || fail "$p length"
done
expect 2 "keystream without --bytes" -- "$CM" keystream --keyring ring
expect 2 "keystream bad profile" -- "$CM" keystream --keyring ring --bytes 10 --profile rot13
expect 2 "keystream bad nonce" -- "$CM" keystream --keyring ring --bytes 10 --nonce abc
expect 3 "keystream with a missing ring" -- "$CM" keystream --keyring nowhere --bytes 10
mkdir -p emptyring && chmod 700 emptyring
expect 3 "keystream with no active key" -- "$CM" keystream --keyring emptyring --bytes 10
chmod 644 ring/third.key
expect 3 "key file mode 0644 refused" -- "$CM" keystream --keyring ring --bytes 10
grep -q "0644" err && grep -q "third.key" err && ok "message names file and mode" || fail "message: $(cat err)"
chmod 600 ring/third.key

# configuration errors name file and line
printf '[engine]\nprofile = lorenz\nfrobs = 3\n' >bad.ini
expect 3 "unknown config key" -- "$CM" --config bad.ini keystream --bytes 1
grep -q "bad.ini:3" err && ok "config error names file:line" || fail "config message: $(cat err)"

# a command's long-only option is never taken for a global one (--shard once read as --config)
mkdir -p shard-in
expect 0 "migrate --shard is the command's option" -- "$CM" migrate scan --shard 1/2 shard-in
grep -q "config" err && fail "--shard read as a config file: $(cat err)" || ok "--shard kept apart from --config"

# bench --json: one object per line with the documented keys, ratios consistent
expect 0 "bench --json" -- "$CM" bench --json --bytes 4M --repeat 1
n=$(grep -c '^{' out)
[ "$n" -eq 14 ] && ok "bench prints 14 lines" || fail "bench printed $n lines"
/usr/bin/python3 - "$WORK/out" <<'PY' && ok "bench JSON fields and ratios" || fail "bench JSON"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
need = {"profile", "op", "threads", "bytes", "mb_per_s", "aes_256_gcm_mb_per_s", "ratio"}
assert all(need <= set(r) for r in rows), rows
assert all(r["bytes"] == 4 << 20 and r["mb_per_s"] > 0 for r in rows)
assert all(abs(r["ratio"] - r["mb_per_s"] / r["aes_256_gcm_mb_per_s"]) < 0.01 for r in rows)
seen = {(r["profile"], r["op"]) for r in rows}
for p in ("lorenz", "lorenz-chacha20", "aes-256-gcm"):
    assert (p, "encrypt") in seen and (p, "decrypt") in seen, p
assert ("lorenz", "keystream") in seen
PY

# demo: creates a ring when there is none, round trip bit-exact
expect 0 "demo" -- "$CM" demo --keyring demo-ring --frames 4
grep -q "round trip: bit-exact" out && ok "demo bit-exact" || fail "demo output: $(cat out)"
ls demo-ring/*.key >/dev/null 2>&1 && ok "demo made a key ring" || fail "demo made no key"
a=$(sed -n 's/^sha256 original: *//p' out); b=$(sed -n 's/^sha256 recovered: *//p' out)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "demo hashes equal" || fail "demo hashes '$a' '$b'"

finish
