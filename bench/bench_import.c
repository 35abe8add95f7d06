/* bench_import [MB] [FILE]: measures `lifetrace import` of a tracerpt XML
 * export against expat's own parse rate on the same file, in the same run.
 *
 * Writes a tracerpt-shaped XML export of about MB megabytes (default 256) to
 * FILE (default: a temporary file, removed afterwards): DxgKrnl allocation
 * create/destroy cycles, ReferenceAllocations + DMA packets, rundown records
 * and records of another provider, pretty-printed as tracerpt does. Then
 * reads it three times from the page cache: once through expat with no
 * handlers (the ceiling), once through the importer (all joins, events to a
 * counting sink), once more through expat (the better expat run counts), and
 * prints one JSON object with MB/s of CPU time of each, their ratio, wall
 * times and the peak RSS. */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lifetrace/import.h"

#define CHUNK (1u << 20)

/* CPU time of this process: the rates are per core, and stay meaningful on
 * a machine busy with other work (wall time is reported alongside). */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long rec_no;

static void sys_open(FILE *f, int id, int ver, int task, int opc, unsigned pid) {
  unsigned long long ns = 1000ull * ++rec_no;
  fprintf(f,
          "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n"
          "\t<System>\n"
          "\t\t<Provider Name=\"Microsoft-Windows-DxgKrnl\" "
          "Guid=\"{802ec45a-1e99-4b83-9920-87c98277ba9d}\" />\n"
          "\t\t<EventID>%d</EventID>\n\t\t<Version>%d</Version>\n\t\t<Level>0</Level>\n"
          "\t\t<Task>%d</Task>\n\t\t<Opcode>%d</Opcode>\n"
          "\t\t<Keywords>0x4000000000000040</Keywords>\n"
          "\t\t<TimeCreated SystemTime=\"2024-05-02T%02llu:%02llu:%02llu.%09llu+02:59\" />\n"
          "\t\t<Correlation ActivityID=\"{00000000-0000-0000-0000-000000000000}\" />\n"
          "\t\t<Execution ProcessID=\"0x%X\" ThreadID=\"0x1A30\" ProcessorID=\"1\" "
          "KernelTime=\"0\" UserTime=\"0\" />\n"
          "\t\t<Channel>Microsoft-Windows-DxgKrnl/Performance</Channel>\n"
          "\t\t<Computer />\n\t</System>\n\t<EventData>\n",
          id, ver, task, opc, (ns / 3600000000000ull) % 24, (ns / 60000000000ull) % 60,
          (ns / 1000000000ull) % 60, ns % 1000000000ull, pid);
}

static void sys_close(FILE *f, const char *opc, const char *task) {
  fprintf(f,
          "\t</EventData>\n\t<RenderingInfo Culture=\"en-US\">\n\t\t<Opcode>%s </Opcode>\n"
          "\t\t<Task>%s </Task>\n\t\t<Provider>Microsoft-Windows-DxgKrnl </Provider>\n"
          "\t</RenderingInfo>\n</Event>\n",
          opc, task);
}

static void data_x(FILE *f, const char *name, unsigned long long v) {
  fprintf(f, "\t\t<Data Name=\"%s\">0x%016llX</Data>\n", name, v);
}

static void data_s(FILE *f, const char *name, const char *v) {
  fprintf(f, "\t\t<Data Name=\"%s\">%s</Data>\n", name, v);
}

#define DEV 0xFFFF9A0C2210A000ull
#define CTX 0xFFFF9A0C23301000ull

static void galloc(FILE *f, int id, int opc, unsigned long long g) {
  static const char *const zeros[] = {"HintedBank", "dwEvictionSegment", "UsageVersion",
                                      "UsageFlags", "Format", "SwizzledFormat", "ByteOffset",
                                      "Width", "Height", "Pitch", "Depth", "SlicePitch",
                                      "PhysicalAdapterIndex"};
  sys_open(f, id, 3, 21, opc, opc == 1 ? 0x1234 : 4);
  data_x(f, "hProcessId", 0x1234);
  data_x(f, "hDevice", DEV);
  data_x(f, "pDxgAdapter", 0xFFFF9A0C1E4F3000ull);
  data_s(f, "Flags", "CpuVisible | Cached ");
  data_s(f, "allocSize", "65536");
  data_s(f, "ulAlignment", "4096");
  data_s(f, "dwReadSegment", "0x3");
  data_s(f, "dwWriteSegment", "0x3");
  data_s(f, "PreferredSegment", "0x1");
  data_s(f, "Priority", "0x78000000");
  data_x(f, "hVidMmGlobalAlloc", g);
  data_x(f, "hDxgGlobalAlloc", g + 0x800);
  data_x(f, "hDxgSharedResource", 0);
  for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++)
    data_s(f, zeros[i], "0");
  data_s(f, "BackingStoreWasPinned", "false");
  data_x(f, "pSectionObject", 0);
  data_s(f, "PageTableOrDirectory", "false");
  sys_close(f, opc == 1 ? "Start" : opc == 2 ? "Stop" : "DC_Start", "AdapterAllocation");
}

