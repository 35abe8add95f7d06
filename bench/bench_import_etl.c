/* bench_import_etl [MB] [FILE]: measures the native .etl import against a
 * plain read of the same file, in the same run.
 *
 * Writes an uncompressed .etl of about MB megabytes (default 256) to FILE
 * (default: a temporary file, removed afterwards): 4 CPUs' 64 KiB buffers of
 * DxgKrnl allocation cycles (AdapterAllocation + DeviceAllocation Start and
 * Stop, ReferenceAllocations, DmaPacket Start and Info), each record followed
 * by one of another provider. Then reads it from the page cache: a plain
 * fread of the whole file (the ceiling), the import (container, merge,
 * payload decoding, joins, events to a counting sink), the plain read again
 * (the better read counts). Prints one JSON object: MB/s of CPU time of each,
 * their ratio, and the peak RSS (which must not follow the file's size: run
 * with two sizes to see it flat). Callgrind instruction counts: run it under
 * `valgrind --tool=callgrind` with a small MB (docs/etw-import.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lifetrace/import.h"

#define CHUNK (1u << 20)
#define BUF 65536u
#define NCPU 4
#define T0 1000000000ll

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xFFFF), put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32)); }

static const uint8_t dxg[16] = {0x5a, 0xc4, 0x2e, 0x80, 0x99, 0x1e, 0x83, 0x4b,
                                0x99, 0x20, 0x87, 0xc9, 0x82, 0x77, 0xba, 0x9d};
static const uint8_t other[16] = {0xb3, 0x5e, 0x80, 0x8e, 0x8f, 0x6a, 0x1e, 0x4a,
                                  0x90, 0xfa, 0xa8, 0x31, 0xd9, 0x4e, 0x54, 0xa1};

struct out {
  FILE *f;
  uint8_t buf[NCPU][BUF];
  uint32_t used[NCPU];
  uint64_t seq[NCPU], bytes, records;
  int64_t ts;
  unsigned next_cpu;
};

static void flush_cpu(struct out *o, unsigned cpu, int last) {
  uint8_t *b = o->buf[cpu];
  memset(b, 0, 0x48);
  put32(b, BUF);
  put32(b + 4, o->used[cpu]);
  put64(b + 0x18, ++o->seq[cpu]);
  put16(b + 0x28, cpu);
  put16(b + 0x34, last ? 0x21 : 0x20);
  memset(b + o->used[cpu], 0xFF, BUF - o->used[cpu]);
  fwrite(b, 1, BUF, o->f);
  o->bytes += BUF;
  o->used[cpu] = 0x48;
}

/* One EVENT_HEADER record: id/version/task/opcode and n payload bytes. */
static void event(struct out *o, const uint8_t *guid, unsigned id, unsigned ver, unsigned task,
                  unsigned opc, const uint8_t *pl, size_t n) {
  unsigned cpu = o->next_cpu++ % NCPU;
  size_t size = 0x50 + n, al = (size + 7) & ~(size_t)7;
  if (o->used[cpu] + al > BUF)
    flush_cpu(o, cpu, 0);
  uint8_t *r = o->buf[cpu] + o->used[cpu];
  memset(r, 0, al);
  put16(r, (unsigned)size);
  r[2] = 0x13, r[3] = 0xC0;
  put32(r + 8, 0x1A30);
  put32(r + 0xC, 0x1234);
  put64(r + 0x10, (uint64_t)(o->ts += 3));
  memcpy(r + 0x18, guid, 16);
  put16(r + 0x28, id);
  r[0x2A] = (uint8_t)ver, r[0x2D] = (uint8_t)opc;
  put16(r + 0x2E, task);
  memcpy(r + 0x50, pl, n);
  o->used[cpu] += (uint32_t)al;
  o->records++;
}

static void dxg_event(struct out *o, unsigned id, unsigned ver, unsigned task, unsigned opc,
                      const uint8_t *pl, size_t n) {
  static const uint8_t filler[40];
  event(o, dxg, id, ver, task, opc, pl, n);
  event(o, other, 7, 0, 0, 0, filler, sizeof filler);
}

#define DEV 0xFFFF9A0C2210A000ull
#define CTX 0xFFFF9A0C23301000ull

static void cycle(struct out *o, uint64_t k) {
  uint8_t g[146] = {0}, d[96] = {0}, refs[20 + 24] = {0}, dma[44] = {0}, done[52] = {0};
  uint64_t ga = 0xFFFFC28600000000ull + (k << 12), a = ga + 0x100000000ull;
  put64(g, 0x1234), put64(g + 8, DEV), put32(g + 24, 5), put64(g + 28, 65536);
  put32(g + 36, 4096), put32(g + 40, 3), put32(g + 44, 3), put32(g + 48, 1);
  put64(g + 64, ga), put64(g + 72, ga + 0x800);
  put64(d, 0x1234), put64(d + 8, DEV), put64(d + 24, a), put64(d + 32, ga);
  put64(d + 40, 0xFFFFC28700000000ull + (k << 12));
  put64(refs, CTX), put64(refs + 8, 0xFFFFC2863E051000ull), put32(refs + 16, 2);
  put64(refs + 20, a), put64(refs + 28, ga), put32(refs + 36, 1);
  put64(dma, CTX), put32(dma + 16, 0), put64(dma + 20, k + 1), put32(dma + 28, (uint32_t)k + 1);
  put64(dma + 32, 0xFFFFC2863E051000ull);
  put64(done, CTX), put64(done + 12, k + 1), put32(done + 20, (uint32_t)k + 1), put32(done + 24, 1);
  dxg_event(o, 33, 3, 21, 1, g, sizeof g);
  dxg_event(o, 36, 1, 22, 1, d, sizeof d);
  dxg_event(o, 43, 0, 27, 0, refs, sizeof refs);
  dxg_event(o, 175, 1, 8, 1, dma, sizeof dma);
  dxg_event(o, 177, 1, 8, 0, done, sizeof done);
  dxg_event(o, 37, 1, 22, 2, d, sizeof d);
  dxg_event(o, 34, 3, 21, 2, g, sizeof g);
}

