#!/usr/bin/env python3
"""Writes the ETW import samples of corpus/etw/ in the three text exports.

Each scenario is a list of Microsoft-Windows-DxgKrnl records (plus a few
records of other providers and DxgKrnl events the importer skips), rendered
the way `tracerpt -of XML`, `tracerpt -of CSV` and `xperf -a dumper` print
them (../shared/reference/etw-dxgkrnl.md §3): multi-line XML events with
rendering info, hex PIDs, map names with trailing spaces, a local time offset
that is not a whole hour, CSV payloads as positional columns, dumper columns
named in the header block and timestamps in microseconds.

The expected verdicts (NAME.expected.json) are written by hand, not here.
Usage: corpus/etw/make_samples.py [OUTDIR]   (default: the script's folder)
"""
import os
import sys

DXG = "Microsoft-Windows-DxgKrnl"
GUID = "{802ec45a-1e99-4b83-9920-87c98277ba9d}"
ZERO_GUID = "{00000000-0000-0000-0000-000000000000}"

GALLOC = ["hProcessId", "hDevice", "pDxgAdapter", "Flags", "allocSize", "ulAlignment",
          "dwReadSegment", "dwWriteSegment", "PreferredSegment", "HintedBank",
          "dwEvictionSegment", "Priority", "hVidMmGlobalAlloc", "hDxgGlobalAlloc",
          "hDxgSharedResource", "UsageVersion", "UsageFlags", "Format", "SwizzledFormat",
          "ByteOffset", "Width", "Height", "Pitch", "Depth", "SlicePitch",
          "BackingStoreWasPinned", "pSectionObject", "PhysicalAdapterIndex",
          "PageTableOrDirectory"]
DALLOC = ["hProcessId", "hDevice", "pDxgAdapter", "hVidMmAlloc", "hVidMmGlobalAlloc",
          "hDxgResource", "hDxgSharedResource", "hThunkAllocation", "hThunkResource",
          "PrivateRuntimeResourceHandle", "pVirtualAddress", "hProcessAllocDetails"]
DEVICE = ["hProcessId", "pDxgAdapter", "ClientType", "hDevice", "RequestVSync",
          "DisableGpuTimeout", "hThunkHandle"]
CONTEXT = ["hDevice", "NodeOrdinal", "EngineAffinity", "DmaBufferSize", "DmaBufferSegmentSet",
           "DmaBufferPrivateDataSize", "AllocationListSize", "PatchLocationListSize", "Flags",
           "hContext", "ContextHandle", "ParentDxgContext"]
PROCESS = ["DxgProcess", "ProcessId", "HostProcessHandle", "ProcessFlags"]