static void dalloc(FILE *f, int id, int opc, unsigned long long a, unsigned long long g) {
  sys_open(f, id, 1, 22, opc, opc == 1 ? 0x1234 : 4);
  data_x(f, "hProcessId", 0x1234);
  data_x(f, "hDevice", DEV);
  data_x(f, "pDxgAdapter", 0xFFFF9A0C1E4F3000ull);
  data_x(f, "hVidMmAlloc", a);
  data_x(f, "hVidMmGlobalAlloc", g);
  data_x(f, "hDxgResource", g + 0x10000000ull);
  static const char *const z[] = {"hDxgSharedResource", "hThunkAllocation", "hThunkResource",
                                  "PrivateRuntimeResourceHandle", "pVirtualAddress",
                                  "hProcessAllocDetails"};
  for (size_t i = 0; i < sizeof z / sizeof z[0]; i++)
    data_x(f, z[i], 0);
  sys_close(f, opc == 1 ? "Start" : opc == 2 ? "Stop" : "DC_Start", "DeviceAllocation");
}

static void packet(FILE *f, unsigned long long g, unsigned seq) {
  char buf[128];
  sys_open(f, 43, 0, 27, 0, 0x1234);
  data_x(f, "hContext", CTX);
  data_x(f, "pDmaBuffer", 0xFFFFC2863E051000ull);
  data_s(f, "uiNbAllocations", "2");
  snprintf(buf, sizeof buf, "[0x%016llX, 0x%016llX]", g, g + 0x1000);
  data_s(f, "Allocations", buf);
  data_s(f, "Write", "[true, false]");
  sys_close(f, "Info", "ReferenceAllocations");
  sys_open(f, 175, 1, 8, 1, 0x1234);
  data_x(f, "hContext", CTX);
  data_x(f, "hQueuePacketContext", CTX + 0x100);
  data_s(f, "PacketType", "CLIENT_RENDER ");
  snprintf(buf, sizeof buf, "%u", seq);
  data_s(f, "uliSubmissionId", buf);
  data_s(f, "ulQueueSubmitSequence", buf);
  data_x(f, "pDmaBuffer", 0xFFFFC2863E051000ull);
  data_s(f, "QuantumStatus", "READY ");
  sys_close(f, "Start", "DmaPacket");
  sys_open(f, 177, 1, 8, 0, 4);
  data_x(f, "hContext", CTX);
  data_s(f, "PacketType", "CLIENT_RENDER ");
  data_s(f, "uliCompletionId", buf);
  data_s(f, "ulQueueSubmitSequence", buf);
  data_s(f, "InterruptType", "DMA_COMPLETED ");
  data_s(f, "QuantumStatus", "READY ");
  data_s(f, "FaultedVirtualAddress", "0");
  data_s(f, "PageFaultFlags", "0");
  data_x(f, "FaultedProcessHandle", 0);
  sys_close(f, "Info", "DmaPacket");
}

static void other(FILE *f) {
  fprintf(f, "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n"
             "\t<System>\n\t\t<Provider Guid=\"{3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c}\" />\n"
             "\t\t<EventID>0</EventID>\n\t\t<Version>2</Version>\n\t\t<Level>0</Level>\n"
             "\t\t<Task>0</Task>\n\t\t<Opcode>36</Opcode>\n\t\t<Keywords>0x0</Keywords>\n"
             "\t\t<TimeCreated SystemTime=\"2024-05-02T10:00:00.000000000+02:59\" />\n"
             "\t\t<Execution ProcessID=\"0x0\" ThreadID=\"0x0\" />\n\t</System>\n"
             "\t<EventData>\n\t\t<Data Name=\"NewThreadId\">0x1A30</Data>\n"
             "\t\t<Data Name=\"OldThreadId\">0x0</Data>\n\t</EventData>\n</Event>\n");
}

/* Writes about mb megabytes: a device, a context, 64 rundown allocations,
 * then cycles of create, submit, complete, destroy over 256 handle slots. */
