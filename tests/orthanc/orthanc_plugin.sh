#!/bin/bash
# orthanc_plugin.sh PLUGIN CHAOSMASK WORKDIR - Orthanc with libChaosMaskOrthanc.so, next to an
# Orthanc without it (the reference: what Orthanc itself would store and show), both fed the
# pydicom sample files over C-STORE.  Checks: no plaintext pixel bytes in the storage area,
# stored objects verify as ChaosMask objects, C-FIND finds them, C-GET, C-MOVE and REST give
# back the data sets that were sent (REST: the very bytes the reference gives), previews are
# the reference's, an object encrypted before it arrived is kept as it is and read back as
# the original, a restart changes nothing (and header reads then unmask nothing), and a
# changed byte in a stored file makes the read fail and is audited.
set -euo pipefail
PLUGIN=$(realpath "$1"); CHAOSMASK=$(realpath "$2"); WORK=$3
source "$(dirname "$0")/lib.sh"
enter_netns "$@"

rm -rf "$WORK"; mkdir -p "$WORK"; WORK=$(realpath "$WORK"); cd "$WORK"
trap 'for p in ${PIDS:-}; do orthanc_stop $p; done' EXIT

FILES=(CT_small.dcm MR_small.dcm MR_small_implicit.dcm MR_small_bigendian.dcm MR_small_RLE.dcm JPEG2000.dcm
       SC_rgb_jpeg_dcmtk.dcm JPGExtended.dcm MR_small_jpeg_ls_lossless.dcm SC_rgb_small_odd.dcm rtdose.dcm
       waveform_ecg.dcm rtplan.dcm)
fresh_samples sent "${FILES[@]}"
"$CHAOSMASK" -q --keyring keyring keygen >/dev/null
printf '[keyring]\ndir = keyring\n[log]\naudit = audit.log\n' >chaosmask.ini
# An object encrypted before it reaches Orthanc (by `chaosmask`, as chaosmask-scp would).
fresh_samples pre MR_small.dcm
"$CHAOSMASK" -q --config chaosmask.ini encrypt pre/MR_small.dcm sent/pre_encrypted.dcm

P_HTTP=$(free_port); P_DICOM=$(free_port); R_HTTP=$(free_port); R_DICOM=$(free_port); SCU=$(free_port)
P=http://127.0.0.1:$P_HTTP; R=http://127.0.0.1:$R_HTTP
orthanc_config plugin "$WORK/plugin" "$P_HTTP" "$P_DICOM" "$SCU" "[\"$PLUGIN\"]" \
    ", \"ChaosMask\": {\"Config\": \"$WORK/chaosmask.ini\", \"Profile\": \"lorenz-chacha20\"}"
orthanc_config reference "$WORK/reference" "$R_HTTP" "$R_DICOM" "$SCU" "[]" ""
orthanc_start "$WORK/plugin" "$P_HTTP" || fail "Orthanc with the plugin did not start: $(tail -5 plugin/orthanc.log)"
PIDS=$ORTHANC_PID; PLUGIN_PID=$ORTHANC_PID
orthanc_start "$WORK/reference" "$R_HTTP" || fail "reference Orthanc did not start"
PIDS="$PIDS $ORTHANC_PID"

