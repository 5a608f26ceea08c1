#!/usr/bin/python3
"""make_fixtures.py OUTDIR - writes the generated DICOM fixtures of the dicom tests (small, made
at test time, never committed): layouts the pydicom samples lack (multi-frame, 1-bit, planar
configuration 1, 32-bit, float and double float pixel data, overlays, an icon image) and
objects with inconsistent geometry or unsupported layouts for the bad-input test.
Pixel values come from a fixed-seed generator so every run writes the same files."""
import os
import random
import sys

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

OUT = sys.argv[1]
RNG = random.Random(4)


def smooth_bytes(n, bits):
    """A smooth ramp with a little noise, like an image (so masking has work to do)."""
    out = bytearray()
    top = (1 << bits) - 1
    step = max(1, top // 4096)
    for i in range(n):
        v = ((i * step) + RNG.randrange(4)) & top
        out += v.to_bytes(bits // 8, "little")
    return bytes(out)


def base(sop_class="1.2.840.10008.5.1.4.1.1.7"):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = "Fixture^ChaosMask"
    ds.PatientID = "CM-FIXTURE"
    ds.Modality = "OT"
    return ds


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
        nbytes = (rows * cols * spp * frames + 7) // 8
        data = bytes(RNG.randrange(256) for _ in range(nbytes))
    else:
        data = smooth_bytes(rows * cols * spp * frames, bits)
    if len(data) % 2:
        data += b"\0"
    ds.PixelData = data
    ds["PixelData"].VR = "OB" if bits <= 8 else "OW"
    return ds


def save(ds, name):
    ds.save_as(os.path.join(OUT, name), write_like_original=False)


def icon(rows=16, cols=16):
    item = Dataset()
    image(item, rows, cols, 8)
    return Sequence([item])


os.makedirs(OUT, exist_ok=True)

# good layouts
ds = image(base(), 128, 128, 16, frames=12)
ds.IconImageSequence = icon()
ds.add_new(0x60000010, "US", 128)
ds.add_new(0x60000011, "US", 128)
ds.add_new(0x60000040, "CS", "G")
ds.add_new(0x60000050, "SS", [1, 1])
ds.add_new(0x60000100, "US", 1)
ds.add_new(0x60000102, "US", 0)
ds.add_new(0x60003000, "OW", bytes(RNG.randrange(256) for _ in range(128 * 128 // 8)))
save(ds, "gen_mf16_overlay_icon.dcm")
save(image(base(), 33, 33, 1, frames=3), "gen_1bit_unaligned.dcm")
save(image(base(), 64, 64, 1, frames=4), "gen_1bit_frames.dcm")
save(image(base(), 48, 64, 8, frames=2, spp=3, planar=1), "gen_rgb_planar1.dcm")
save(image(base(), 48, 64, 8, frames=3, spp=3, planar=0), "gen_rgb_mf.dcm")
save(image(base(), 30, 40, 32, frames=2), "gen_u32.dcm")
save(image(base(), 64, 64, 8, signed=1), "gen_s8.dcm")
save(image(base(), 256, 256, 16, frames=8, signed=1), "gen_mf16s.dcm")

for vr, tag, word in (("OF", 0x7FE00008, 4), ("OD", 0x7FE00009, 8)):
    ds = base("1.2.840.10008.5.1.4.1.1.30")
    ds.Rows, ds.Columns = 32, 32
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = word * 8
    ds.NumberOfFrames = 2
    ds.add_new(tag, vr, smooth_bytes(32 * 32 * 2 * word // 2, 16))
    save(ds, "gen_float_%s.dcm" % vr.lower())

# bad geometry and unsupported layouts (bad_ prefix: the corpus skips them)
ds = image(base(), 64, 64, 16)
ds.Rows = 65
save(ds, "bad_length.dcm")
ds = image(base(), 64, 64, 16)
ds.HighBit = 16
save(ds, "bad_highbit.dcm")
ds = image(base(), 64, 64, 16)
ds.Rows, ds.Columns, ds.NumberOfFrames = 65535, 65535, 100000
save(ds, "bad_overflow.dcm")
ds = image(base(), 64, 64, 16)
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 12, 12, 11
save(ds, "bad_bits12.dcm")
ds = image(base(), 64, 64, 16)
ds.SamplesPerPixel = 2
save(ds, "bad_spp2.dcm")
ds = image(base(), 64, 64, 16)
del ds.Rows
save(ds, "bad_norows.dcm")