# id: (version, task, task name, opcode, template, keyword)
EVENTS = {
    27: (1, 19, "Device", 1, DEVICE, 0x840), 28: (1, 19, "Device", 2, DEVICE, 0x840),
    29: (1, 19, "Device", 3, DEVICE, 0x840),
    30: (0, 20, "Context", 1, CONTEXT, 0x840), 31: (0, 20, "Context", 2, CONTEXT, 0x840),
    32: (0, 20, "Context", 3, CONTEXT, 0x840),
    33: (3, 21, "AdapterAllocation", 1, GALLOC, 0x40),
    34: (3, 21, "AdapterAllocation", 2, GALLOC, 0x40),
    35: (3, 21, "AdapterAllocation", 3, GALLOC, 0x40),
    36: (1, 22, "DeviceAllocation", 1, DALLOC, 0x40),
    37: (1, 22, "DeviceAllocation", 2, DALLOC, 0x40),
    38: (1, 22, "DeviceAllocation", 3, DALLOC, 0x40),
    39: (0, 23, "TerminateAllocation", 0, ["hVidMmAlloc"], 0x40),
    40: (0, 75, "ProcessTerminateAllocation", 0, ["hVidMmAlloc"], 0x40),
    41: (0, 24, "Lock", 0, ["hDevice", "hAllocationHandle", "dwFlags", "uiLockStatus"], 0x1),
    42: (0, 25, "Unlock", 0, ["hDevice", "hAllocationHandle", "dwFlags"], 0x1),
    43: (0, 27, "ReferenceAllocations", 0,
         ["hContext", "pDmaBuffer", "uiNbAllocations", "Allocations", "Write"], 0x4),
    73: (0, 49, "PageInAllocation", 0, ["hAllocationHandle", "uiSegmentId", "uliOffset"], 0x1),
    74: (0, 50, "EvictAllocation", 0, ["hGlobalAllocationHandle"], 0x1),
    175: (1, 8, "DmaPacket", 1, ["hContext", "hQueuePacketContext", "PacketType",
                                 "uliSubmissionId", "ulQueueSubmitSequence", "pDmaBuffer",
                                 "QuantumStatus"], 0x1),
    176: (0, 8, "DmaPacket", 2, ["hContext", "PacketType", "uliCompletionId",
                                 "ulQueueSubmitSequence", "bPreempted"], 0x1),
    177: (1, 8, "DmaPacket", 0, ["hContext", "PacketType", "uliCompletionId",
                                 "ulQueueSubmitSequence", "InterruptType", "QuantumStatus",
                                 "FaultedVirtualAddress", "PageFaultFlags",
                                 "FaultedProcessHandle"], 0x1),
    178: (1, 9, "QueuePacket", 1, ["hContext", "PacketType", "SubmitSequence", "DmaBufferSize",
                                   "AllocationListSize", "PatchLocationListSize", "bPresent",
                                   "hDmaBuffer", "pQueuePacket", "ProgressFenceValue"], 0x1),
    180: (1, 9, "QueuePacket", 2, ["hContext", "PacketType", "SubmitSequence", "bPreempted",
                                   "bTimeouted", "pQueuePacket"], 0x1),
    186: (0, 109, "OfferAllocation", 1, ["hAllocationHandle", "Priority"], 0x1),
    187: (0, 109, "OfferAllocation", 0, ["hAllocationHandle"], 0x1),
    188: (0, 109, "OfferAllocation", 2, ["hGlobalAllocationHandle"], 0x1),
    189: (0, 110, "ReportOfferAllocation", 0, ["hGlobalAllocationHandle", "State", "Priority"],
          0x1),
    190: (0, 111, "ReclaimAllocation", 0, ["hAllocationHandle", "Priority", "State"], 0x1),
    401: (0, 242, "DestroyDisplayedAllocation", 0,
          ["pDxgAdapter", "Allocation", "VidPnSourceId", "PlaneIndex", "VidPnSourceVisibilty"],
          0x1),
    471: (0, 1000, "Process", 1, PROCESS, 0x1), 473: (0, 1000, "Process", 2, PROCESS, 0x1),
    491: (0, 1000, "Process", 3, PROCESS, 0x1),
}
OPCODES = {0: "Info", 1: "Start", 2: "Stop", 3: "DC_Start"}

ADAPTER = 0xFFFF9A0C1E4F3000
PID, PID2 = 0x1234, 0x2A0C
D1, D2 = 0xFFFF9A0C2210A000, 0xFFFF9A0C2210B000
C1 = 0xFFFF9A0C23301000
G1, G2, G3 = 0xFFFFC2863A015000, 0xFFFFC2863A016000, 0xFFFFC2863A017000
A1, A2, A3, A4 = 0xFFFFC2863B021000, 0xFFFFC2863B022000, 0xFFFFC2863B023000, 0xFFFFC2863B024000
R1, R2 = 0xFFFFC2863C031000, 0xFFFFC2863C032000
SHARED = 0xFFFFC2863D041000
DMABUF = 0xFFFFC2863E051000


def hx(v):
    return "0x%016X" % v


class Rec:
    def __init__(self, eid, fields, tid=0x1A30, hdr_pid=PID):
        self.eid, self.fields, self.tid, self.hdr_pid = eid, fields, tid, hdr_pid


def device(eid, dev, pid):
    return Rec(eid, {"hProcessId": hx(pid), "pDxgAdapter": hx(ADAPTER), "ClientType": "USER ",
                     "hDevice": hx(dev), "RequestVSync": "false", "DisableGpuTimeout": "false",
                     "hThunkHandle": "0x40000040"}, hdr_pid=4 if eid == 29 else pid)


def context(eid, ctx, dev):
    return Rec(eid, {"hDevice": hx(dev), "NodeOrdinal": "0", "EngineAffinity": "1",
                     "DmaBufferSize": "65536", "DmaBufferSegmentSet": "0x1",
                     "DmaBufferPrivateDataSize": "0", "AllocationListSize": "640",
                     "PatchLocationListSize": "1280", "Flags": "0", "hContext": hx(ctx),
                     "ContextHandle": "0x40000080", "ParentDxgContext": hx(0)})


