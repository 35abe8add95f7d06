#!/usr/bin/env python3
"""Writes .etl files for the tests: the corpus/etw scenarios as a real
capture would hold them (../shared/reference/etw-dxgkrnl.md §4).

A header buffer (WMI_BUFFER_HEADER + SYSTEM header + TRACE_LOGFILE_HEADER +
the type-80 record), then per-CPU data buffers: records are dealt to CPUs
round robin, packed into small buffers (several per CPU), and the buffers are
written in an order that is neither sequence nor time order (each CPU's
buffers in reverse pairs, CPUs interleaved), as ETW's flushes do. Every
DxgKrnl record is an EVENT_HEADER (64-bit) with one extended data item;
records of other providers (a kernel SYSTEM record, another manifest
provider, a DxgKrnl event the importer skips) are mixed in. Options:
compression (lznt1, xpress: own compressors below; huff: wimlib's XPRESS
through ctypes), an in-file schema (EventMetadata TRACE_EVENT_INFO records
first), and corruption modes for the error tests.

Usage: etl_writer.py SCENARIO OUT.etl [--compress none|lznt1|xpress|huff]
         [--schema] [--bad-schema] [--buffer N] [--corrupt MODE] [--cpus N]
       etl_writer.py --bench MB OUT.etl     (a large capture for bench_import_etl)
"""
import argparse
import ctypes
import importlib.util
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(HERE, "..", "corpus", "etw", "make_samples.py"))
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)


def guid(s):
    s = s.strip("{}").split("-")
    return struct.pack("<IHH", int(s[0], 16), int(s[1], 16), int(s[2], 16)) + \
        bytes.fromhex(s[3] + s[4])


DXG = guid("802ec45a-1e99-4b83-9920-87c98277ba9d")
META = guid("bbccf6c1-6cd1-48c4-80ff-839482e37671")
OTHER = guid("8e805eb3-6a8f-4a1e-90fa-a831d94e54a1")

# Payload layouts (§2, §4.4): P pointer, Q u64, I u32, H u16, C u8, B BOOL,
# a/b arrays of pointers / BOOLs counted by the last I field.
TYPES = {
    (27, 1): "PPIPBBI", (28, 1): "PPIPBBI", (29, 1): "PPIPBBI",
    (30, 0): "PIIIIIIIIPPP", (31, 0): "PIIIIIIIIPPP", (32, 0): "PIIIIIIIIPPP",
    (33, 3): "PPPIQIIIIIIIPPPIIIIIIIIIIBPHB", (34, 3): "PPPIQIIIIIIIPPPIIIIIIIIIIBPHB",
    (35, 3): "PPPIQIIIIIIIPPPIIIIIIIIIIBPHB",
    (36, 1): "P" * 12, (37, 1): "P" * 12, (38, 1): "P" * 12,
    (39, 0): "P", (40, 0): "P", (41, 0): "PPII", (42, 0): "PPI", (43, 0): "PPIab",
    (73, 0): "PIQ", (74, 0): "P", (175, 1): "PPIQIPI", (176, 0): "PIQIB",
    (177, 1): "PIQIIIQIP", (178, 1): "PIIQIIBPPQ", (180, 1): "PIIBBP",
    (186, 0): "PC", (187, 0): "P", (188, 0): "P", (189, 0): "PCC", (190, 0): "PCC",
    (401, 0): "PPIIB", (471, 0): "PPII", (473, 0): "PPII", (491, 0): "PPII",
}
MAPS = {"CpuVisible": 0x1, "Cached": 0x4, "USER": 1, "CLIENT_RENDER": 0, "RENDER": 0,
        "DMA_COMPLETED": 1, "READY": 0, "Normal": 2, "OFFERED": 2, "NOT_OFFERED": 0,
        "true": 1, "false": 0}
