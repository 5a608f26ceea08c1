#!/usr/bin/python3
"""no_plaintext.py STORAGE_DIR REFERENCE... - fails when any file under STORAGE_DIR holds a
run of plaintext pixel bytes of a reference file (a DICOM file as Orthanc would store it).

From each reference, windows of 48 bytes are taken across the value of every pixel-bearing
element (Pixel Data, Float / Double Float Pixel Data, Overlay Data, Waveform Data); windows
with fewer than 6 distinct byte values (flat background) are skipped, since a constant run
proves nothing either way.  A reference with pixel data that yields no usable window is an
error too: the check must be able to fail."""
import os
import sys

import pydicom

WINDOW = 48
PER_ELEMENT = 24
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData", "WaveformData")


def pixel_values(ds):
    for elem in ds.iterall():
        if elem.keyword in PIXEL_KEYWORDS or (elem.tag.group & 0xFF01) == 0x6000 and elem.tag.element == 0x3000:
            if isinstance(elem.value, (bytes, bytearray)) and len(elem.value) >= WINDOW:
                yield elem.keyword or str(elem.tag), bytes(elem.value)


def windows(value):
    step = max(1, (len(value) - WINDOW) // PER_ELEMENT)
    for off in range(0, len(value) - WINDOW + 1, step):
        w = value[off:off + WINDOW]
        if len(set(w)) >= 6:
            yield w


def main():
    storage, refs = sys.argv[1], sys.argv[2:]
    stored = []
    for root, _, files in os.walk(storage):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                stored.append((name, f.read()))
    if not stored:
        sys.exit("no file in %s" % storage)
    checked = 0
    for ref in refs:
        ds = pydicom.dcmread(ref)
        for keyword, value in pixel_values(ds):
            ws = list(windows(value))
            if not ws:
                sys.exit("%s: %s has no window with varied bytes to look for" % (ref, keyword))
            for w in ws:
                checked += 1
                for name, data in stored:
                    if w in data:
                        sys.exit("%s: %s bytes found in plain in stored file %s" % (ref, keyword, name))
    print("no plaintext: %d pixel windows from %d references searched in %d stored files"
          % (checked, len(refs), len(stored)))
    if checked == 0:
        sys.exit("nothing was searched")


if __name__ == "__main__":
    main()
