#!/usr/bin/python3
"""make_study.py OUTDIR N [options] - a generated study (pydicom): N single-frame objects with
pixels that vary from slice to slice (a smooth phantom plus noise, so no two runs of bytes are
alike), fresh UIDs, explicit VR little endian.

options:
  --rows R --cols C        matrix (default 64 x 64)
  --bits 16|8              bits allocated (default 16, signed CT)
  --modality CT|MR|XA      (default CT)
  --frames F               multi-frame objects of F frames (XA)
  --patient NAME --pid ID  patient name and ID (default generated)
  --studies K              spread the N objects over K studies (default 1)
  --prefix P               file names P0000.dcm ... (default obj)
  --seed S                 random seed (default: from the clock)
Prints the study UIDs, one a line."""
import os
import random
import sys
import time

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CLASSES = {"CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4",
           "XA": "1.2.840.10008.5.1.4.1.1.12.1"}


def options(argv):
    o = {"rows": 64, "cols": 64, "bits": 16, "modality": "CT", "frames": 1, "patient": None, "pid": None,
         "studies": 1, "prefix": "obj", "seed": None}
    i = 0
    while i < len(argv):
        key = argv[i][2:]
        if key not in o:
            sys.exit(__doc__)
        val = argv[i + 1]
        o[key] = int(val) if isinstance(o[key], int) and key not in ("patient", "pid", "prefix", "modality") else val
        i += 2
    return o


def base_frame(o):
    """A smooth phantom (a gradient and a disc), once per run: it makes the pixels look like an
    image, which the encryptor's already-a-mask test would not take random bytes for."""
    rows, cols, bits = o["rows"], o["cols"], o["bits"]
    out = bytearray()
    for r in range(rows):
        for c in range(cols):
            v = (r * 1024 // rows + c * 512 // cols) + (1500 if (r - rows // 2) ** 2 + (c - cols // 2) ** 2 < (rows // 3) ** 2 else 0)
            out += (v & 0x0FFF).to_bytes(2, "little") if bits == 16 else bytes([v & 0xFF])
    return bytes(out)


LOW_NOISE = bytes(x & 0x3F for x in range(256))


def pixels(o, rnd, index, base):
    """Each frame: the phantom with noise in the low 6 bits (of each 16-bit word's low byte)."""
    out = bytearray()
    step = 2 if o["bits"] == 16 else 1
    for _ in range(o["frames"]):
        frame = bytearray(base)
        noise = rnd.randbytes(len(base) // step).translate(LOW_NOISE)
        frame[0::step] = bytes(a ^ b for a, b in zip(frame[0::step], noise)) if len(base) < 4096 else \
            (int.from_bytes(frame[0::step], "little") ^ int.from_bytes(noise, "little")).to_bytes(len(noise), "little")
        out += frame
    return bytes(out)


def make(o, rnd, study, series, index, patient, pid, base):
    ds = Dataset()
    cls = CLASSES[o["modality"]]
    ds.SOPClassUID, ds.SOPInstanceUID = cls, generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = patient, pid, "19700101", "O"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20260101", "120000", "1", "A" + pid[-6:]
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = o["modality"], 1, index + 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = o["rows"], o["cols"], 1, "MONOCHROME2"
    ds.BitsAllocated = o["bits"]
    ds.BitsStored = 12 if o["bits"] == 16 else 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    if o["frames"] > 1:
        ds.NumberOfFrames = o["frames"]
    ds.PixelData = pixels(o, rnd, index, base)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = cls, ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian, ds.is_implicit_VR = True, False
    return ds


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, n, o = sys.argv[1], int(sys.argv[2]), options(sys.argv[3:])
    rnd = random.Random(o["seed"] if o["seed"] is not None else time.time_ns())
    os.makedirs(out, exist_ok=True)
    studies = [(generate_uid(), generate_uid()) for _ in range(o["studies"])]
    tag = "%06d" % rnd.randrange(10 ** 6)
    base = base_frame(o)
    for i in range(n):
        k = i % o["studies"]
        patient = o["patient"] or "TEST^PATIENT%s^%d" % (tag, k)
        pid = o["pid"] or "PID%s%d" % (tag, k)
        ds = make(o, rnd, studies[k][0], studies[k][1], i, patient, pid, base)
        ds.save_as(os.path.join(out, "%s%04d.dcm" % (o["prefix"], i)), write_like_original=False)
    for s in studies:
        print(s[0])


if __name__ == "__main__":
    main()