INTYPE = {"P": 16, "Q": 10, "I": 8, "H": 6, "C": 4, "B": 13, "a": 16, "b": 13}
SIZE = {"P": 8, "Q": 8, "I": 4, "H": 2, "C": 1, "B": 4, "a": 8, "b": 4}
FMT = {"P": "Q", "Q": "Q", "I": "I", "H": "H", "C": "B", "B": "I", "a": "Q", "b": "I"}


def num(v):
    v = v.strip()
    if "|" in v:
        return sum(num(x) for x in v.split("|"))
    return MAPS[v] if v in MAPS else int(v, 0)


def payload(eid, ver, template, fields):
    out = b""
    for name, t in zip(template, TYPES[(eid, ver)]):
        v = fields.get(name, "0")
        vals = [num(x) for x in v] if isinstance(v, list) else [num(v)]
        for x in vals:
            out += struct.pack("<" + FMT[t], x)
    return out


def event_header(ts, pid, tid, eid, ver, task, opcode, keyword, body, prov=DXG):
    ext = struct.pack("<HHHH", 16, 3, 0, 4) + struct.pack("<I", 1) + b"\0" * 4  # TS_ID
    size = 0x50 + len(ext) + len(body)
    hdr = struct.pack("<HBBHHIIq", size, 0x13, 0xC0, 0x1, 0, tid, pid, ts) + prov + \
        struct.pack("<HBBBBHQQ", eid, ver, 0x11, 0, opcode, task, 0x4000000000000000 | keyword,
                    0) + b"\0" * 16
    return hdr + ext + body


def system_record(ts, group, typ, body, pid=4, tid=8):
    return struct.pack("<HBBHBBIIqII", 2, 2, 0xC0, 0x20 + len(body), typ, group, tid, pid, ts,
                       0, 0) + body


def full_record(ts, typ, body, cls=META):
    return struct.pack("<HBBBBHIIq", 0x30 + len(body), 20, 0xC0, typ, 0, 0, 4, 4, ts) + cls + \
        struct.pack("<II", 0, 0) + body


def utf16z(s):
    return s.encode("utf-16-le") + b"\0\0"


def trace_event_info(eid, ver, task, opcode, names, types):
    n = len(names)
    base = 112 + 24 * n
    strings, props, off = b"", b"", base
    last_count = 0
    for i, (name, t) in enumerate(zip(names, types)):
        array = t in "ab"
        props += struct.pack("<IIHHIHHI", 0x4 if array else 0, off, INTYPE[t], 0, 0,
                             last_count if array else 1, SIZE[t], 0)
        if t == "I":
            last_count = i
        s = utf16z(name)
        strings += s
        off += len(s)
    head = DXG + b"\0" * 16 + struct.pack("<HBBBBHQ", eid, ver, 0x11, 0, opcode, task, 0) + \
        struct.pack("<I", 1) + b"\0" * 48 + struct.pack("<III", n, n, 0)
    return head + props + strings


# ---- compressors ------------------------------------------------------------------


def lznt1(data):
    out = b""
    for c in range(0, len(data), 4096):
        chunk = data[c:c + 4096]
        body, i, table = b"", 0, {}
        while i < len(chunk):
            flags, toks = 0, b""
            for bit in range(8):
                if i >= len(chunk):
                    break
                lm, sh, p = 0xFFF, 12, i - 1
                while p >= 0x10:
                    lm >>= 1
                    sh -= 1
                    p >>= 1
                key = chunk[i:i + 3]
                j = table.get(key)
                length = 0
                if i > 0 and j is not None and i - j <= (1 << (16 - sh)):
                    while i + length < len(chunk) and chunk[j + length] == chunk[i + length] \
                            and length < lm + 3:
                        length += 1
                if len(key) == 3:
                    table[key] = i
                if length >= 3:
                    flags |= 1 << bit
                    toks += struct.pack("<H", ((i - j - 1) << sh) | (length - 3))
                    for k in range(i + 1, i + length):
                        if k + 3 <= len(chunk):
                            table[chunk[k:k + 3]] = k
                    i += length
                else:
                    toks += chunk[i:i + 1]
                    i += 1
            body += bytes([flags]) + toks
        out += struct.pack("<H", 0xB000 | (len(body) - 1)) + body
    return out + b"\0\0"


