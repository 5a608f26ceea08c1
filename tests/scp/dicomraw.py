#!/usr/bin/python3
"""dicomraw.py - a DICOM upper-layer client written byte by byte (standard library only), for
what no real client sends: a file's data set bytes unparsed (DCMTK's storescu and dcmsend would
parse, and crash on, a 20,000-deep object), UIDs the command set and the data set disagree on,
a stream cut short, a 20,000-deep command set, raw AE title bytes, associations held open.

Every subcommand prints one line the test scripts parse:
  status 0xXXXX            the DIMSE status of the response
  rejected R S N           A-ASSOCIATE-RJ: result, source, reason
  aborted | closed         the peer aborted, or closed the connection without a response
  associated / released    for `hold`

usage:
  dicomraw.py store HOST PORT FILE [--aet A] [--aec C] [--inst UID] [--class UID]
                    [--cut N] [--pdu BYTES] [--stall SECONDS] [--tls CERT KEY CA] [--count N]
  dicomraw.py echo HOST PORT [--aet A] [--aec C] [--raw-calling HEX] [--tls CERT KEY CA] [--from ADDRESS]
  dicomraw.py hold HOST PORT SECONDS [--aet A] [--aec C]
  dicomraw.py silent HOST PORT SECONDS
  dicomraw.py deepcmd HOST PORT DEPTH [--aet A] [--aec C]
  dicomraw.py deepfind HOST PORT DEPTH [--aet A] [--aec C]
  dicomraw.py othermodel HOST PORT find|get|move [--aet A] [--aec C]
"""
import socket
import ssl
import struct
import sys
import time

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
APP_CONTEXT = "1.2.840.10008.3.1.1.1"


def uid_item(item_type, uid):
    b = uid.encode()
    return struct.pack(">BBH", item_type, 0, len(b)) + b


def ae_field(text, raw=None):
    return raw if raw is not None else text.encode().ljust(16)[:16]


def assoc_rq(calling, called, abstract, ts, maxpdu, raw_calling=None):
    pc = struct.pack(">BBBB", 1, 0, 0, 0) + uid_item(0x30, abstract) + uid_item(0x40, ts)
    pc_item = struct.pack(">BBH", 0x20, 0, len(pc)) + pc
    ui = struct.pack(">BBHI", 0x51, 0, 4, maxpdu) + uid_item(0x52, "1.2.826.0.1.3680043.9.7433.1")
    ui_item = struct.pack(">BBH", 0x50, 0, len(ui)) + ui
    body = struct.pack(">HH", 1, 0) + ae_field(called) + ae_field(calling, raw_calling) + b"\0" * 32
    body += uid_item(0x10, APP_CONTEXT) + pc_item + ui_item
    return struct.pack(">BBI", 1, 0, len(body)) + body


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed")
        b += c
    return b


def recv_pdu(s):
    t, _, n = struct.unpack(">BBI", recv_exact(s, 6))
    return t, recv_exact(s, n)


def element(group, elem, value):
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", group, elem, len(value)) + value


def command(fields):
    body = b"".join(element(0, e, v) for e, v in fields)
    return element(0, 0, struct.pack("<I", len(body))) + body


def pdata(pcid, flags, data):
    pdv = struct.pack(">IBB", len(data) + 2, pcid, flags) + data
    return struct.pack(">BBI", 4, 0, len(pdv)) + pdv


