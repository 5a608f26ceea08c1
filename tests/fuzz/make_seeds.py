#!/usr/bin/python3
"""make_seeds.py [--chaosmask PATH] OUTDIR - writes the seed corpus of every harness of
tests/fuzz into OUTDIR/NAME/ (NAME: object, tamper, precheck, block, config, keyfile, png,
scp_store, scp_query), and the bare data sets of the DICOM seeds into OUTDIR/bare/.
scp_store: the bare data set of every plain and encrypted DICOM seed in a transfer syntax the
service accepts, behind the harness's control byte; scp_query: C-FIND, C-GET and C-MOVE
identifiers of every level (and some the index refuses) for every operation and requester,
matching the objects fuzz_scp_query.cpp stores at start-up.

DICOM seeds, one per transfer syntax and layout: pydicom's sample files up to 64 KiB (every
transfer syntax DCMTK reads, and the broken files), small generated objects of the layouts the
samples lack (multi-frame, 1-bit, planar RGB, YBR 4:2:2, 32-bit, signed, float and double float
pixel data, overlay, icon, waveform, nested and undefined-length sequences), some of them also
in implicit VR, big endian and deflate, and the format-1 objects of testdata/format1.  With
--chaosmask, every plain seed is also encrypted by that program with the harnesses' fixed key
(fuzz_common.h: bytes 0xA0..0xBF, id "fuzz"), the profiles taken in turn, and a few encrypted
native objects are then compressed losslessly by DCMTK's dcmcrle, dcmcjpls and dcmcjpeg (their
decryption decodes them first).
Generated values come from fixed-seed generators; the SOP Instance UIDs are fixed too, so two
runs write the same plain seeds (encrypted ones differ: every encryption has a fresh nonce)."""
import io
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import pydicom
import pydicom.filereader
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian,
                         ImplicitVRLittleEndian)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
MAX_SEED = 64 * 1024
FUZZ_KEY = bytes(range(0xA0, 0xC0))
PROFILES = ["lorenz-chacha20", "lorenz", "aes-256-gcm"]
RNG = random.Random(11)
UID_ROOT = "1.2.826.0.1.3680043.10.1049.200."
uid_counter = [0]


def uid():
    uid_counter[0] += 1
    return UID_ROOT + str(uid_counter[0])


