#!/usr/bin/python3
"""compare.py - what the chaosmask-scp tests assert about objects, with pydicom and dcmdump.

  compare.py same A B        the data sets of A and B are identical: every element (pydicom,
                             recursively), dcmdump's listing (lengths and delimiters aside),
                             and the pixel bytes bit for bit; the File Meta group (0002) and
                             Data Set Trailing Padding (FFFC,FFFC), which DCMTK's senders
                             never send, are not compared.  Prints the pixel MD5.
  compare.py masked A B      A (original) and B (archive file) hold the same elements apart
                             from the pixel data and the ChaosMask block, and B's pixel bytes
                             differ from A's.
  compare.py plaintext DIR ORIG...
                             no file under DIR contains a 32-byte run of the pixel data of any
                             ORIG (runs taken from 8 places, only runs with 8 or more distinct
                             byte values); prints how many originals had such runs.
  compare.py same-dir ORIGS DIR N
                             every file in DIR is `same` as the file of ORIGS (a directory or a
                             list file of paths) with its SOP Instance UID, and there are N.
  compare.py values-dir ORIGS DIR N
                             as same-dir, without dcmdump's text (files another toolkit wrote
                             may spell a number differently; pydicom compares the values)
  compare.py masked-dir ORIGS ARCHIVE N
                             every original has an archive file under ARCHIVE that is `masked`
                             against it (N of them).
  compare.py stored-dir ARCHIVE DIR N
                             every file in DIR is `same` as the archive file of its SOP Instance
                             UID (retrieved as stored), N of them.
  compare.py uids FILE       the SOP class, SOP instance, study and series UIDs, and the
                             transfer syntax, on one line.
Exit 0 when the assertion holds, 1 with the reason on stderr."""
import glob
import hashlib
import os
import re
import subprocess
import sys

import pydicom

PADDING = 0xFFFCFFFC


def load(path):
    ds = pydicom.dcmread(path, force=True)
    if PADDING in ds:
        del ds[PADDING]
    return ds


def pixel_bytes(ds):
    return bytes(ds.PixelData) if "PixelData" in ds else b""


def pixel_values(ds):
    """Native pixel data in little-endian word order whatever the transfer syntax (a data set
    sent in another native syntax than its file's has the same values, other bytes)."""
    data = pixel_bytes(ds)
    word = ds.get("BitsAllocated", 8) // 8
    if ds.is_little_endian or word not in (2, 4) or "PixelData" not in ds or ds["PixelData"].VR == "OB":
        return data
    return b"".join(data[i:i + word][::-1] for i in range(0, len(data) - len(data) % word, word))


def differing(a, b, skip=()):
    """Tags whose elements differ (recursively through sequences by pydicom's equality)."""
    # group lengths (gggg,0000) are encoding, recomputed by whoever writes the data set
    keys = {k for k in set(a.keys()) | set(b.keys()) if k.group != 0x0002 and k.element != 0 and k not in skip}
    out = []
    for k in sorted(keys):
        if k not in a or k not in b:
            out.append("%s only in %s" % (k, "A" if k in a else "B"))
        elif a[k] != b[k]:
            out.append("%s differs" % k)
    return out


DUMPS = {}


def dump_all(paths):
    """Runs dcmdump once over many files (one process, not one per file) into DUMPS."""
    paths = [p for p in paths if p not in DUMPS]
    for i in range(0, len(paths), 200):
        chunk = paths[i:i + 200]
        text = subprocess.run(["dcmdump", "-q", "+F"] + chunk, capture_output=True, text=True,
                              errors="replace").stdout
        current = None
        for line in text.splitlines():
            m = re.match(r"# dcmdump \(\d+/\d+\): (.*)$", line)
            if m:
                current = m.group(1)
                DUMPS[current] = []
            elif current is not None:
                DUMPS[current].append(line)


def dump_lines(path):
    """dcmdump's listing without meta group, lengths, delimiters and trailing padding."""
    if path not in DUMPS:
        dump_all([path])
    lines = []
    for line in DUMPS.get(path, []):
        line = line.strip()
        if not line.startswith("(") or line.startswith("(0002,") or line.startswith("(fffc,fffc)"):
            continue
        if line[5:10] == ",0000":
            continue
        if line.startswith("(fffe,e00d)") or line.startswith("(fffe,e0dd)"):
            continue
        line = re.sub(r"\s+#.*$", "", line)
        line = re.sub(r"\((Sequence|Item) with (explicit|undefined) length", r"(\1", line)
        lines.append(line)
    return lines


def cmd_values(a_path, b_path):
    """`same` without dcmdump's text: for files another toolkit wrote, which may spell a
    number differently ("80" for "80.0000") while the value is the same."""
    a, b = load(a_path), load(b_path)
    diff = differing(a, b)
    if pixel_values(a) != pixel_values(b):
        diff.append("pixel bytes differ")
    if diff:
        sys.stderr.write("%s vs %s:\n  %s\n" % (a_path, b_path, "\n  ".join(diff[:10])))
        return 1
    return 0