def galloc(eid, g, dev, pid, size=0x10000, shared=0, flags="CpuVisible | Cached "):
    f = {k: "0" for k in GALLOC}
    f.update({"hProcessId": hx(pid), "hDevice": hx(dev), "pDxgAdapter": hx(ADAPTER),
              "Flags": flags, "allocSize": str(size), "ulAlignment": "4096",
              "dwReadSegment": "0x3", "dwWriteSegment": "0x3", "PreferredSegment": "0x1",
              "Priority": "0x78000000", "hVidMmGlobalAlloc": hx(g),
              "hDxgGlobalAlloc": hx(g + 0x800), "hDxgSharedResource": hx(shared),
              "BackingStoreWasPinned": "false", "pSectionObject": hx(0),
              "PageTableOrDirectory": "false"})
    # Stop/DC_Start records are emitted by the system thread, not the owner.
    return Rec(eid, f, hdr_pid=pid if eid == 33 else 4)


def dalloc(eid, a, g, dev, pid, res):
    f = {k: hx(0) for k in DALLOC}
    f.update({"hProcessId": hx(pid), "hDevice": hx(dev), "pDxgAdapter": hx(ADAPTER),
              "hVidMmAlloc": hx(a), "hVidMmGlobalAlloc": hx(g), "hDxgResource": hx(res),
              "hThunkAllocation": "0x40000200"})
    return Rec(eid, f, hdr_pid=pid if eid == 36 else 4)


def refs(ctx, allocs, writes):
    return Rec(43, {"hContext": hx(ctx), "pDmaBuffer": hx(DMABUF),
                    "uiNbAllocations": str(len(allocs)), "Allocations": [hx(a) for a in allocs],
                    "Write": ["true" if w else "false" for w in writes]})


def dma_start(ctx, seq):
    return Rec(175, {"hContext": hx(ctx), "hQueuePacketContext": hx(ctx + 0x100),
                     "PacketType": "CLIENT_RENDER ", "uliSubmissionId": str(seq),
                     "ulQueueSubmitSequence": str(seq), "pDmaBuffer": hx(DMABUF),
                     "QuantumStatus": "READY "})


def dma_done(ctx, seq):
    return Rec(177, {"hContext": hx(ctx), "PacketType": "CLIENT_RENDER ",
                     "uliCompletionId": str(seq), "ulQueueSubmitSequence": str(seq),
                     "InterruptType": "DMA_COMPLETED ", "QuantumStatus": "READY ",
                     "FaultedVirtualAddress": "0", "PageFaultFlags": "0",
                     "FaultedProcessHandle": hx(0)}, tid=0x10, hdr_pid=4)


def dma_stop(ctx, seq):
    return Rec(176, {"hContext": hx(ctx), "PacketType": "CLIENT_RENDER ",
                     "uliCompletionId": str(seq), "ulQueueSubmitSequence": str(seq),
                     "bPreempted": "false"}, tid=0x10, hdr_pid=4)


def qp_start(ctx, seq):
    return Rec(178, {"hContext": hx(ctx), "PacketType": "RENDER ", "SubmitSequence": str(seq),
                     "DmaBufferSize": "4096", "AllocationListSize": "2",
                     "PatchLocationListSize": "0", "bPresent": "false", "hDmaBuffer": hx(DMABUF),
                     "pQueuePacket": hx(0xFFFFC2863F061000 + seq),
                     "ProgressFenceValue": str(seq)})


def qp_stop(ctx, seq):
    return Rec(180, {"hContext": hx(ctx), "PacketType": "RENDER ", "SubmitSequence": str(seq),
                     "bPreempted": "false", "bTimeouted": "false",
                     "pQueuePacket": hx(0xFFFFC2863F061000 + seq)}, tid=0x10, hdr_pid=4)


def lock(eid, dev, h):
    f = {"hDevice": hx(dev), "hAllocationHandle": hx(h), "dwFlags": "0"}
    if eid == 41:
        f["uiLockStatus"] = "0"
    return Rec(eid, f)