def write(outdir, harness, name, data):
    d = os.path.join(outdir, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- generated DICOM objects ----

def base(sop_class="1.2.840.10008.5.1.4.1.1.7"):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = uid()
    ds.SeriesInstanceUID = uid()
    ds.PatientName = "Seed^ChaosMask"
    ds.PatientID = "CM-SEED"
    ds.Modality = "OT"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    return ds


def ramp(n, bits):
    top = (1 << bits) - 1
    return b"".join((((i * 37) + RNG.randrange(4)) & top).to_bytes(max(1, bits // 8), "little") for i in range(n))


def image(ds, rows, cols, bits, frames=1, spp=1, signed=0, photometric=None, planar=None):
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = photometric or ("RGB" if spp == 3 else "MONOCHROME2")
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = signed
    if spp > 1:
        ds.PlanarConfiguration = planar or 0
    if frames > 1:
        ds.NumberOfFrames = frames
    if bits == 1:
        data = bytes(RNG.randrange(256) for _ in range((rows * cols * spp * frames + 7) // 8))
    elif photometric == "YBR_FULL_422":
        data = ramp(rows * cols * 2 * frames, bits)
    else:
        data = ramp(rows * cols * spp * frames, bits)
    if len(data) % 2:
        data += b"\0"
    ds.PixelData = data
    ds["PixelData"].VR = "OB" if bits <= 8 else "OW"
    return ds


def encoded(ds, syntax):
    """The object as a Part 10 file in the given transfer syntax (pydicom writes deflate itself)."""
    ds.file_meta.TransferSyntaxUID = syntax
    ds.is_little_endian = syntax != ExplicitVRBigEndian
    ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
    buf = io.BytesIO()
    ds.save_as(buf, write_like_original=False)
    return buf.getvalue()


def generated():
    out = {}
    ds = image(base(), 32, 32, 16, frames=3)
    item = Dataset()
    image(item, 8, 8, 8)
    ds.IconImageSequence = Sequence([item])
    for tag, vr, value in ((0x60000010, "US", 32), (0x60000011, "US", 32), (0x60000040, "CS", "G"),
                           (0x60000050, "SS", [1, 1]), (0x60000100, "US", 1), (0x60000102, "US", 0),
                           (0x60003000, "OW", bytes(RNG.randrange(256) for _ in range(32 * 32 // 8)))):
        ds.add_new(tag, vr, value)
    for syntax, suffix in ((ExplicitVRLittleEndian, "ele"), (ImplicitVRLittleEndian, "ile"),
                           (ExplicitVRBigEndian, "ebe"), (DeflatedExplicitVRLittleEndian, "dfl")):
        out["gen_mf16_overlay_icon_%s.dcm" % suffix] = encoded(ds, syntax)
    out["gen_1bit_unaligned.dcm"] = encoded(image(base(), 11, 13, 1, frames=3), ExplicitVRLittleEndian)
    out["gen_rgb_planar1.dcm"] = encoded(image(base(), 8, 12, 8, frames=2, spp=3, planar=1), ExplicitVRLittleEndian)
    out["gen_ybr422.dcm"] = encoded(image(base(), 8, 8, 8, spp=3, photometric="YBR_FULL_422"), ExplicitVRLittleEndian)
    out["gen_u32.dcm"] = encoded(image(base(), 6, 10, 32, frames=2), ExplicitVRLittleEndian)
    out["gen_s8_ile.dcm"] = encoded(image(base(), 16, 16, 8, signed=1), ImplicitVRLittleEndian)
    out["gen_s16_ebe.dcm"] = encoded(image(base(), 16, 16, 16, frames=2, signed=1), ExplicitVRBigEndian)
    for vr, tag, word in (("OF", 0x7FE00008, 4), ("OD", 0x7FE00009, 8)):
        ds = base("1.2.840.10008.5.1.4.1.1.30")
        ds.Rows, ds.Columns, ds.SamplesPerPixel = 8, 8, 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = word * 8
        ds.NumberOfFrames = 2
        ds.add_new(tag, vr, ramp(8 * 8 * 2 * word // 2, 16))
        out["gen_float_%s.dcm" % vr.lower()] = encoded(ds, ExplicitVRLittleEndian)
    ds = base("1.2.840.10008.5.1.4.1.1.9.1.1")
    wave = Dataset()
    wave.WaveformOriginality = "ORIGINAL"
    wave.NumberOfWaveformChannels = 2
    wave.NumberOfWaveformSamples = 40
    wave.SamplingFrequency = "500"
    wave.WaveformBitsAllocated = 16
    wave.WaveformSampleInterpretation = "SS"
    wave.WaveformData = ramp(2 * 40, 16)
    wave["WaveformData"].VR = "OW"
    ds.WaveformSequence = Sequence([wave])
    out["gen_waveform.dcm"] = encoded(ds, ExplicitVRLittleEndian)
    ds = image(base(), 8, 8, 16)
    inner = Dataset()
    inner.CodeValue = "1"
    for level in range(5):
        outer = Dataset()
        outer.CodeMeaning = "level %d" % level
        outer.ContentSequence = Sequence([inner])
        inner = outer
    ds.ContentSequence = Sequence([inner])
    ds.ContentSequence.is_undefined_length = True
    ds.ReferencedImageSequence = Sequence([Dataset()])
    out["gen_nested_seq.dcm"] = encoded(ds, ExplicitVRLittleEndian)
    out["gen_nested_seq_ile.dcm"] = encoded(ds, ImplicitVRLittleEndian)
    return out


def samples():
    out = {}
    for name in sorted(os.listdir(SAMPLES)):
        path = os.path.join(SAMPLES, name)
        if name.endswith(".dcm") and os.path.isfile(path) and os.path.getsize(path) <= MAX_SEED:
            with open(path, "rb") as f:
                out["pd_" + name] = f.read()
    return out


def format1():
    d = os.path.join(ROOT, "testdata", "format1")
    return {"f1_" + n: open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d)) if n.endswith(".dcm")}


# ---- encrypted versions, made by the chaosmask program ----

def encrypt_all(chaosmask, plain):
    out = {}
    with tempfile.TemporaryDirectory(prefix="chaosmask-seeds-") as tmp:
        ring = os.path.join(tmp, "ring")
        os.mkdir(ring, 0o700)
        key = os.path.join(ring, "fuzz.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(FUZZ_KEY.hex() + "\n")
        with open(os.path.join(ring, "active"), "w") as f:
            f.write("fuzz\n")
        cfg = os.path.join(tmp, "chaosmask.ini")
        with open(cfg, "w") as f:
            f.write("[keyring]\ndir = %s\n[log]\naudit =\nlevel = fatal\n[engine]\nthreads = 1\n" % ring)
        os.chmod(cfg, 0o600)
        for i, (name, data) in enumerate(sorted(plain.items())):
            src, dst = os.path.join(tmp, "in.dcm"), os.path.join(tmp, "out.dcm")
            with open(src, "wb") as f:
                f.write(data)
            if os.path.exists(dst):
                os.unlink(dst)
            r = subprocess.run([chaosmask, "--config", cfg, "-q", "encrypt", "--profile", PROFILES[i % 3], src, dst],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0 and os.path.exists(dst):
                with open(dst, "rb") as f:
                    out["enc_" + name] = f.read()
        # encrypted native objects compressed losslessly afterwards (a PACS may do that): their
        # decryption runs DCMTK's decoders on them first (recode.cpp)
        for name in ("gen_mf16_overlay_icon_ele.dcm", "pd_CT_small.dcm", "gen_rgb_planar1.dcm"):
            if "enc_" + name not in out:
                continue
            src = os.path.join(tmp, "enc.dcm")
            with open(src, "wb") as f:
                f.write(out["enc_" + name])
            for tool, suffix in (("dcmcrle", "rle"), ("dcmcjpls", "jls"), ("dcmcjpeg", "jpll")):
                dst = os.path.join(tmp, "recoded.dcm")
                if os.path.exists(dst):
                    os.unlink(dst)
                r = subprocess.run([tool, src, dst], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if r.returncode == 0 and os.path.exists(dst):
                    with open(dst, "rb") as f:
                        out["enc_%s_%s.dcm" % (name[:-4], suffix)] = f.read()
    return out


# ---- the harnesses' inputs ----

def dataset_offset(data):
    """Where the data set starts after the preamble and meta group, as pydicom reads them."""
    fp = DicomBytesIO(data)
    try:
        pydicom.filereader.read_preamble(fp, False)
        meta = pydicom.filereader._read_file_meta_info(fp)
    except Exception:
        return None, None
    return fp.tell(), str(meta.get("TransferSyntaxUID", ""))


# fuzz_scp_store's byte 0, bits 0-2: the transfer syntaxes the service accepts for a C-STORE
SCP_STORE_SYNTAXES = {ExplicitVRLittleEndian: 0, ImplicitVRLittleEndian: 1, ExplicitVRBigEndian: 2,
                      DeflatedExplicitVRLittleEndian: 3, "1.2.840.10008.1.2.4.50": 4, "1.2.840.10008.1.2.4.70": 5,
                      "1.2.840.10008.1.2.4.80": 6, "1.2.840.10008.1.2.5": 7}
PRECHECK_FORMS = {ExplicitVRLittleEndian: 1, ImplicitVRLittleEndian: 2, ExplicitVRBigEndian: 3,
                  DeflatedExplicitVRLittleEndian: 4, "1.2.840.10008.1.2.4.50": 5}


def dicom_inputs(outdir, plain, encrypted):
    everything = dict(plain)
    everything.update(encrypted)
    for name, data in sorted(everything.items()):
        write(outdir, "object", name, data)
        write(outdir, "precheck", name, b"\0" + data)
    for name, data in sorted(plain.items()):
        off, syntax = dataset_offset(data)
        if off is not None and syntax in PRECHECK_FORMS:
            bare = data[off:]
            write(outdir, "precheck", "bare_" + name, bytes([PRECHECK_FORMS[syntax]]) + bare)
            write(outdir, os.path.join("bare", syntax), name, bare)
        if len(data) <= 32 * 1024 and not name.startswith("f1_"):
            for mode in range(3):
                changes = RNG.randrange(4)
                control = bytes([mode << 4 | changes << 2 | RNG.randrange(3)])
                for _ in range(4):
                    control += struct.pack("<I", RNG.randrange(1 << 32)) + bytes([RNG.randrange(1, 256)])
                write(outdir, "tamper", "%s.%d" % (name, mode), control + data)


def scp_store_inputs(outdir, plain, encrypted):
    """fuzz_scp_store: byte 0 (bits 0-2 the transfer syntax, bit 3 other UIDs in the command,
    bit 4 stored twice), then the bare data set; the plain seeds and the seeds encrypted with
    the harness's key (the service stores those as received)."""
    everything = dict(plain)
    everything.update(encrypted)
    for i, (name, data) in enumerate(sorted(everything.items())):
        off, syntax = dataset_offset(data)
        if off is None or syntax not in SCP_STORE_SYNTAXES:
            continue
        head = SCP_STORE_SYNTAXES[syntax]
        write(outdir, "scp_store", name, bytes([head]) + data[off:])
        if i % 4 == 0:
            write(outdir, "scp_store", name + ".twice", bytes([head | 0x10]) + data[off:])
        if i % 9 == 0:
            write(outdir, "scp_store", name + ".other", bytes([head | 0x08]) + data[off:])


# the objects LLVMFuzzerInitialize of fuzz_scp_query.cpp stores
QUERY_ROOT = "1.2.826.0.1.3680043.10.1049."
QUERY_STUDIES = [QUERY_ROOT + "301.1", QUERY_ROOT + "301.2"]
QUERY_SERIES = [QUERY_ROOT + "302.1", QUERY_ROOT + "302.2", QUERY_ROOT + "302.3"]
QUERY_INSTANCES = [QUERY_ROOT + "300.%d" % n for n in range(1, 6)]


def identifier(syntax, **keys):
    ds = Dataset()
    for k, v in keys.items():
        setattr(ds, k, v)
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = syntax == ImplicitVRLittleEndian
    write_dataset(fp, ds)
    return fp.getvalue()


def scp_query_inputs(outdir):
    """fuzz_scp_query: byte 0 (bit 7 implicit VR; k = bits 0-6: k % 6 the operation and model,
    k / 6 % 3 the requester, k / 18 % 4 the C-MOVE destination), then the identifier."""
    ids = {
        "patient_all": dict(QueryRetrieveLevel="PATIENT", PatientID="", PatientName=""),
        "patient_p1": dict(QueryRetrieveLevel="PATIENT", PatientID="P1"),
        "patient_wild": dict(QueryRetrieveLevel="PATIENT", PatientID="P*", PatientName="Fuzz^*"),
        "study_all": dict(QueryRetrieveLevel="STUDY", StudyInstanceUID="", PatientID="", StudyDate=""),
        "study_one": dict(QueryRetrieveLevel="STUDY", StudyInstanceUID=QUERY_STUDIES[0], PatientID="P1"),
        "study_list": dict(QueryRetrieveLevel="STUDY", StudyInstanceUID="\\".join(QUERY_STUDIES)),
        "study_range": dict(QueryRetrieveLevel="STUDY", StudyInstanceUID="", StudyDate="20250101-20261231",
                            AccessionNumber="A1", StudyID=""),
        "series": dict(QueryRetrieveLevel="SERIES", PatientID="P1", StudyInstanceUID=QUERY_STUDIES[0],
                       SeriesInstanceUID="", Modality=""),
        "series_one": dict(QueryRetrieveLevel="SERIES", PatientID="P2", StudyInstanceUID=QUERY_STUDIES[1],
                           SeriesInstanceUID=QUERY_SERIES[2]),
        "image": dict(QueryRetrieveLevel="IMAGE", PatientID="P1", StudyInstanceUID=QUERY_STUDIES[0],
                      SeriesInstanceUID=QUERY_SERIES[0], SOPInstanceUID="", InstanceNumber=""),
        "image_one": dict(QueryRetrieveLevel="IMAGE", PatientID="P2", StudyInstanceUID=QUERY_STUDIES[1],
                          SeriesInstanceUID=QUERY_SERIES[2], SOPInstanceUID=QUERY_INSTANCES[4]),
        "image_list": dict(QueryRetrieveLevel="IMAGE", PatientID="P1", StudyInstanceUID=QUERY_STUDIES[0],
                           SeriesInstanceUID=QUERY_SERIES[0], SOPInstanceUID="\\".join(QUERY_INSTANCES[:3])),
        "no_level": dict(PatientID="P1"),
        "bad_level": dict(QueryRetrieveLevel="FRAME", StudyInstanceUID=QUERY_STUDIES[0]),
        "missing_unique": dict(QueryRetrieveLevel="IMAGE", SOPInstanceUID=""),
    }
    for name, keys in sorted(ids.items()):
        for syntax, bit in ((ExplicitVRLittleEndian, 0), (ImplicitVRLittleEndian, 0x80)):
            body = identifier(syntax, **keys)
            for op in range(6):
                for who in range(3):
                    dests = range(4) if op >= 4 and who == 0 else range(1)
                    for dest in dests:
                        if bit and (who or dest):
                            continue
                        k = op + 6 * who + 18 * dest
                        write(outdir, "scp_query", "%s_%02x" % (name, k | bit), bytes([k | bit]) + body)
    # a sequence in the identifier (what a query may carry: a Referenced Study Sequence)
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = ""
    item = Dataset()
    item.ReferencedSOPInstanceUID = QUERY_INSTANCES[0]
    ds.ReferencedStudySequence = Sequence([item])
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    write(outdir, "scp_query", "study_sequence_01", b"\x01" + fp.getvalue())


def block_inputs(outdir):
    def record(op, choice, field, value=b""):
        return bytes([op << 4 | choice, field]) + struct.pack("<H", len(value)) + value

    for b in range(3):
        for reread in (0, 0x80):
            head = bytes([b | reread])
            write(outdir, "block", "intact_%d_%02x" % (b, reread), head)
            for field in range(1, 0x11):
                write(outdir, "block", "un_%d_%02x_%02x" % (b, reread, field), head + record(1, 1, field))
                write(outdir, "block", "ob_%d_%02x_%02x" % (b, reread, field), head + record(1, 2, field))
                write(outdir, "block", "del_%d_%02x_%02x" % (b, reread, field), head + record(2, 0, field))
            write(outdir, "block", "v1_%d_%02x" % (b, reread), head + record(0, 0, 1, struct.pack("<I", 1)))
            write(outdir, "block", "two_%d_%02x" % (b, reread), head + record(4, 0, 0x11))
            write(outdir, "block", "keyid_%d_%02x" % (b, reread), head + record(0, 0, 4, b"other "))
            write(outdir, "block", "paths_%d_%02x" % (b, reread), head + record(3, 0, 7, b"\\7FE00010"))


def config_inputs(outdir):
    with open(os.path.join(ROOT, "config", "chaosmask.ini"), "rb") as f:
        write(outdir, "config", "shipped.ini", f.read())
    texts = {
        "empty.ini": "",
        "every_key.ini": "[engine]\nprofile = lorenz\nthreads = 4\n[keyring]\ndir = /etc/chaosmask/keyring\n"
                         "[archive]\ndir = archive\n[scp]\naetitle = CHAOSMASK\nport = 104\n[log]\nlevel = debug\n"
                         "audit = /var/log/chaosmask/audit.log\naudit_fsync = no\n[dicom]\nmax_depth = 64\n"
                         "max_elements = 5000000\nmax_object_size = 2G\npatient_identity = allow\n",
        "comments.ini": "; a comment\n# another\n[engine] ; inline\nprofile = aes-256-gcm ; the AEAD\n\n[log]\naudit =\n",
        "crlf.ini": "[scp]\r\naetitle = ARCHIVE 1\r\nport = 11112\r\n",
        "bom.ini": "\ufeff[dicom]\nmax_object_size = 512M\nmax_depth = 8\n",
        "dup.ini": "[engine]\nthreads = 1\nthreads = 2\n",
        "indent.ini": "[keyring]\ndir = ring\n  more\n",
        "unknown.ini": "[engine]\ncolour = blue\n[nowhere]\nx = 1\n",
        "nosection.ini": "profile = lorenz\n",
        "bad_values.ini": "[scp]\nport = 0\naetitle = 12345678901234567\n[dicom]\nmax_object_size = 65G\n",
        "long.ini": "[archive]\ndir = " + "a" * 250 + "\n",
        "relative.ini": "[keyring]\ndir = ../keys/./ring//x\n[log]\naudit = logs/../audit.log\n",
    }
    for name, text in texts.items():
        write(outdir, "config", name, text.encode("utf-8"))


def keyfile_inputs(outdir):
    import base64
    hexkey = FUZZ_KEY.hex().encode()
    b64 = base64.b64encode(FUZZ_KEY)
    entries = {
        "hex": b"\x00" + hexkey, "hex_nl": b"\x00" + hexkey + b"\n", "hex_upper": b"\x00" + hexkey.upper() + b"\r\n",
        "b64": b"\x00" + b64 + b"\n", "b64_noncanonical": b"\x00" + b64[:42] + b"B=",
        "short": b"\x00" + hexkey[:63], "nul": b"\x00" + hexkey[:10] + b"\0" + hexkey[11:],
        "mode0400": bytes([0x04]) + hexkey, "mode0640": bytes([0x08]) + hexkey, "link": bytes([0x10]) + hexkey,
        "active": b"\x01fuzz\n", "active_bad": b"\x01.hidden\n", "active_long": b"\x01" + b"k" * 70,
        "active_0666": bytes([0x0D]) + b"fuzz\n", "ring": b"\x02fuzz\n", "ring_dots": b"\x02site-2026.01_a\n",
    }
    for name, data in entries.items():
        write(outdir, "keyfile", name, data)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, depth, color, rows, extra=b"", interlace=0):
    """A PNG of the given rows (each a filter byte then the packed samples); test input only."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", zlib.compress(rows)) +
            png_chunk(b"IEND", b""))


def png_inputs(outdir):
    def rows(width, height, bytes_per_row):
        return b"".join(b"\0" + bytes((x * 7 + y * 13) & 0xFF for x in range(bytes_per_row)) for y in range(height))

    write(outdir, "png", "gray8.png", png(8, 8, 8, 0, rows(8, 8, 8)))
    write(outdir, "png", "gray16.png", png(8, 8, 16, 0, rows(8, 8, 16)))
    for depth in (1, 2, 4):
        write(outdir, "png", "gray%d.png" % depth, png(9, 5, depth, 0, rows(9, 5, (9 * depth + 7) // 8)))
    write(outdir, "png", "gray4_trns.png", png(9, 5, 4, 0, rows(9, 5, 5), png_chunk(b"tRNS", b"\x00\x03")))
    write(outdir, "png", "rgb8.png", png(6, 4, 8, 2, rows(6, 4, 18)))
    write(outdir, "png", "rgb16.png", png(6, 4, 16, 2, rows(6, 4, 36)))
    write(outdir, "png", "rgba8.png", png(6, 4, 8, 6, rows(6, 4, 24)))
    write(outdir, "png", "gray_alpha.png", png(6, 4, 8, 4, rows(6, 4, 12)))
    palette = png_chunk(b"PLTE", bytes(range(48)))
    write(outdir, "png", "palette4.png", png(7, 3, 4, 3, rows(7, 3, 4), palette))
    write(outdir, "png", "palette8_trns.png",
          png(4, 4, 8, 3, b"".join(b"\0" + bytes(i % 16 for i in range(4)) for _ in range(4)),
              palette + png_chunk(b"tRNS", b"\x00\x80")))
    adam7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    passes = b""
    for x0, y0, dx, dy in adam7:
        cols, nrows = (9 - x0 + dx - 1) // dx, (9 - y0 + dy - 1) // dy
        if cols > 0:
            passes += rows(cols, nrows, cols)
    write(outdir, "png", "interlaced.png", png(9, 9, 8, 0, passes, interlace=1))
    write(outdir, "png", "truncated.png", png(8, 8, 8, 0, rows(8, 8, 8))[:60])
    paper = os.path.join(ROOT, "testdata", "paper")
    for name in sorted(os.listdir(paper)):
        if name.endswith(".png") and os.path.getsize(os.path.join(paper, name)) <= MAX_SEED:
            shutil.copy(os.path.join(paper, name), os.path.join(outdir, "png", "paper_" + name))


def main():
    args = sys.argv[1:]
    chaosmask = None
    if len(args) >= 2 and args[0] == "--chaosmask":
        chaosmask = os.path.abspath(args[1])
        args = args[2:]
    if len(args) != 1:
        sys.stderr.write("usage: make_seeds.py [--chaosmask PATH] OUTDIR\n")
        return 2
    outdir = args[0]
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    plain = samples()
    plain.update(generated())
    encrypted = encrypt_all(chaosmask, plain) if chaosmask else {}
    f1 = format1()
    dicom_inputs(outdir, dict(plain, **f1), encrypted)
    scp_store_inputs(outdir, dict(plain, **f1), encrypted)
    scp_query_inputs(outdir)
    block_inputs(outdir)
    config_inputs(outdir)
    keyfile_inputs(outdir)
    png_inputs(outdir)
    counts = {d: len(os.listdir(os.path.join(outdir, d))) for d in sorted(os.listdir(outdir))}
    print("seeds: " + ", ".join("%s %d" % kv for kv in counts.items()) +
          " (%d plain DICOM objects, %d encrypted by %s)" % (len(plain), len(encrypted), chaosmask or "nobody"))
    if chaosmask and not encrypted:
        sys.stderr.write("make_seeds.py: %s encrypted none of the seeds\n" % chaosmask)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
