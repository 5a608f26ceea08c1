#!/usr/bin/python3
"""make_hostile.py OUTDIR - DICOM files built byte by byte to break a recursive parser or to
run past their own ends, for the structure check (dicom_precheck.h) and its tests:

  deep_explicit_undefined.dcm   20,000 nested sequences, explicit VR LE, undefined lengths
  deep_explicit_defined.dcm     the same with defined lengths
  deep_implicit.dcm             implicit VR LE (Content Sequence, SQ by the dictionary)
  deep_bigendian.dcm            explicit VR big endian
  deep_deflate.dcm              deflated explicit VR LE
  deep_un_cp246.dcm             UN of undefined length (CP-246), nested in implicit VR inside
  deep_wrong_lengths.dcm        every sequence claims 8 bytes and holds all the deeper ones:
                                DCMTK reads on past such ends (and recurses just the same)
  depth_33.dcm / depth_32.dcm   one level beyond / exactly at the default limit of 32
  many_elements.dcm             2,000,000 empty items in one sequence (deflated: 16 KiB)
  value_past_end.dcm            Pixel Data claims 524288 bytes, 30000 follow
  item_past_sequence.dcm        implicit VR: a private value that starts like a sequence, but
                                its item claims more bytes than the value has
  item_past_sequence_sq.dcm     an SQ whose last item runs past the sequence's length (DCMTK
                                reads it, as it reads pydicom's DICOMDIR-nooffset)
  deflate_bomb.dcm              claims 4 GiB, inflates to 64 MiB of zeros, then ends
  garbage_after.dcm             a valid object followed by bytes that are no element
  short_garbage_after.dcm       a valid object followed by 5 stray bytes
  valid_small.dcm               a valid object (some nesting, a private UN sequence)
  wide_elements.dcm             200,000 empty private elements before 8x8 pixels
  wide_fragments.dcm            encapsulated pixel data of 200,000 one-frame fragments
  wide_items.dcm                a Per-frame Functional Groups Sequence of 200,000 items
                                (the wide_ files are valid: reading them must take time in
                                proportion to their size, not its square)

Only the standard library: every byte is written here, nothing is parsed."""
import os
import struct
import sys
import zlib

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATE = "1.2.840.10008.1.2.1.99"
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
UNDEFINED = 0xFFFFFFFF
CONTENT_SEQ = (0x0040, 0xA730)  # SQ in the data dictionary
N_DEEP = 20000


def pad(value, filler=b" "):
    return value + filler if len(value) % 2 else value


class Enc:
    def __init__(self, explicit=True, big=False):
        self.explicit, self.big = explicit, big
        self.e = ">" if big else "<"

    def tag(self, g, e):
        return struct.pack(self.e + "HH", g, e)

    def elem_header(self, g, e, vr, length):
        if not self.explicit:
            return self.tag(g, e) + struct.pack(self.e + "I", length)
        if vr in LONG_VRS:
            return self.tag(g, e) + vr + b"\0\0" + struct.pack(self.e + "I", length)
        return self.tag(g, e) + vr + struct.pack(self.e + "H", length)

    def elem(self, g, e, vr, value):
        return self.elem_header(g, e, vr, len(value)) + value

    def item(self, length):
        return self.tag(0xFFFE, 0xE000) + struct.pack(self.e + "I", length)

    def item_end(self):
        return self.tag(0xFFFE, 0xE00D) + struct.pack(self.e + "I", 0)

    def seq_end(self):
        return self.tag(0xFFFE, 0xE0DD) + struct.pack(self.e + "I", 0)


LE = Enc()


def part10(ts, dataset):
    """Preamble, DICM and an explicit VR little endian meta group for transfer syntax ts."""
    uid = pad(b"1.2.826.0.1.3680043.10.1234.1", b"\0")
    meta = (LE.elem(0x0002, 0x0001, b"OB", b"\0\1")
            + LE.elem(0x0002, 0x0002, b"UI", pad(b"1.2.840.10008.5.1.4.1.1.7", b"\0"))
            + LE.elem(0x0002, 0x0003, b"UI", uid)
            + LE.elem(0x0002, 0x0010, b"UI", pad(ts.encode(), b"\0"))
            + LE.elem(0x0002, 0x0012, b"UI", pad(b"1.2.826.0.1.3680043.10.1234", b"\0")))
    group_length = LE.elem(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta)))
    return b"\0" * 128 + b"DICM" + group_length + meta + dataset