def process(eid, pid):
    return Rec(eid, {"DxgProcess": hx(0xFFFF9A0C2000F000 + pid), "ProcessId": hx(pid),
                     "HostProcessHandle": "0", "ProcessFlags": "0"}, hdr_pid=pid)


def one(eid, name, h, **extra):
    f = {name: hx(h)}
    f.update(extra)
    return Rec(eid, f, hdr_pid=4)


def create(g, a, dev=D1, pid=PID, res=R1, shared=0, rundown=False):
    return [galloc(35 if rundown else 33, g, dev, pid, shared=shared),
            dalloc(38 if rundown else 36, a, g, dev, pid, res)]


def destroy(g, a, dev=D1, pid=PID, res=R1):
    return [dalloc(37, a, g, dev, pid, res), galloc(34, g, dev, pid)]


def setup(pid=PID, dev=D1, ctx=C1):
    return [process(471, pid), device(27, dev, pid), context(30, ctx, dev)]


def teardown(pid=PID, dev=D1, ctx=C1):
    return [context(31, ctx, dev), device(28, dev, pid), process(473, pid)]


SCENARIOS = {
    # Every imported event once, in a legal order: no finding.
    "clean-lifecycle": setup() + create(G1, A1) + create(G2, A2) + [
        lock(41, D1, A1), lock(42, D1, A1),
        refs(C1, [A1, G2], [True, False]), qp_start(C1, 1), dma_start(C1, 1),
        dma_done(C1, 1), dma_stop(C1, 1), qp_stop(C1, 1),
        one(74, "hGlobalAllocationHandle", G1),
        one(73, "hAllocationHandle", G1, uiSegmentId="1", uliOffset="0"),
        one(186, "hAllocationHandle", A2, Priority="Normal "),
        one(187, "hAllocationHandle", A2),
        one(188, "hGlobalAllocationHandle", G2),
        one(189, "hGlobalAllocationHandle", G2, State="OFFERED ", Priority="Normal "),
        one(190, "hAllocationHandle", A2, Priority="Normal ", State="NOT_OFFERED "),
        device(27, D2, PID2)] + create(G3, A3, res=R2, shared=SHARED) + [
        dalloc(36, A4, G3, D2, PID2, R2), dalloc(37, A4, G3, D2, PID2, R2)] +
        destroy(G3, A3, res=R2) + destroy(G1, A1) + destroy(G2, A2) + teardown() + [
        device(28, D2, PID2)],
    # The same allocation destroyed twice.
    "double-destroy": setup() + create(G1, A1) + destroy(G1, A1) + [galloc(34, G1, D1, PID)] +
        teardown(),
    # Destroyed while the DMA packet referencing it is still in flight.
    "destroy-while-busy": setup() + create(G1, A1) + [
        refs(C1, [A1], [True]), qp_start(C1, 1), dma_start(C1, 1)] + destroy(G1, A1) + [
        dma_done(C1, 1), qp_stop(C1, 1)] + teardown(),
    # Objects seeded by rundown (DC_Start), used and destroyed during the capture.
    "rundown-destroyed-later": [process(491, PID), device(29, D1, PID), context(32, C1, D1)] +
        create(G1, A1, rundown=True) + create(G2, A2, rundown=True) + [
        refs(C1, [G1, A2], [False, True]), dma_start(C1, 7), dma_done(C1, 7)] +
        destroy(G1, A1) + destroy(G2, A2) + teardown(),
    # A rundown that lists device allocations before their adapter allocations,
    # and both before their devices; one allocation is shared with a second device.
    "rundown-out-of-order": [
        process(491, PID), dalloc(38, A4, G3, D2, PID2, R2), dalloc(38, A3, G3, D1, PID, R2),
        dalloc(38, A1, G1, D1, PID, R1), galloc(35, G1, D1, PID),
        galloc(35, G3, D1, PID, shared=SHARED), device(29, D1, PID), device(29, D2, PID2),
        context(32, C1, D1),
        refs(C1, [A1, G3], [True, False]), dma_start(C1, 3), dma_done(C1, 3),
        dalloc(37, A4, G3, D2, PID2, R2)] + destroy(G3, A3, res=R2) + destroy(G1, A1) +
        teardown() + [device(28, D2, PID2)],
    # Stop records for an allocation created before the capture began.
    "stop-predates-capture": setup() + destroy(G1, A1) + teardown(),
    # A Start for an allocation that is still live: its Stop was lost.
    "lost-stop": setup() + create(G1, A1) + create(G1, A2, res=R2) + destroy(G1, A2, res=R2) +
        teardown(),
    # dxgkrnl reports the allocation was on a scanout source when destroyed.
    "destroy-while-displayed": setup() + create(G1, A1) + [
        Rec(401, {"pDxgAdapter": hx(ADAPTER), "Allocation": hx(G1), "VidPnSourceId": "0",
                  "PlaneIndex": "0", "VidPnSourceVisibilty": "true"}, hdr_pid=4)] +
        destroy(G1, A1) + teardown(),
    # Destroyed while still CPU-locked.
    "destroy-while-locked": setup() + create(G1, A1) + [lock(41, D1, A1)] + destroy(G1, A1) +
        teardown(),
    # Locked after its destroy.
    "use-after-destroy": setup() + create(G1, A1) + destroy(G1, A1) + [lock(41, D1, G1)] +
        teardown(),
    # The process dies with live allocations: ProcessTerminateAllocation.
    "process-terminate-leak": setup() + create(G1, A1) + create(G2, A2) + [
        one(40, "hVidMmAlloc", A1), one(40, "hVidMmAlloc", A2)] + destroy(G1, A1) +
        destroy(G2, A2) + teardown(),
    # The device is destroyed with a live allocation: TerminateAllocation.
    "terminate-allocation-leak": setup() + create(G1, A1) + [one(39, "hVidMmAlloc", A1)] +
        destroy(G1, A1) + teardown(),
}

