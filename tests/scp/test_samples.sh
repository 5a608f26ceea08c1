#!/bin/bash
# test_samples.sh SCP CM TESTS WORK - every pydicom sample file that has pixel data, with fresh
# UIDs, sent in its own transfer syntax (uncompressed, big endian, deflate, RLE, JPEG family,
# JPEG-LS, JPEG 2000): each one the product accepts (its file commands' verdict) is
# stored, found by C-FIND, retrieved decrypted by C-MOVE to a storescp with a data set
# identical to what was sent (every element, pixel bytes bit for bit), and retrieved as
# stored with a data set identical to the archive file's; the archive holds no plaintext
# pixel bytes; each one the product refuses gets 0xC000 and leaves nothing.
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port) DEST=$(free_port) ENCDEST=$(free_port)
write_config scp.ini "$PORT" "
[peer DEST]\naetitle = DEST\nhost = 127.0.0.1\nport = $DEST\nretrieve = decrypted
[peer ENCDEST]\naetitle = ENCDEST\nhost = 127.0.0.1\nport = $ENCDEST\nretrieve = encrypted\n"
start_service scp.ini || exit 1

# ---- the samples: every file with Pixel Data, fresh study, series and instance UIDs
SRC=/usr/lib/python3/dist-packages/pydicom/data/test_files
mkdir samples accepted refused dest encdest
$PY - "$SRC" samples <<'PY'
import os, shutil, sys, warnings
import pydicom
warnings.simplefilter("ignore")
src, out = sys.argv[1], sys.argv[2]
for root, _, files in os.walk(src):
    for f in sorted(files):
        path = os.path.join(root, f)
        try:
            if "PixelData" in pydicom.dcmread(path, force=True, defer_size=64):
                shutil.copy(path, os.path.join(out, os.path.relpath(path, src).replace("/", "_")))
        except Exception:
            pass