def cmd_same(a_path, b_path):
    a, b = load(a_path), load(b_path)
    diff = [d for d in differing(a, b) if not (d.startswith("(7fe0, 0010) differs") and
                                               a.is_little_endian != b.is_little_endian)]
    da, db = dump_lines(a_path), dump_lines(b_path)
    if len(da) < 5 or len(db) < 5:
        diff.append("dcmdump listed no data set (%d / %d lines)" % (len(da), len(db)))
    if a.is_little_endian != b.is_little_endian:  # dcmdump shows native pixel words as read
        da = [l for l in da if not l.startswith("(7fe0,0010)")]
        db = [l for l in db if not l.startswith("(7fe0,0010)")]
    if da != db:
        first = next(i for i in range(min(len(da), len(db)) + 1) if i >= len(da) or i >= len(db) or da[i] != db[i])
        diff.append("dcmdump differs at line %d: %r / %r" % (first, da[first] if first < len(da) else None,
                                                              db[first] if first < len(db) else None))
    pa, pb = pixel_values(a), pixel_values(b)
    if pa != pb:
        diff.append("pixel bytes differ (%s / %s)" % (hashlib.md5(pa).hexdigest(), hashlib.md5(pb).hexdigest()))
    if diff:
        sys.stderr.write("%s vs %s:\n  %s\n" % (a_path, b_path, "\n  ".join(diff[:10])))
        return 1
    print("identical, pixel md5 %s" % hashlib.md5(pa).hexdigest())
    return 0


def cmd_masked(a_path, b_path):
    a, b = load(a_path), load(b_path)
    block = [k for k in b.keys() if k.group == 0x0099]
    # the block, the pixels, the attributes that say "encrypted" (Image Type, Image Comments,
    # Derivation Description; restored on decrypt) and the other pixel-bearing elements
    marks = {0x00080008, 0x00204000, 0x00082111}
    pixels = {0x7FE00010, 0x7FE00008, 0x7FE00009, 0x54001010, 0x00880200}
    skip = set(block) | {pydicom.tag.Tag(t) for t in marks | pixels}
    skip |= {k for k in b.keys() if k.group & 0xFF01 == 0x6000 and k.element == 0x3000}
    diff = differing(a, b, skip)
    if not block:
        diff.append("no ChaosMask block (0099,xxxx) in the archive file")
    if pixel_bytes(a) and pixel_bytes(a) == pixel_bytes(b):
        diff.append("the archive file holds the original pixel bytes")
    if diff:
        sys.stderr.write("%s vs %s:\n  %s\n" % (a_path, b_path, "\n  ".join(diff[:10])))
        return 1
    print("masked, other elements equal")
    return 0


def windows(data, n=8, size=32):
    if len(data) < size:
        return []
    step = max((len(data) - size) // n, 1)
    out = []
    for off in range(0, len(data) - size + 1, step):
        w = data[off:off + size]
        if len(set(w)) >= 8:
            out.append(w)
    return out[:n]


def cmd_plaintext(directory, originals):
    contents = [open(f, "rb").read() for f in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
                if os.path.isfile(f)]
    checked = 0
    for path in originals:
        runs = windows(pixel_bytes(load(path)))
        if not runs:
            continue
        checked += 1
        for w in runs:
            if any(w in c for c in contents):
                sys.stderr.write("%s: a run of its pixel bytes is in the archive in clear\n" % path)
                return 1
    print("no plaintext pixel run of %d originals in %d archive files" % (checked, len(contents)))
    return 0


def by_instance(paths):
    out = {}
    for p in paths:
        try:
            out[str(pydicom.dcmread(p, stop_before_pixels=True, force=True).SOPInstanceUID)] = p
        except Exception:
            pass
    return out


def listing(where):
    if os.path.isdir(where):
        return [os.path.join(where, f) for f in sorted(os.listdir(where))]
    return [l.strip() for l in open(where) if l.strip()]


def archive_files(directory):
    return sorted(glob.glob(os.path.join(directory, "??", "*.dcm")))


def pairwise(fn, reference, received, n):
    ref = by_instance(reference)
    got = by_instance(received)
    dump_all(list(ref.values()) + list(got.values()))
    failed = 0
    for sop, path in got.items():
        if sop not in ref:
            sys.stderr.write("%s: SOP Instance UID %s was never sent\n" % (path, sop))
            failed += 1
        elif fn(ref[sop], path) != 0:
            failed += 1
    if len(got) != int(n):
        sys.stderr.write("%d objects, expected %s\n" % (len(got), n))
        failed += 1
    if failed == 0:
        print("%d objects checked" % len(got))
    return 1 if failed else 0


def quiet(fn):
    def run(a, b):
        saved, sys.stdout = sys.stdout, open(os.devnull, "w")
        try:
            return fn(a, b)
        finally:
            sys.stdout.close()
            sys.stdout = saved
    return run


def cmd_uids(path):
    ds = pydicom.dcmread(path, force=True)
    ts = ds.file_meta.TransferSyntaxUID if "TransferSyntaxUID" in ds.file_meta else ""
    print(ds.SOPClassUID, ds.SOPInstanceUID, ds.StudyInstanceUID, ds.get("SeriesInstanceUID", ""), ts)
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "same":
        return cmd_same(*args)
    if cmd == "masked":
        return cmd_masked(*args)
    if cmd == "plaintext":
        return cmd_plaintext(args[0], args[1:])
    if cmd == "same-dir":
        return pairwise(quiet(cmd_same), listing(args[0]), listing(args[1]), args[2])
    if cmd == "values-dir":
        return pairwise(cmd_values, listing(args[0]), listing(args[1]), args[2])
    if cmd == "masked-dir":
        return pairwise(lambda a, b: quiet(cmd_masked)(b, a), archive_files(args[1]), listing(args[0]), args[2])
    if cmd == "stored-dir":
        return pairwise(quiet(cmd_same), archive_files(args[0]), listing(args[1]), args[2])
    if cmd == "uids":
        return cmd_uids(args[0])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