# Records of other providers, and DxgKrnl events the importer does not use.
T0_FILETIME = 133590528000000000  # 2024-05-02T10:00:00Z in 100 ns


def t_us(i):
    return 100 + i * 250


def render_xml(recs):
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<Events>"]
    out += ['<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">', "\t<System>",
            '\t\t<Provider Guid="{9e814aad-3204-11d2-9a82-006008a86939}" />',
            "\t\t<EventID>0</EventID>", "\t\t<Version>3</Version>", "\t\t<Level>0</Level>",
            "\t\t<Task>0</Task>", "\t\t<Opcode>3</Opcode>", "\t\t<Keywords>0x0</Keywords>",
            '\t\t<TimeCreated SystemTime="2024-05-02T12:59:00.000000000+02:59" />',
            '\t\t<Execution ProcessID="0x%X" ThreadID="0x0" ProcessorID="0" KernelTime="0" '
            'UserTime="0" />' % PID, "\t\t<Channel />", "\t\t<Computer />", "\t</System>",
            "\t<EventData>", '\t\t<Data Name="UniqueProcessKey">0xFFFF9A0C1F2E3080</Data>',
            '\t\t<Data Name="ProcessId">0x%X</Data>' % PID,
            '\t\t<Data Name="ParentId">0x1A0</Data>',
            '\t\t<Data Name="ImageFileName">game.exe</Data>', "\t</EventData>",
            '\t<RenderingInfo Culture="en-US">', "\t\t<Opcode>DCStart</Opcode>",
            "\t\t<Provider>MSNT_SystemTrace</Provider>",
            '\t\t<EventName xmlns="http://schemas.microsoft.com/win/2004/08/events/trace">Process'
            "</EventName>", "\t</RenderingInfo>", "</Event>"]
    for i, r in enumerate(recs):
        ver, task, tname, opc, tmpl, kw = EVENTS[r.eid]
        ns = 100000 * (i + 1)
        out += ['<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">',
                "\t<System>", '\t\t<Provider Name="%s" Guid="%s" />' % (DXG, GUID),
                "\t\t<EventID>%d</EventID>" % r.eid, "\t\t<Version>%d</Version>" % ver,
                "\t\t<Level>0</Level>", "\t\t<Task>%d</Task>" % task,
                "\t\t<Opcode>%d</Opcode>" % opc,
                "\t\t<Keywords>0x%016X</Keywords>" % (0x4000000000000000 | kw),
                '\t\t<TimeCreated SystemTime="2024-05-02T12:59:00.%09d+02:59" />' % ns,
                '\t\t<Correlation ActivityID="%s" />' % ZERO_GUID,
                '\t\t<Execution ProcessID="0x%X" ThreadID="0x%X" ProcessorID="1" KernelTime="0" '
                'UserTime="0" />' % (r.hdr_pid, r.tid),
                '\t\t<Channel>Microsoft-Windows-DxgKrnl/Performance</Channel>',
                "\t\t<Computer />", "\t</System>", "\t<EventData>"]
        for k in tmpl:
            v = r.fields[k]
            if isinstance(v, list):
                v = "[" + ", ".join(v) + "]"
            out.append('\t\t<Data Name="%s">%s</Data>' % (k, v))
        out += ["\t</EventData>", '\t<RenderingInfo Culture="en-US">',
                "\t\t<Opcode>%s </Opcode>" % OPCODES[opc], "\t\t<Task>%s </Task>" % tname,
                "\t\t<Provider>%s </Provider>" % DXG, "\t</RenderingInfo>", "</Event>"]
    out.append("</Events>")
    return "\r\n".join(out) + "\r\n"