def base(enc):
    """A few top-level elements before the nesting."""
    return (enc.elem(0x0008, 0x0016, b"UI", pad(b"1.2.840.10008.5.1.4.1.1.7", b"\0"))
            + enc.elem(0x0008, 0x0018, b"UI", pad(b"1.2.826.0.1.3680043.10.1234.1", b"\0"))
            + enc.elem(0x0010, 0x0010, b"PN", pad(b"Hostile^Test")))


def nested_undefined(enc, depth, inner_enc=None):
    """depth Content Sequences, each with one item, undefined lengths throughout."""
    inner_enc = inner_enc or enc
    head = enc.elem_header(*CONTENT_SEQ, b"SQ", UNDEFINED) + enc.item(UNDEFINED)
    tail = enc.item_end() + enc.seq_end()
    leaf = enc.elem(0x0008, 0x0100, b"SH", pad(b"LEAF"))
    return head * depth + leaf + tail * depth


def nested_defined(enc, depth):
    """The same with every sequence and item length spelled out (computed inside out)."""
    leaf = enc.elem(0x0008, 0x0100, b"SH", pad(b"LEAF"))
    sq_header = len(enc.elem_header(*CONTENT_SEQ, b"SQ", 0))
    lengths = []
    content = len(leaf)
    for _ in range(depth):
        item_len = content
        seq_len = 8 + item_len
        lengths.append((seq_len, item_len))
        content = sq_header + seq_len
    out = bytearray()
    for seq_len, item_len in reversed(lengths):
        out += enc.elem_header(*CONTENT_SEQ, b"SQ", seq_len) + enc.item(item_len)
    return bytes(out + leaf)


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def write(outdir, name, data):
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    be, implicit = Enc(big=True), Enc(explicit=False)

    write(outdir, "deep_explicit_undefined.dcm", part10(EXPLICIT_LE, base(LE) + nested_undefined(LE, N_DEEP)))
    write(outdir, "deep_explicit_defined.dcm", part10(EXPLICIT_LE, base(LE) + nested_defined(LE, N_DEEP)))
    write(outdir, "deep_implicit.dcm",
          part10(IMPLICIT_LE, base(implicit) + nested_undefined(implicit, N_DEEP)))
    write(outdir, "deep_bigendian.dcm", part10(EXPLICIT_BE, base(be) + nested_undefined(be, N_DEEP)))
    write(outdir, "deep_deflate.dcm", part10(DEFLATE, deflate(base(LE) + nested_undefined(LE, N_DEEP))))
    # UN of undefined length: its items are implicit VR LE (CP-246), and so is all inside.
    un = (LE.elem_header(*CONTENT_SEQ, b"UN", UNDEFINED) + implicit.item(UNDEFINED)
          + nested_undefined(implicit, N_DEEP) + implicit.item_end() + implicit.seq_end())
    write(outdir, "deep_un_cp246.dcm", part10(EXPLICIT_LE, base(LE) + un))

    wrong = (LE.elem_header(*CONTENT_SEQ, b"SQ", 8) + LE.item(UNDEFINED)) * N_DEEP
    wrong += LE.elem(0x0008, 0x0100, b"SH", pad(b"LEAF")) + LE.item_end() * N_DEEP
    write(outdir, "deep_wrong_lengths.dcm", part10(EXPLICIT_LE, base(LE) + wrong))

    write(outdir, "depth_33.dcm", part10(EXPLICIT_LE, base(LE) + nested_undefined(LE, 33)))
    write(outdir, "depth_32.dcm", part10(EXPLICIT_LE, base(LE) + nested_undefined(LE, 32)))

    items = LE.item(0) * 2000000
    many = LE.elem_header(*CONTENT_SEQ, b"SQ", UNDEFINED) + items + LE.seq_end()
    write(outdir, "many_elements.dcm", part10(DEFLATE, deflate(base(LE) + many)))

    pixels = LE.elem_header(0x7FE0, 0x0010, b"OW", 524288) + b"\x55" * 30000
    write(outdir, "value_past_end.dcm", part10(EXPLICIT_LE, base(LE) + pixels))

    inner = implicit.elem(0x0008, 0x0100, b"", pad(b"CODE"))
    private = implicit.elem_header(0x0009, 0x1010, b"", 8 + len(inner)) + implicit.item(100) + inner
    write(outdir, "item_past_sequence.dcm",
          part10(IMPLICIT_LE, base(implicit) + private + implicit.elem(0x0020, 0x0010, b"", pad(b"1"))))
    inner = LE.elem(0x0008, 0x0100, b"SH", pad(b"CODE")) + LE.elem(0x0008, 0x0102, b"SH", pad(b"DCM"))
    short_sq = LE.elem_header(*CONTENT_SEQ, b"SQ", 8 + 12) + LE.item(len(inner)) + inner
    write(outdir, "item_past_sequence_sq.dcm", part10(EXPLICIT_LE, base(LE) + short_sq))

    # The bomb: an OB claiming 4 GiB - 16 whose deflate stream yields 64 MiB of zeros and ends.
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(base(LE) + LE.elem_header(0x0009, 0x1010, b"OB", 0xFFFFFFF0))
    zeros = b"\0" * (1 << 20)
    for _ in range(64):
        bomb += c.compress(zeros)
    bomb += c.flush()
    write(outdir, "deflate_bomb.dcm", part10(DEFLATE, bomb))

    valid = base(LE) + nested_undefined(LE, 3)
    write(outdir, "garbage_after.dcm", part10(EXPLICIT_LE, valid + b"\xff" * 100))
    write(outdir, "short_garbage_after.dcm", part10(EXPLICIT_LE, valid + b"\x01\x02\x03\x04\x05"))

    private_un = (LE.elem(0x0009, 0x0010, b"LO", pad(b"HOSTILE TEST"))
                  + LE.elem_header(0x0009, 0x1001, b"UN", UNDEFINED) + implicit.item(UNDEFINED)
                  + implicit.elem(0x0008, 0x0100, b"", pad(b"X")) + implicit.item_end() + implicit.seq_end())
    b = base(LE)
    split = b.index(LE.tag(0x0010, 0x0010))  # keep the tags in ascending order
    write(outdir, "valid_small.dcm",
          part10(EXPLICIT_LE, b[:split] + private_un + b[split:] + nested_undefined(LE, 4)))

    # wide objects, within every limit
    n_wide = 200000
    uids = (LE.elem(0x0020, 0x000D, b"UI", pad(b"1.2.826.0.1.3680043.10.1234.2", b"\0"))
            + LE.elem(0x0020, 0x000E, b"UI", pad(b"1.2.826.0.1.3680043.10.1234.3", b"\0")))

    def image(frames):
        return (LE.elem(0x0028, 0x0002, b"US", struct.pack("<H", 1)) + LE.elem(0x0028, 0x0004, b"CS", b"MONOCHROME2 ")
                + LE.elem(0x0028, 0x0008, b"IS", pad(str(frames).encode()))
                + LE.elem(0x0028, 0x0010, b"US", struct.pack("<H", 8 if frames == 1 else 1))
                + LE.elem(0x0028, 0x0011, b"US", struct.pack("<H", 8 if frames == 1 else 1))
                + b"".join(LE.elem(0x0028, e, b"US", struct.pack("<H", v)) for e, v in
                           ((0x0100, 8), (0x0101, 8), (0x0102, 7), (0x0103, 0))))
    private = b"".join(LE.elem(0x0011 + 2 * (i // 0xF000), 0x1000 + i % 0xF000, b"LO", b"") for i in range(n_wide))
    write(outdir, "wide_elements.dcm", part10(EXPLICIT_LE, base(LE) + private + uids + image(1)
                                              + LE.elem(0x7FE0, 0x0010, b"OB", bytes(range(64)))))
    fragments = LE.item(0) + (LE.item(2) + b"\x11\x22") * n_wide
    encapsulated = LE.elem_header(0x7FE0, 0x0010, b"OB", UNDEFINED) + fragments + LE.seq_end()
    write(outdir, "wide_fragments.dcm", part10("1.2.840.10008.1.2.4.50", base(LE) + uids + image(n_wide)
                                               + encapsulated))
    groups = LE.item(0) * n_wide
    write(outdir, "wide_items.dcm", part10(EXPLICIT_LE, base(LE) + uids + image(n_wide)
                                           + LE.elem(0x5200, 0x9230, b"SQ", groups)
                                           + LE.elem(0x7FE0, 0x0010, b"OB", bytes(n_wide))))


if __name__ == "__main__":
    main()