PY
total=$(ls samples | wc -l)
check "pydicom's samples with pixel data found ($total)" [ "$total" -ge 80 ]
dcmodify -nb -ie -gst -gse -gin samples/* >/dev/null 2>&1 # files DCMTK cannot read keep theirs
# the product's verdict on each file, from the file commands' path (one process for all)
printf '[log]\naudit =\n' >cli.ini && chmod 600 cli.ini # the service's audit log is the service's
"$CM" --keyring "$WORK/keyring" --config cli.ini migrate encrypt samples --out verdicts --json \
    --journal "$WORK/verdicts.journal" >verdicts.json 2>/dev/null
$PY - verdicts.json <<'PY'
import json, os, shutil, sys
for line in open(sys.argv[1]):
    if line.startswith("{") and "path" in line:
        r = json.loads(line)
        shutil.copy(r["path"], "accepted" if r["outcome"] == "encrypted" else "refused")
PY
nacc=$(ls accepted | wc -l) nref=$(ls refused | wc -l)
echo "samples: $nacc the product accepts, $nref it refuses: $(ls refused | tr '\n' ' ')"
check "most samples are accepted" [ "$nacc" -ge 70 ]

# ---- C-STORE, each in its own transfer syntax (dcmsend proposes a compressed file's own
# syntax but explicit little endian for the others: big endian and implicit files go with
# storescu -R -xb / -xi); objects of a SOP class DCMTK does not know as a storage class are
# refused at association time
mkdir notstorage
# by transfer syntax; a SOP class that is no storage class (pydicom's registry, as DCMTK's)
mapfile -t groups < <($PY - accepted <<'PY'
import os, sys, warnings
import pydicom
from pydicom.uid import UID
warnings.simplefilter("ignore")
for f in sorted(os.listdir(sys.argv[1])):
    path = os.path.join(sys.argv[1], f)
    meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
    if "Storage" not in UID(meta.MediaStorageSOPClassUID).name:
        print("notstorage", path)
    elif meta.TransferSyntaxUID == "1.2.840.10008.1.2.2":
        print("be", path)
    elif meta.TransferSyntaxUID == "1.2.840.10008.1.2":
        print("implicit", path)
    else:
        print("other", path)
PY
)
be=() implicit=() other=()
for g in "${groups[@]}"; do
    case ${g%% *} in
        notstorage) mv "${g#* }" notstorage/ ;;
        be) be+=("${g#* }") ;;
        implicit) implicit+=("${g#* }") ;;
        *) other+=("${g#* }") ;;
    esac
done
storescu -R -xb -aet DCMSEND -aec CHAOSMASK 127.0.0.1 "$PORT" "${be[@]}" >>dcmsend.log 2>&1
storescu -R -xi -aet DCMSEND -aec CHAOSMASK 127.0.0.1 "$PORT" "${implicit[@]}" >>dcmsend.log 2>&1
dcmsend -nh -aec CHAOSMASK 127.0.0.1 "$PORT" "${other[@]}" >>dcmsend.log 2>&1
for f in notstorage/*; do
    dcmsend -aec CHAOSMASK 127.0.0.1 "$PORT" "$f" >>notstorage.log 2>&1
done
nacc=$(ls accepted | wc -l)
check "objects of a class DCMTK does not store: no presentation context ($(ls notstorage | wc -l))" \
    [ "$(grep -c "No Acceptable Presentation Contexts" notstorage.log)" -ge "$(ls notstorage | wc -l)" ]
stored=$(audit_count store 'r["status"] == "0x0000" and r["peer_ae"] == "DCMSEND"')
check "every accepted sample stored with Success ($stored of $nacc)" [ "$stored" = "$nacc" ]
check "one archive file per stored sample" [ "$(archive_files | wc -l)" = "$nacc" ]
check "every sample stored in its own transfer syntax" $PY - "$WORK/audit.log" accepted <<'PY'
import json, os, sys, warnings
from collections import Counter
import pydicom
warnings.simplefilter("ignore")
stored = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "store" and r.get("status") == "0x0000":
        stored[r["sop_instance_uid"]] = r["transfer_syntax"]
bad = 0
for f in sorted(os.listdir(sys.argv[2])):
    ds = pydicom.dcmread(os.path.join(sys.argv[2], f), stop_before_pixels=True)
    if stored.get(str(ds.SOPInstanceUID)) != ds.file_meta.TransferSyntaxUID:
        print("%s: stored as %s" % (f, stored.get(str(ds.SOPInstanceUID))), file=sys.stderr)
        bad += 1
print("transfer syntaxes stored:", dict(Counter(stored.values())))
sys.exit(1 if bad else 0)
PY
for f in refused/*; do
    if dcmdump -q "$f" >/dev/null 2>&1; then
        dcmsend -aec CHAOSMASK 127.0.0.1 "$PORT" "$f" >>refused.log 2>&1
    else # DCMTK's senders cannot read it: its bytes go out unparsed
        $RAW store 127.0.0.1 "$PORT" "$f" --aet DCMSEND >>refused.log 2>&1
    fi
done
refusals=$(($(audit_count store 'r["status"] == "0xC000"') + $(grep -c "No Acceptable Presentation Contexts" refused.log)))
check "every refused sample got 0xC000, or no presentation context for what is no storage object" \
    [ "$refusals" = "$nref" ]
check "refused samples left no file" [ "$(archive_files | wc -l)" = "$nacc" ]
check "the archive holds no plaintext pixel run of any sample" $PY "$TESTS/compare.py" plaintext "$WORK/archive" accepted/*
check "archive files: masked pixels, every other element as sent" \
    $PY "$TESTS/compare.py" masked-dir accepted "$WORK/archive" "$nacc"

# ---- C-FIND each, C-MOVE each decrypted and as stored
spawn storescp -aet DEST +xa -od dest "$DEST"
spawn storescp -aet ENCDEST +xa -od encdest "$ENCDEST"
wait_port "$DEST" && wait_port "$ENCDEST"
# one query file per sample: IMAGE level with study, series and instance UIDs
$PY - accepted queries <<'PY'
import os, sys, warnings
import pydicom
from pydicom.dataset import Dataset
warnings.simplefilter("ignore")
os.makedirs(sys.argv[2])
for f in sorted(os.listdir(sys.argv[1])):
    src = pydicom.dcmread(os.path.join(sys.argv[1], f), stop_before_pixels=True)
    q = Dataset()
    q.QueryRetrieveLevel = "IMAGE"
    q.StudyInstanceUID, q.SeriesInstanceUID, q.SOPInstanceUID = src.StudyInstanceUID, src.SeriesInstanceUID, src.SOPInstanceUID
    q.is_little_endian, q.is_implicit_VR = True, True
    q.save_as(os.path.join(sys.argv[2], f + ".q"), write_like_original=True)
PY
mkdir find
findscu -S -aec CHAOSMASK -X -od find 127.0.0.1 "$PORT" queries/* >find.log 2>&1
found=$(ls find | wc -l)
movescu -S -aec CHAOSMASK -aem DEST 127.0.0.1 "$PORT" queries/* >move.log 2>&1
movescu -S -aec CHAOSMASK -aem ENCDEST 127.0.0.1 "$PORT" queries/* >>move.log 2>&1
check "C-FIND finds every stored sample ($found of $nacc)" [ "$found" = "$nacc" ]
check "decrypted by C-MOVE: every sample identical to what was sent" \
    $PY "$TESTS/compare.py" same-dir accepted dest "$nacc"
check "as stored by C-MOVE: every sample identical to its archive file" \
    $PY "$TESTS/compare.py" stored-dir "$WORK/archive" encdest "$nacc"
check "every sub-operation in its stored transfer syntax, none failed" \
    [ "$(audit_count retrieve 'r["outcome"] == "ok"')" = "$((2 * nacc))" ]
check "no temporary file left in the archive" [ "$(archive_temps)" = 0 ]
finish