def xpress(data):
    out, flags, nflags, items, i, table = bytearray(), 0, 0, bytearray(), 0, {}
    half = None
    res = bytearray()

    def flush():
        nonlocal flags, nflags, items
        res.extend(struct.pack("<I", flags << (32 - nflags) if nflags else 0))
        res.extend(items)
        flags, nflags, items = 0, 0, bytearray()

    while i < len(data):
        key = data[i:i + 3]
        j = table.get(key)
        length = 0
        if j is not None and i - j <= 8192:
            while i + length < len(data) and data[j + length] == data[i + length] and \
                    length < 200:
                length += 1
        if len(key) == 3:
            table[key] = i
        if length >= 3:
            flags = flags << 1 | 1
            ln = length - 3
            items += struct.pack("<H", ((i - j - 1) << 3) | min(ln, 7))
            if ln >= 7:
                ln -= 7
                if half is None:
                    half = len(res) + 4 + len(items)
                    items.append(min(ln, 15))
                else:
                    pos = half - len(res) - 4
                    if pos >= 0:
                        items[pos] |= min(ln, 15) << 4
                    else:
                        res[half] |= min(ln, 15) << 4
                    half = None
                if ln >= 15:
                    items.append(ln - 15)  # < 255 (length < 200)
            for k in range(i + 1, i + length):
                if k + 3 <= len(data):
                    table[data[k:k + 3]] = k
            i += length
        else:
            flags = flags << 1
            items.append(data[i])
            i += 1
        nflags += 1
        if nflags == 32:
            flush()
    if nflags:
        flush()
    return bytes(res)


def huff(data):
    lib = ctypes.CDLL("libwim.so.15")
    c = ctypes.c_void_p()
    if lib.wimlib_create_compressor(1, 65536, 50, ctypes.byref(c)):
        raise SystemExit("wimlib_create_compressor failed")
    out = ctypes.create_string_buffer(len(data) + 1024)
    n = lib.wimlib_compress(data, ctypes.c_size_t(len(data)), out, ctypes.c_size_t(len(out)), c)
    lib.wimlib_free_compressor(c)
    if n == 0:
        raise SystemExit("wimlib_compress: data does not compress")
    return out.raw[:n]


COMPRESS = {"lznt1": (2, lznt1), "xpress": (3, xpress), "huff": (4, huff)}

# ---- the file -------------------------------------------------------------------

T0 = 1_000_000_000  # QPC of the header record
FREQ = 10_000_000


def wmi_header(size, saved, seq, cpu, flag, btype, ts, state=0):
    return struct.pack("<IIIiqqQHHIIHH", size, saved, saved, 0, ts, seq, 0, cpu, 0, state, 0,
                       flag, btype) + struct.pack("<qq", ts, ts)


def header_buffer(bufsize, ncpu, compress_code, nbuffers, events_lost, buffers_lost):
    tz = b"\0" * 176
    mode = 0x1 | (0x04000000 if compress_code else 0)
    lf = struct.pack("<IIIIqIIIIIIIIQQ", bufsize, 0x0A000000, 22621, ncpu, 0, 100000, 0, mode,
                     nbuffers, 0, 8, events_lost, 3000, 0, 0) + tz + \
        struct.pack("<qqqII", 133590528000000000, FREQ, 133590528000000000, 1, buffers_lost)
    lf += utf16z("lifetrace test") + utf16z("C:\\\\capture.etl")
    recs = system_record(T0, 0, 0, lf, pid=0, tid=0)
    recs += b"\0" * ((-len(recs)) % 8)
    recs += system_record(T0, 0, 80, b"\0" * 0x30)
    saved = 0x48 + len(recs)
    if saved > bufsize:
        raise SystemExit("--buffer %d cannot hold the log-file header (%d bytes)" % (bufsize, saved))
    body = recs + b"\xff" * (bufsize - saved)
    return wmi_header(bufsize, saved, 0, 0, 0x20, 4, T0, compress_code) + body