static void header(struct out *o) {
  uint8_t b[BUF];
  memset(b, 0xFF, sizeof b);
  memset(b, 0, 0x48 + 0x20 + 0x118 + 0x50);
  uint8_t *r = b + 0x48, *l = r + 0x20;
  put16(r, 2), r[2] = 2, r[3] = 0xC0, put16(r + 4, 0x20 + 0x118);
  put64(r + 0x10, T0);
  put32(l, BUF), put32(l + 8, 22621), put32(l + 12, NCPU), put32(l + 32, 1);
  put32(l + 44, 8);
  put64(l + 72 + 176 + 8, 10000000); /* PerfFreq */
  put32(l + 72 + 176 + 24, 1);       /* clock: QPC */
  size_t saved = 0x48 + 0x20 + 0x118;
  put32(b, BUF), put32(b + 4, (uint32_t)saved), put16(b + 0x34, 0x20), put16(b + 0x36, 4);
  fwrite(b, 1, BUF, o->f);
  o->bytes += BUF;
}

static int generate(const char *path, uint64_t mb) {
  struct out *o = calloc(1, sizeof *o);
  if (!o || !(o->f = fopen(path, "wb")))
    return -1;
  o->ts = T0 + 10;
  for (int c = 0; c < NCPU; c++)
    o->used[c] = 0x48;
  header(o);
  for (uint64_t k = 0; o->bytes < mb << 20; k++)
    cycle(o, k);
  for (unsigned c = 0; c < NCPU; c++)
    if (o->used[c] > 0x48)
      flush_cpu(o, c, 1);
  int rc = fclose(o->f);
  free(o);
  return rc;
}

static double plain_read(const char *path, uint64_t *sum) {
  static char buf[CHUNK];
  FILE *f = fopen(path, "rb");
  double t = cpu_s();
  size_t n;
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
    *sum += (unsigned char)buf[n - 1];
  if (f)
    fclose(f);
  return cpu_s() - t;
}

static int count_sink(void *data, const lt_event *ev) {
  (void)ev;
  ++*(uint64_t *)data;
  return 0;
}

static double import(const char *path, uint64_t *events, uint64_t *records) {
  static char buf[CHUNK];
  lt_import_opts o = {LT_IMPORT_AUTO, 0, path, count_sink, events, NULL, NULL};
  lt_import *imp = NULL;
  lt_diag d;
  FILE *f = fopen(path, "rb");
  double t = cpu_s();
  int rc = f ? lt_import_new(&imp, &o) : LT_EIO;
  size_t n;
  while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
    rc = lt_import_feed(imp, buf, n, &d);
  if (rc == 0)
    rc = lt_import_finish(imp, &d);
  t = cpu_s() - t;
  if (rc) {
    char msg[1200];
    lt_diag_format(&d, msg, sizeof msg);
    fprintf(stderr, "bench_import_etl: %s\n", msg);
    exit(1);
  }
  *records = lt_import_stats_get(imp)->records;
  lt_import_free(imp);
  fclose(f);
  return t;
}

int main(int argc, char **argv) {
  uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 256, sum = 0, events = 0, records = 0;
  char tmp[] = "/tmp/bench_import_etl.XXXXXX";
  const char *path = argc > 2 ? argv[2] : NULL;
  if (!path) {
    int fd = mkstemp(tmp);
    if (fd < 0)
      return 1;
    close(fd);
    path = tmp;
  }
  if (generate(path, mb ? mb : 1)) {
    fprintf(stderr, "bench_import_etl: cannot write %s\n", path);
    return 1;
  }
  double r1 = plain_read(path, &sum), ti = import(path, &events, &records);
  double r2 = plain_read(path, &sum), rd = r1 < r2 ? r1 : r2;
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  double bytes = (double)ftell(f);
  fclose(f);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"bytes\":%.0f,\"records\":%llu,\"events\":%llu,\"read_mb_per_s\":%.1f,"
         "\"import_mb_per_s\":%.1f,\"import_cpu_s\":%.3f,\"ratio\":%.3f,\"peak_rss_mb\":%.1f}\n",
         bytes, (unsigned long long)records, (unsigned long long)events,
         rd > 0 ? bytes / 1048576.0 / rd : 0.0, bytes / 1048576.0 / ti, ti,
         rd > 0 ? rd / ti : 0.0, ru.ru_maxrss / 1024.0);
  if (argc < 3)
    unlink(path);
  return sum == 0xFFFFFFFFFFFFFFFFull;
}