static int generate(const char *path, unsigned long long mb) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n");
  sys_open(f, 29, 1, 19, 3, 4);
  data_x(f, "hProcessId", 0x1234);
  data_x(f, "pDxgAdapter", 0xFFFF9A0C1E4F3000ull);
  data_s(f, "ClientType", "USER ");
  data_x(f, "hDevice", DEV);
  data_s(f, "RequestVSync", "false");
  data_s(f, "DisableGpuTimeout", "false");
  data_s(f, "hThunkHandle", "0x40000040");
  sys_close(f, "DC_Start", "Device");
  sys_open(f, 32, 0, 20, 3, 4);
  data_x(f, "hDevice", DEV);
  static const char *const cz[] = {"NodeOrdinal", "EngineAffinity", "DmaBufferSize",
                                   "DmaBufferSegmentSet", "DmaBufferPrivateDataSize",
                                   "AllocationListSize", "PatchLocationListSize", "Flags"};
  for (size_t i = 0; i < sizeof cz / sizeof cz[0]; i++)
    data_s(f, cz[i], "0");
  data_x(f, "hContext", CTX);
  data_x(f, "ContextHandle", 0x40000080);
  data_x(f, "ParentDxgContext", 0);
  sys_close(f, "DC_Start", "Context");
  for (unsigned i = 0; i < 64; i++) {
    galloc(f, 35, 3, 0xFFFFC28600000000ull + i * 0x10000ull);
    dalloc(f, 38, 3, 0xFFFFC28700000000ull + i * 0x10000ull,
           0xFFFFC28600000000ull + i * 0x10000ull);
  }
  unsigned seq = 0;
  for (unsigned long long i = 0; ftell(f) < (long)(mb << 20); i++) {
    unsigned long long g = 0xFFFFC28800000000ull + (i % 256) * 0x2000ull;
    unsigned long long a = 0xFFFFC28900000000ull + (i % 256) * 0x2000ull;
    galloc(f, 33, 1, g);
    dalloc(f, 36, 1, a, g);
    galloc(f, 33, 1, g + 0x1000);
    dalloc(f, 36, 1, a + 0x1000, g + 0x1000);
    packet(f, g, ++seq);
    other(f);
    dalloc(f, 37, 2, a, g);
    galloc(f, 34, 2, g);
    dalloc(f, 37, 2, a + 0x1000, g + 0x1000);
    galloc(f, 34, 2, g + 0x1000);
  }
  fprintf(f, "</Events>\n");
  return fclose(f);
}

static int count_events(void *data, const lt_event *ev) {
  (void)ev;
  ++*(unsigned long long *)data;
  return 0;
}

/* Expat alone, no handlers: the parse-rate ceiling. */
static double expat_rate(const char *path, char *buf, unsigned long long *bytes) {
  FILE *f = fopen(path, "rb");
  XML_Parser p = XML_ParserCreate(NULL);
  size_t n;
  *bytes = 0;
  double t0 = now_s();
  while ((n = fread(buf, 1, CHUNK, f)) > 0) {
    *bytes += n;
    if (XML_Parse(p, buf, (int)n, 0) == XML_STATUS_ERROR)
      return -1;
  }
  if (XML_Parse(p, buf, 0, 1) == XML_STATUS_ERROR)
    return -1;
  double s = now_s() - t0;
  XML_ParserFree(p);
  fclose(f);
  return (double)*bytes / (1 << 20) / s;
}

static double import_rate(const char *path, char *buf, unsigned long long *events,
                          unsigned long long *records) {
  FILE *f = fopen(path, "rb");
  lt_import_opts o = {LT_IMPORT_AUTO, 0, path, count_events, events, NULL, NULL};
  lt_import *imp = NULL;
  lt_diag d;
  size_t n;
  unsigned long long bytes = 0;
  if (!f || lt_import_new(&imp, &o))
    return -1;
  double t0 = now_s();
  while ((n = fread(buf, 1, CHUNK, f)) > 0) {
    bytes += n;
    if (lt_import_feed(imp, buf, n, &d)) {
      fprintf(stderr, "bench_import: %s line %llu: %s\n", path, (unsigned long long)d.line,
              d.msg);
      return -1;
    }
  }
  if (lt_import_finish(imp, &d))
    return -1;
  double s = now_s() - t0;
  *records = lt_import_stats_get(imp)->records;
  lt_import_free(imp);
  fclose(f);
  return (double)bytes / (1 << 20) / s;
}

int main(int argc, char **argv) {
  unsigned long long mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
  char tmp[] = "/tmp/bench_import_XXXXXX";
  const char *path = argc > 2 ? argv[2] : tmp;
  if (argc <= 2) {
    int fd = mkstemp(tmp);
    if (fd < 0)
      return 4;
    close(fd);
  }
  char *buf = malloc(CHUNK);
  if (!buf || generate(path, mb ? mb : 1)) {
    fprintf(stderr, "bench_import: cannot write %s\n", path);
    return 4;
  }
  unsigned long long bytes, events = 0, records = 0;
  double w0 = wall_s();
  double e1 = expat_rate(path, buf, &bytes);
  double w1 = wall_s();
  double im = import_rate(path, buf, &events, &records);
  double w2 = wall_s();
  double e2 = expat_rate(path, buf, &bytes);
  double ex = e1 > e2 ? e1 : e2;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"bytes\":%llu,\"records\":%llu,\"events\":%llu,\"expat_mb_per_s\":%.1f,"
         "\"import_mb_per_s\":%.1f,\"import_vs_expat\":%.2f,\"wall_expat_s\":%.2f,"
         "\"wall_import_s\":%.2f,\"peak_rss_mb\":%.1f}\n",
         bytes, records, events, ex, im, ex > 0 ? im / ex : 0, w1 - w0, w2 - w1,
         ru.ru_maxrss / 1024.0);
  if (argc <= 2)
    unlink(path);
  free(buf);
  return e1 < 0 || im < 0 ? 3 : 0;
}