def records_of(name, schema, bad_schema):
    """(ts, bytes) of every record of a scenario, in time order."""
    out = []
    ts = T0 + 10
    if schema:
        for (eid, ver), types in sorted(TYPES.items()):
            e = ms.EVENTS[eid]
            names = list(e[4])
            if bad_schema and eid == 33:
                types += "I"
                names.append("ExtraField")
            tei = trace_event_info(eid, ver, e[1], e[3], names[:len(types)], types)
            out.append(full_record(ts, 0x20, tei))
            ts += 1
    out.append(system_record(ts, 3, 1, b"\0" * 24))  # a kernel Process record
    out.append(event_header(ts + 1, 4, 8, 250, 0, 141, 0, 1, b"\0" * 16))  # skipped DxgKrnl
    out.append(event_header(ts + 2, 4, 8, 7, 0, 0, 0, 0, b"\0" * 12, prov=OTHER))
    for i, r in enumerate(ms.SCENARIOS[name]):
        ver, task, _, opcode, template, kw = ms.EVENTS[r.eid]
        body = payload(r.eid, ver, template, r.fields)
        out.append(event_header(T0 + ms.t_us(i) * 10, r.hdr_pid, r.tid, r.eid, ver, task,
                                opcode, kw, body))
    return out


def align8(b):
    return b + b"\0" * ((-len(b)) % 8)


def data_buffers(recs, ncpu, bufsize, compress, corrupt):
    per = [[] for _ in range(ncpu)]
    for i, r in enumerate(recs):
        per[i % ncpu].append(align8(r))
    bufs = []  # (cpu, seq, bytes)
    for cpu, rs in enumerate(per):
        seq, cur = 1, b""
        for r in rs + [None]:
            if r is None or 0x48 + len(cur) + len(r) > bufsize:
                if cur:
                    bufs.append((cpu, seq, cur))
                    seq += 1
                cur = b""
            if r is not None:
                cur += r
    out = []
    for cpu, seq, body in bufs:
        saved = 0x48 + len(body)
        ts = T0
        if compress:
            code, fn = COMPRESS[compress]
            comp = fn(body)
            out.append((cpu, seq, wmi_header(0x48 + len(comp), saved, seq, cpu, 0x60, 0, ts) +
                        comp))
        else:
            out.append((cpu, seq, wmi_header(bufsize, saved, seq, cpu, 0x20, 0, ts) + body +
                        b"\xff" * (bufsize - saved)))
    # Flush order: per CPU, reverse pairs (2 before 1); CPUs interleaved.
    order = []
    for cpu in range(ncpu):
        mine = [b for b in out if b[0] == cpu]
        for k in range(0, len(mine) - 1, 2):
            mine[k], mine[k + 1] = mine[k + 1], mine[k]
        order.append(mine)
    flat = []
    while any(order):
        for m in order:
            if m:
                flat.append(m.pop(0))
    return [b[2] for b in flat]