def split_part10(path):
    """SOP class, SOP instance, transfer syntax and the data set bytes of a Part 10 file."""
    d = open(path, "rb").read()
    assert d[128:132] == b"DICM", "needs a Part 10 file"
    meta_len = struct.unpack("<I", d[140:144])[0]
    end = 144 + meta_len
    meta, i, found = d[132:end], 0, {}
    while i < len(meta):
        g, e = struct.unpack("<HH", meta[i:i + 4])
        vr = meta[i + 4:i + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT", b"UC", b"UR"):
            n = struct.unpack("<I", meta[i + 8:i + 12])[0]
            value, i = meta[i + 12:i + 12 + n], i + 12 + n
        else:
            n = struct.unpack("<H", meta[i + 6:i + 8])[0]
            value, i = meta[i + 8:i + 8 + n], i + 8 + n
        found[(g, e)] = value.rstrip(b"\0 ").decode("latin-1")
    return found[(2, 2)], found[(2, 3)], found[(2, 0x10)], d[end:]


class Client:
    def __init__(self, host, port, tls=None, source=None):
        self.s = socket.create_connection((host, port), timeout=120,
                                          source_address=(source, 0) if source else None)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_cert_chain(tls[0], tls[1])
            ctx.load_verify_locations(tls[2])
            ctx.check_hostname = False
            self.s = ctx.wrap_socket(self.s)
        self.peer_max = 16384

    def associate(self, calling, called, abstract, ts, raw_calling=None):
        """None when accepted, else the line to print."""
        self.s.sendall(assoc_rq(calling, called, abstract, ts, 65536, raw_calling))
        t, body = recv_pdu(self.s)
        if t == 3:
            return "rejected %d %d %d" % (body[1], body[2], body[3])
        if t != 2:
            return "unexpected PDU %d" % t
        j = 68
        while j < len(body):
            it, _, n = struct.unpack(">BBH", body[j:j + 4])
            if it == 0x21 and body[j + 6] != 0:
                return "context refused %d" % body[j + 6]
            if it == 0x50:
                k = j + 4
                while k < j + 4 + n:
                    st, _, sn = struct.unpack(">BBH", body[k:k + 4])
                    if st == 0x51:
                        self.peer_max = struct.unpack(">I", body[k + 4:k + 8])[0] or (1 << 30)
                    k += 4 + sn
            j += 4 + n
        return None

    def send_fragments(self, flags_last, flags_more, data, cut=None):
        chunk = max(self.peer_max - 12, 256) & ~1
        if cut is not None:
            data = data[:cut]
        for off in range(0, max(len(data), 1), chunk):
            last = off + chunk >= len(data)
            flags = flags_last if last and cut is None else flags_more
            self.s.sendall(pdata(1, flags, data[off:off + chunk]))

    def response_status(self):
        try:
            t, body = recv_pdu(self.s)
        except (EOFError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            return "closed"
        if t == 7:
            return "aborted"
        if t != 4:
            return "unexpected PDU %d" % t
        cmd, k = body[6:], 0
        while k < len(cmd):
            g, e, n = struct.unpack("<HHI", cmd[k:k + 8])
            if (g, e) == (0, 0x900):
                return "status 0x%04X" % struct.unpack("<H", cmd[k + 8:k + 10])[0]
            k += 8 + n
        return "no status"

    def release(self):
        try:
            self.s.sendall(struct.pack(">BBI", 5, 0, 4) + b"\0" * 4)
            recv_pdu(self.s)
        except Exception:
            pass
        self.s.close()


def options(args, spec):
    """--name value options (value count from spec) into a dict; the rest positional."""
    out, pos, i = {}, [], 0
    while i < len(args):
        name = args[i][2:] if args[i].startswith("--") else None
        if name in spec:
            n = spec[name]
            out[name] = args[i + 1:i + 1 + n] if n > 1 else args[i + 1]
            i += 1 + n
        else:
            pos.append(args[i])
            i += 1
    return out, pos


def cmd_store(args):
    o, pos = options(args, {"aet": 1, "aec": 1, "inst": 1, "class": 1, "cut": 1, "tls": 3, "count": 1, "pdu": 1,
                            "stall": 1})
    host, port, path = pos[0], int(pos[1]), pos[2]
    sop_class, sop_inst, ts, data = split_part10(path)
    if len(data) % 2:  # PDV fragments are even (PS3.8): a sender pads an odd data set
        data += b"\0"
    c = Client(host, port, o.get("tls"))
    why = c.associate(o.get("aet", "STORESCU"), o.get("aec", "CHAOSMASK"), sop_class, ts)
    if why:
        return why
    cut = int(o["cut"]) & ~1 if "cut" in o else None
    if "pdu" in o:  # PDVs of this size, whatever the peer said it takes
        c.peer_max = int(o["pdu"]) + 12
    result = None
    for n in range(int(o.get("count", "1"))):
        fields = [(2, o.get("class", sop_class).encode()), (0x100, struct.pack("<H", 1)),
                  (0x110, struct.pack("<H", n + 1)), (0x700, struct.pack("<H", 0)),
                  (0x800, struct.pack("<H", 0)), (0x1000, o.get("inst", sop_inst).encode())]
        c.s.sendall(pdata(1, 0x03, command(fields)))
        if "stall" in o:  # half the data set, then nothing: the peer's DIMSE timeout must end it
            c.s.sendall(pdata(1, 0x00, data[:len(data) // 2 & ~1]))
            time.sleep(float(o["stall"]))
            return c.response_status()
        c.send_fragments(0x02, 0x00, data, cut)
        if cut is not None:
            c.s.close()  # the stream ends in the middle of the data set
            return "cut after %d bytes" % cut
        result = c.response_status()
        if not result.startswith("status"):
            return result
    c.release()
    return result


def cmd_echo(args):
    o, pos = options(args, {"aet": 1, "aec": 1, "raw-calling": 1, "tls": 3, "from": 1})
    c = Client(pos[0], int(pos[1]), o.get("tls"), o.get("from"))
    raw = bytes.fromhex(o["raw-calling"]) if "raw-calling" in o else None
    why = c.associate(o.get("aet", "ECHOSCU"), o.get("aec", "CHAOSMASK"), VERIFICATION, IMPLICIT_LE, raw)
    if why:
        return why
    c.s.sendall(pdata(1, 0x03, command([(2, VERIFICATION.encode()), (0x100, struct.pack("<H", 0x30)),
                                        (0x110, struct.pack("<H", 1)), (0x800, struct.pack("<H", 0x101))])))
    result = c.response_status()
    c.release()
    return result


def cmd_hold(args):
    o, pos = options(args, {"aet": 1, "aec": 1})
    c = Client(pos[0], int(pos[1]))
    why = c.associate(o.get("aet", "ECHOSCU"), o.get("aec", "CHAOSMASK"), VERIFICATION, IMPLICIT_LE)
    if why:
        return why
    print("associated", flush=True)
    time.sleep(float(pos[2]))
    c.release()
    return "released"


def cmd_silent(args):
    s = socket.create_connection((args[0], int(args[1])))
    time.sleep(float(args[2]))
    s.close()
    return "closed"


def cmd_deepcmd(args):
    o, pos = options(args, {"aet": 1, "aec": 1})
    depth = int(pos[2])
    c = Client(pos[0], int(pos[1]))
    why = c.associate(o.get("aet", "ECHOSCU"), o.get("aec", "CHAOSMASK"), VERIFICATION, IMPLICIT_LE)
    if why:
        return why
    seq = struct.pack("<HHI", 0x0000, 0x9999, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    cmd = command([(2, VERIFICATION.encode()), (0x100, struct.pack("<H", 0x30)), (0x110, struct.pack("<H", 1)),
                   (0x800, struct.pack("<H", 0x101))]) + seq * depth + end * depth
    c.send_fragments(0x03, 0x01, cmd)
    return c.response_status()


def cmd_deepfind(args):
    """A C-FIND whose identifier nests a sequence DEPTH deep (implicit VR: Content Sequence is
    an SQ by the dictionary)."""
    o, pos = options(args, {"aet": 1, "aec": 1})
    depth = int(pos[2])
    model = "1.2.840.10008.5.1.4.1.2.2.1"  # Study Root FIND
    c = Client(pos[0], int(pos[1]))
    why = c.associate(o.get("aet", "FINDSCU"), o.get("aec", "CHAOSMASK"), model, IMPLICIT_LE)
    if why:
        return why
    c.s.sendall(pdata(1, 0x03, command([(2, model.encode()), (0x100, struct.pack("<H", 0x20)),
                                        (0x110, struct.pack("<H", 1)), (0x700, struct.pack("<H", 0)),
                                        (0x800, struct.pack("<H", 0))])))
    level = struct.pack("<HHI", 0x0008, 0x0052, 6) + b"STUDY "
    seq = struct.pack("<HHI", 0x0040, 0xA730, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    c.send_fragments(0x02, 0x00, level + seq * depth + end * depth)
    result = c.response_status()
    c.release()
    return result


def cmd_othermodel(args):
    """A C-FIND, C-GET or C-MOVE naming the Patient Root model on the Study Root context the
    association accepted (the command's Affected SOP Class is not the context's)."""
    o, pos = options(args, {"aet": 1, "aec": 1})
    kind = pos[2]
    suffix, field, aet = {"find": ("1", 0x20, "FINDSCU"), "get": ("3", 0x10, "GETSCU"),
                          "move": ("2", 0x21, "MOVESCU")}[kind]
    context, model = "1.2.840.10008.5.1.4.1.2.2." + suffix, "1.2.840.10008.5.1.4.1.2.1." + suffix
    c = Client(pos[0], int(pos[1]))
    why = c.associate(o.get("aet", aet), o.get("aec", "CHAOSMASK"), context, IMPLICIT_LE)
    if why:
        return why
    fields = [(2, model.encode()), (0x100, struct.pack("<H", field)), (0x110, struct.pack("<H", 1))]
    if kind == "move":
        fields.append((0x600, b"STORESCP".ljust(16)))
    fields += [(0x700, struct.pack("<H", 0)), (0x800, struct.pack("<H", 0))]
    c.s.sendall(pdata(1, 0x03, command(fields)))
    c.send_fragments(0x02, 0x00, struct.pack("<HHI", 0x0008, 0x0052, 8) + b"PATIENT " +
                     struct.pack("<HHI", 0x0010, 0x0020, 0))
    result = c.response_status()
    c.release()
    return result


def main():
    handlers = {"store": cmd_store, "echo": cmd_echo, "hold": cmd_hold, "silent": cmd_silent,
                "deepcmd": cmd_deepcmd, "deepfind": cmd_deepfind, "othermodel": cmd_othermodel}
    if len(sys.argv) < 2 or sys.argv[1] not in handlers:
        sys.exit(__doc__)
    try:
        print(handlers[sys.argv[1]](sys.argv[2:]), flush=True)
    except (ConnectionResetError, BrokenPipeError, EOFError) as e:
        print("closed (%s)" % e.__class__.__name__, flush=True)
    except ssl.SSLError as e:
        print("tls refused (%s)" % e.reason, flush=True)


if __name__ == "__main__":
    main()
