#!/bin/bash
# test_odil.sh SCP CM TESTS WORK - an independent DICOM implementation (python3-odil, its own
# network stack): C-ECHO; C-STORE of a generated study plus RLE and JPEG-LS objects, each in
# its own transfer syntax; C-FIND; C-GET accepting only uncompressed syntaxes, so the service
# decodes the compressed ones in memory after decrypting them: the CT objects come back
# identical to what was sent, the compressed ones identical to DCMTK's decoding of them.
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port)
write_config scp.ini "$PORT" "
[peer ODIL]\naetitle = ODIL\nhost = 127.0.0.1\nstore = yes\nfind = yes\nretrieve = decrypted\n"
start_service scp.ini || exit 1
ODIL="$PY $TESTS/odil_client.py"
SRC=/usr/lib/python3/dist-packages/pydicom/data/test_files

$PY "$TESTS/make_study.py" study 8 --prefix ct >study.uid
STUDY=$(head -1 study.uid)
cp "$SRC/MR_small_RLE.dcm" study/mr_rle.dcm
cp "$SRC/MR_small_jpeg_ls_lossless.dcm" study/mr_jls.dcm
dcmodify -nb -gse -gin -m "StudyInstanceUID=$STUDY" study/mr_rle.dcm study/mr_jls.dcm >/dev/null 2>&1
mkdir reference got
cp study/ct*.dcm reference/
dcmdrle study/mr_rle.dcm reference/mr_rle.dcm >/dev/null 2>&1
dcmdjpls study/mr_jls.dcm reference/mr_jls.dcm >/dev/null 2>&1

check "ODIL C-ECHO" [ "$($ODIL echo 127.0.0.1 "$PORT" ODIL CHAOSMASK)" = "echo ok" ]
check "ODIL C-STORE: 10 objects stored" [ "$($ODIL store 127.0.0.1 "$PORT" ODIL CHAOSMASK study/*.dcm)" = "stored 10" ]
check "stored in RLE and JPEG-LS as received" \
    [ "$(audit_count store 'r["peer_ae"] == "ODIL" and r["transfer_syntax"] in ("1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.80")')" = 2 ]
check "ODIL C-FIND: 10 images" [ "$($ODIL find 127.0.0.1 "$PORT" ODIL CHAOSMASK "$STUDY")" = "found 10" ]
check "ODIL C-GET: 10 objects" [ "$($ODIL get 127.0.0.1 "$PORT" ODIL CHAOSMASK "$STUDY" got \
    1.2.840.10008.5.1.4.1.1.2 1.2.840.10008.5.1.4.1.1.4)" = "received 10" ]
check "decrypted objects as sent, compressed ones decoded in memory bit for bit" \
    $PY "$TESTS/compare.py" values-dir reference got 10
check "sub-operations record the decoding" \
    [ "$(audit_count retrieve 'r["peer_ae"] == "ODIL" and r["mode"] == "decrypted" and r["transfer_syntax"] in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")')" = 10 ]
check "the service still answers DCMTK's echoscu" echo_ok
finish