def corrupt_file(data, mode, bufsize):
    b = bytearray(data)
    if mode == "truncate":
        return bytes(b[:len(b) - 100])
    if mode == "saved-offset":  # SavedOffset past the buffer, buffer 1
        struct.pack_into("<I", b, bufsize + 4, bufsize + 8)
    elif mode == "buffer-size":  # buffer 2 claims another size
        struct.pack_into("<I", b, 2 * bufsize, bufsize // 2)
    elif mode == "record-size":  # the first record of buffer 1 runs past it
        struct.pack_into("<H", b, bufsize + 0x48, 0xFFF8)
    elif mode == "payload-size":  # a DxgKrnl payload 4 bytes short: Size - 4
        at = 0
        while True:
            at = b.find(DXG, at + 1)
            off = at - 0x18
            if b[off + 2] == 0x13 and b[off + 3] == 0xC0 and \
                    struct.unpack_from("<H", b, off + 0x28)[0] in (27, 33):
                size = struct.unpack_from("<H", b, off)[0]
                struct.pack_into("<H", b, off, size - 4)
                break
    return bytes(b)


def write(name, path, compress="none", schema=False, bad_schema=False, bufsize=1024, ncpu=2,
          corrupt=None, events_lost=0):
    compress = None if compress == "none" else compress
    recs = records_of(name, schema, bad_schema)
    data = data_buffers(recs, ncpu, bufsize, compress, corrupt)
    code = COMPRESS[compress][0] if compress else 0
    blob = header_buffer(bufsize, ncpu, code, len(data) + 1, events_lost, 0) + b"".join(data)
    if corrupt:
        blob = corrupt_file(blob, corrupt, bufsize)
    with open(path, "wb") as f:
        f.write(blob)


def bench(mb, path, bufsize=65536, ncpu=4):
    """A large uncompressed capture: allocation cycles, references and DMA
    packets of DxgKrnl, and records of another provider."""
    recs_per_buf = []
    target = mb * 1024 * 1024
    with open(path, "wb") as f:
        f.write(header_buffer(bufsize, ncpu, 0, 0, 0, 0))  # BuffersWritten: not known ahead
        seqs = [1] * ncpu
        cur = [b""] * ncpu
        written, i, ts = bufsize, 0, T0 + 10
        proto = ms.SCENARIOS["clean-lifecycle"]
        cycle = 0
        while written < target:
            for r in proto:
                ver, task, _, opcode, template, kw = ms.EVENTS[r.eid]
                fields = dict(r.fields)
                for k in ("hVidMmGlobalAlloc", "hVidMmAlloc", "hGlobalAllocationHandle",
                          "hAllocationHandle", "Allocation"):
                    if k in fields:
                        fields[k] = "0x%X" % (num(fields[k]) + (cycle << 24))
                if "Allocations" in fields:
                    fields["Allocations"] = ["0x%X" % (num(x) + (cycle << 24))
                                             for x in fields["Allocations"]]
                rec = align8(event_header(ts, r.hdr_pid, r.tid, r.eid, ver, task, opcode, kw,
                                          payload(r.eid, ver, template, fields)))
                oth = align8(event_header(ts, 4, 8, 7, 0, 0, 0, 0, b"\0" * 40, prov=OTHER))
                for piece in (rec, oth):
                    cpu = i % ncpu
                    i += 1
                    ts += 3
                    if 0x48 + len(cur[cpu]) + len(piece) > bufsize:
                        saved = 0x48 + len(cur[cpu])
                        f.write(wmi_header(bufsize, saved, seqs[cpu], cpu, 0x20, 0, T0) +
                                cur[cpu] + b"\xff" * (bufsize - saved))
                        written += bufsize
                        seqs[cpu] += 1
                        cur[cpu] = b""
                    cur[cpu] += piece
            cycle += 1
        for cpu in range(ncpu):
            if cur[cpu]:
                saved = 0x48 + len(cur[cpu])
                f.write(wmi_header(bufsize, saved, seqs[cpu], cpu, 0x21, 0, T0) + cur[cpu] +
                        b"\xff" * (bufsize - saved))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?")
    ap.add_argument("out")
    ap.add_argument("--compress", default="none", choices=["none", "lznt1", "xpress", "huff"])
    ap.add_argument("--schema", action="store_true")
    ap.add_argument("--bad-schema", action="store_true")
    ap.add_argument("--buffer", type=int, default=1024)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--corrupt")
    ap.add_argument("--events-lost", type=int, default=0)
    ap.add_argument("--bench", type=int)
    a = ap.parse_args()
    if a.bench:
        bench(a.bench, a.out)
        return
    write(a.scenario, a.out, a.compress, a.schema or a.bad_schema, a.bad_schema, a.buffer, a.cpus,
          a.corrupt, a.events_lost)


if __name__ == "__main__":
    main()
