#!/bin/bash
# orthanc_refuse.sh PLUGIN CHAOSMASK WORKDIR - Orthanc with the plugin must not start when it
# could not encrypt: key ring missing, key file readable by others, configuration file
# missing, an unknown setting, storage compression on.  Each refusal names its cause in
# Orthanc's log; a correct configuration starts (so the refusals are not something else).
set -euo pipefail
PLUGIN=$(realpath "$1"); CHAOSMASK=$(realpath "$2"); WORK=$3
source "$(dirname "$0")/lib.sh"
enter_netns "$@"

rm -rf "$WORK"; mkdir -p "$WORK"; WORK=$(realpath "$WORK"); cd "$WORK"
"$CHAOSMASK" -q --keyring keyring keygen >/dev/null
printf '[keyring]\ndir = %s/keyring\n[log]\naudit = %s/audit.log\n' "$WORK" "$WORK" >chaosmask.ini
HTTP=$(free_port); DICOM=$(free_port)

# expect NAME SECTION_JSON EXTRA_JSON WANTED_MESSAGE: Orthanc exits, and says why.
expect_refusal() {
    local name=$1 section=$2 extra=$3 want=$4
    orthanc_config "$name" "$WORK/$name" "$HTTP" "$DICOM" 1 "[\"$PLUGIN\"]" ", \"ChaosMask\": $section $extra"
    if orthanc_start "$WORK/$name" "$HTTP"; then
        orthanc_stop "$ORTHANC_PID"
        fail "$name: Orthanc started"
    fi
    grep -q "ChaosMask: refusing to start: .*$want" "$name/orthanc.log" ||
        fail "$name: the log does not say '$want': $(grep ChaosMask "$name/orthanc.log" | tail -2)"
    [ -z "$(find "$name" -path '*/storage/*' -type f)" ] || fail "$name: something was stored"
    say "$name: refused ($want)"
}

CFG="\"Config\": \"$WORK/chaosmask.ini\""
expect_refusal no_keyring "{$CFG, \"KeyRing\": \"$WORK/none\"}" "" "$WORK/none"
cp -r keyring open_keyring; chmod 0644 open_keyring/*.key
expect_refusal key_readable_by_others "{$CFG, \"KeyRing\": \"$WORK/open_keyring\"}" "" "mode 0644"
expect_refusal no_config "{\"Config\": \"$WORK/missing.ini\"}" "" "missing.ini"
expect_refusal unknown_setting "{$CFG, \"Keyring\": \"$WORK/keyring\"}" "" "unknown setting ChaosMask.Keyring"
expect_refusal bad_profile "{$CFG, \"Profile\": \"rot13\"}" "" "profile 'rot13'"
expect_refusal compression "{$CFG}" ", \"StorageCompression\": true" "StorageCompression"

orthanc_config good "$WORK/good" "$HTTP" "$DICOM" 1 "[\"$PLUGIN\"]" ", \"ChaosMask\": {$CFG}"
orthanc_start "$WORK/good" "$HTTP" || fail "a correct configuration did not start: $(grep ChaosMask good/orthanc.log)"
orthanc_stop "$ORTHANC_PID"
say "all checks passed"