def render_csv(recs):
    out = ["Event Name, Type, Event ID, Version, Channel, Level, Opcode, Task, Keyword, PID, TID, "
           "Processor Number, Instance ID, Parent Instance ID, Activity ID, Related Activity ID, "
           "Clock-Time, Kernel(ms), User(ms), User Data",
           "EventTrace, Header , 0, 2, 0, 0, 0, 0, 0x0000000000000000, 0x00000000, 0x00000000, "
           "0, , , , , %d, 0, 0, 65536, 167772672, 19045, 4, 0, 0, 0, 3, 0" % T0_FILETIME]
    for i, r in enumerate(recs):
        ver, task, tname, opc, tmpl, kw = EVENTS[r.eid]
        vals = []
        for k in tmpl:
            v = r.fields[k]
            vals += v if isinstance(v, list) else [v]
        out.append("%s, %s , %d, %d, 17, 0, %d, %d, 0x%016X, 0x%08X, 0x%08X, 1, , , %s, , "
                   "%d, 0, 0, %s" % (DXG, OPCODES[opc], r.eid, ver, opc, task,
                                     0x4000000000000000 | kw, r.hdr_pid, r.tid, ZERO_GUID,
                                     T0_FILETIME + 1000 * (i + 1), ", ".join(vals)))
    return "\r\n".join(out) + "\r\n"


def dumper_name(eid):
    ver, task, tname, opc, tmpl, kw = EVENTS[eid]
    return "%s/%s/win:%s" % (DXG, tname, OPCODES[opc])


def render_dumper(recs):
    cols = ("TimeStamp, Process Name ( PID), ThreadID, CPU, etw:ActivityId, "
            "etw:Related ActivityId, etw:UserSid, etw:SessionId")
    out = ["BeginHeader",
           "             P-Start, TimeStamp, Process Name ( PID), ParentPID, SessionID, "
           "UniqueKey, UserSid, Command Line"]
    for eid in sorted({r.eid for r in recs}):
        tmpl = EVENTS[eid][4]
        if eid == 43:
            tmpl = ["hContext", "pDmaBuffer", "uiNbAllocations", "Allocations[uiNbAllocations]",
                    "Write[uiNbAllocations]"]
        out.append("%s, %s, %s" % (dumper_name(eid), cols, ", ".join(tmpl)))
    out += ["EndHeader", "  FirstReliableEventTimeStamp, 0",
            "             P-Start,         50,     game.exe (%5d),   416,  1, 0xffff9a0c1f2e3080, "
            "S-1-5-21-1-2-3-1001, game.exe -windowed" % PID]
    for i, r in enumerate(recs):
        tmpl = EVENTS[r.eid][4]
        vals = []
        for k in tmpl:
            v = r.fields[k]
            vals += v if isinstance(v, list) else [v.strip()]
        proc = "game.exe (%5d)" % r.hdr_pid if r.hdr_pid != 4 else "System (    4)"
        out.append("%s, %10d, %20s, %6d, %3d, %s, %s, N/A, %d, %s" % (
            dumper_name(r.eid), t_us(i), proc, r.tid, 1, ZERO_GUID, ZERO_GUID, 1,
            ", ".join(vals)))
    return "\n".join(out) + "\n"


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, recs in SCENARIOS.items():
        for ext, fn in ((".xml", render_xml), (".csv", render_csv), (".txt", render_dumper)):
            with open(os.path.join(outdir, name + ext), "w", newline="") as f:
                f.write(fn(recs))


if __name__ == "__main__":
    main()