say "C-STORE of ${#FILES[@]} samples and one pre-encrypted object into both"
store_files "$P_DICOM" sent/*.dcm
store_files "$R_DICOM" sent/*.dcm
mkdir -p ref
declare -A ID
for f in sent/*.dcm; do
    b=$(basename "$f" .dcm); uid=$(sop_uid "$f")
    ID[$b]=$(orthanc_id "$P" "$uid")
    curl -sf "$R/instances/$(orthanc_id "$R" "$uid")/file" -o "ref/$b.dcm"
done

say "the storage area holds no plaintext pixel bytes, and ChaosMask objects that verify"
# (the pre-encrypted object's plaintext is the original it was made from)
"$PY" -W ignore "$HERE/no_plaintext.py" plugin/storage $(ls ref/*.dcm | grep -v pre_encrypted) pre/MR_small.dcm
for b in "${!ID[@]}"; do
    uuid=$(curl -sf "$P/instances/${ID[$b]}/attachments/dicom/info" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Uuid"])')
    stored=plugin/storage/${uuid:0:2}/${uuid:2:2}/$uuid
    if [ "$b" = rtplan ]; then   # no pixel-bearing element: sealed whole
        head -c 8 "$stored" | od -An -c | grep -q 'C   M   S   E   A   L' || fail "rtplan is not sealed"
        continue
    fi
    "$CHAOSMASK" -q --config chaosmask.ini verify "$stored" || fail "$b: stored object does not verify"
    if dcmdump -q -s +P 7fe0,0010 "ref/$b.dcm" | grep -q .; then   # a header worth keeping
        [ -f "$stored.header" ] || fail "$b: no sealed header prefix beside the object"
    fi
done
cmp -s "plugin/storage/$(curl -sf "$P/instances/${ID[pre_encrypted]}/attachments/dicom/info" |
    "$PY" -c 'import json,sys; u=json.load(sys.stdin)["Uuid"]; print(u[:2]+"/"+u[2:4]+"/"+u)')" ref/pre_encrypted.dcm ||
    fail "the pre-encrypted object was not stored as it arrived"

check_reads() {   # REST file and preview against the reference
    for b in "${!ID[@]}"; do
        curl -sf "$P/instances/${ID[$b]}/file" -o "got_$b.dcm" || fail "$b: REST /file failed"
        if [ "$b" = pre_encrypted ]; then
            same_dataset pre/MR_small.dcm "got_$b.dcm" "pre-encrypted object, read back"
            continue
        fi
        cmp -s "got_$b.dcm" "ref/$b.dcm" || fail "$b: REST /file differs from the reference Orthanc's"
        same_dataset "sent/$b.dcm" "got_$b.dcm" "$b over REST"
        rc_p=$(curl -s -o "prev_p_$b" -w '%{http_code}' "$P/instances/${ID[$b]}/preview")
        rc_r=$(curl -s -o "prev_r_$b" -w '%{http_code}' "$R/instances/$(orthanc_id "$R" "$(sop_uid "sent/$b.dcm")")/preview")
        [ "$rc_p" = "$rc_r" ] || fail "$b: preview status $rc_p, reference $rc_r"
        [ "$rc_p" != 200 ] || cmp -s "prev_p_$b" "prev_r_$b" || fail "$b: preview differs from the reference"
    done
}
say "REST /file and /preview give the reference's bytes"
check_reads
file prev_p_CT_small | grep -q 'PNG image' || fail "no PNG preview for CT_small"

say "C-FIND, C-GET and C-MOVE (what the reference Orthanc can retrieve, the plugin must too, identically)"
study_uid() { dcmdump -q +P 0020,000d "$1" | sed -n '1s/.*\[\(.*\)\].*/\1/p'; }
get_one() {   # get_one PORT DIR FILE: C-GET of FILE's study, preferring FILE's transfer syntax
    local prefer
    prefer=$(propose_option "$3"); prefer=+${prefer#-}   # getscu has no "accept all"
    rm -rf "$2"; mkdir "$2"
    getscu -S -aet SCU -aec ORTHANC "$prefer" -od "$2" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$(study_uid "$3")" \
        127.0.0.1 "$1" >/dev/null 2>&1 || true
}
move_all() {   # move_all PORT DIR: one C-MOVE of every study (a UID list), all syntaxes accepted
    rm -rf "$2"; mkdir "$2"
    movescu -S -aet SCU -aec ORTHANC -aem SCU --port "$SCU" +xa -od "$2" -k QueryRetrieveLevel=STUDY \
        -k "StudyInstanceUID=$STUDIES" 127.0.0.1 "$1" >/dev/null 2>&1 || true
}
STUDIES=$(for f in sent/*.dcm; do study_uid "$f"; done | paste -sd '\\')
move_all "$P_DICOM" move
move_all "$R_DICOM" ref_move
compared=0
for f in sent/*.dcm; do
    b=$(basename "$f" .dcm); sop=$(sop_uid "$f")
    rm -rf "find_$b"; mkdir "find_$b"
    findscu -S -aet SCU -aec ORTHANC -X -od "find_$b" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$(study_uid "$f")" \
        127.0.0.1 "$P_DICOM" 2>/dev/null || fail "findscu $b"
    [ "$(ls "find_$b" | wc -l)" = 1 ] || fail "C-FIND found $(ls "find_$b" | wc -l) studies for $b"
    get_one "$P_DICOM" "get_$b" "$f"
    get_one "$R_DICOM" "ref_get_$b" "$f"
    want=$f; [ "$b" = pre_encrypted ] && want=pre/MR_small.dcm
    for how in get move; do
        if [ $how = get ]; then got=$(ls "get_$b"/* 2>/dev/null || true); ref=$(ls "ref_get_$b"/* 2>/dev/null || true)
        else got=$(ls move/*."$sop" 2>/dev/null || true); ref=$(ls ref_move/*."$sop" 2>/dev/null || true); fi
        if [ -z "$ref" ]; then
            [ -z "$got" ] || fail "C-${how^^} of $b: the plugin sent what the reference could not"
            say "C-${how^^} of $b: neither Orthanc can send it to ${how}scu"
            continue
        fi
        [ -n "$got" ] || fail "C-${how^^} of $b: nothing retrieved (the reference retrieved it)"
        # Orthanc may transcode for the retriever: the reference's result is what to match;
        # uncompressed objects are never transcoded and must match what was sent.
        if [ "$b" = pre_encrypted ]; then
            same_dataset "$want" "$got" "$b over C-${how^^}"
        else
            same_dataset "$ref" "$got" "$b over C-${how^^} (against the reference's)"
        fi
        case $(propose_option "$f") in
            -x= | -xi | -xb) same_dataset "$want" "$got" "$b over C-${how^^}"; compared=$((compared + 1)) ;;
        esac
    done
done
[ "$compared" -ge 14 ] || fail "only $compared retrievals could be compared with what was sent"

say "restart: header reads come from the sealed prefix (no decryption audited), nothing changes"
orthanc_stop "$PLUGIN_PID"
orthanc_start "$WORK/plugin" "$P_HTTP" || fail "Orthanc with the plugin did not restart"
PIDS="$PIDS $ORTHANC_PID"; PLUGIN_PID=$ORTHANC_PID
tags() {   # the plugin's /tags of $1 against the reference's
    curl -sf "$P/instances/${ID[$1]}/tags" -o "tags_$1.json" || fail "$1: /tags after restart"
    [ "$1" = pre_encrypted ] && return 0
    curl -sf "$R/instances/$(orthanc_id "$R" "$(sop_uid "sent/$1.dcm")")/tags" -o "rtags_$1.json"
    cmp -s "tags_$1.json" "rtags_$1.json" || fail "$1: /tags after restart differ from the reference"
}
before=$(grep -c '"event": "decrypt"' audit.log)
for b in "${!ID[@]}"; do
    case $b in rtplan | waveform_ecg) continue ;; esac   # no Pixel Data: Orthanc reads them whole
    tags "$b"
done
after=$(grep -c '"event": "decrypt"' audit.log)
[ "$before" = "$after" ] || fail "header reads after restart unmasked pixels ($before -> $after decryptions)"
tags rtplan
tags waveform_ecg
check_reads

say "a changed byte in a stored file is refused and audited"
tamper() {   # tamper NAME OFFSET_FROM_END
    local uuid stored
    uuid=$(curl -sf "$P/instances/${ID[$1]}/attachments/dicom/info" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Uuid"])')
    stored=plugin/storage/${uuid:0:2}/${uuid:2:2}/$uuid
    "$PY" -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); i=len(b)-int(sys.argv[2]); b[i]^=0x20; open(p,"wb").write(b)' "$stored" "$2"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$P/instances/${ID[$1]}/file")
    [ "$code" != 200 ] || fail "$1: a changed byte was read back (HTTP 200)"
    tail -1 audit.log | grep -q "\"event\": \"decrypt\", \"outcome\": \"\\(refused\\|failed\\)\".*$uuid" ||
        fail "$1: the refusal was not audited: $(tail -1 audit.log)"
}
tamper CT_small 1000
tamper rtplan 100
say "all checks passed"
