/* lifetrace import — converts a DxgKrnl capture exported as text (tracerpt
 * XML or CSV, xperf dumper) into a lifetrace trace.
 *
 * The input streams through the importer in fixed-size chunks. Events go to
 * a spool file first, because the header (process names, segments) is only
 * known at the end; then the header and the spooled events are written to
 * the output in any trace form. Memory stays bounded by the capture's live
 * objects; the spool is on disk.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>

#include "commands.h"
#include "varint.h"
#include "lifetrace/import.h"
#include "lifetrace/trace.h"

#define CHUNK (1u << 20)
#define MAX_WARNINGS 20

struct spool {
  FILE *f;
  uint8_t *buf;
  size_t cap;
  uint64_t n;
  int err;
};

struct warnings {
  unsigned long shown, total;
};

enum { OPT_SUMMARY = 256, OPT_PROGRESS, OPT_NO_PROGRESS };

static const lt__opt import_opts[] = {
    {"output", 'o', 'o', "TRACE", "output trace: .ltrace, .ltrace.zst or .jsonl (\"-\" = stdout;\n"
                                  "default: EXPORT with its extension replaced by .ltrace)"},
    {"format", 'f', 'f', "auto|xml|csv|dumper|etl", "input format (default auto: from the content)"},
    {"to", 't', 't', "binary|zstd|jsonl", "output form (default: from the output's name;\n"
                                          "binary for \"-\")"},
    {"keep-going", 'k', 'k', NULL, "skip malformed records and count them instead of failing"},
    {"quiet", 'q', 'q', NULL, "no summary on stderr"},
    {"summary-json", OPT_SUMMARY, 0, "F", "write the import summary as JSON to F (\"-\" = stdout)"},
    {"progress", OPT_PROGRESS, 0, NULL, "show progress even when stderr is not a terminal"},
    {"no-progress", OPT_NO_PROGRESS, 0, NULL, "never show progress"},
    {NULL, 0, 0, NULL, NULL}};

/* import's options and texts (help, man page, completion). */
const lt__cmd lt__def_import = {
    "import", "EXPORT", "convert a DxgKrnl capture (tracerpt XML/CSV, xperf dumper) to a trace",
    "Convert a Microsoft-Windows-DxgKrnl capture exported as text into a lifetrace\n"
    "trace (ends = window). EXPORT is the output of `tracerpt x.etl -of XML`,\n"
    "`tracerpt x.etl -of CSV` or `xperf -i x.etl -a dumper` (\"-\" = stdin).\n"
    "Every event carries origin {record, line}: the record's 0-based position among\n"
    "the export's events and its line, so replay findings point into the export.",
    "0 imported, 2 usage error, 3 unreadable or malformed input (file,\n"
    "line and record named), 4 internal or output error",
    import_opts, lt_cmd_import};


static void diag_print(const char *what, const lt_diag *d) {
  fprintf(stderr, "lifetrace import: %s%s", what, d->file[0] ? d->file : "-");
  if (d->line)
    fprintf(stderr, ": line %llu", (unsigned long long)d->line);
  else if (d->offset)
    fprintf(stderr, ": byte %llu", (unsigned long long)d->offset);
  if (d->record >= 0)
    fprintf(stderr, ": record %lld", (long long)d->record);
  fprintf(stderr, ": %s\n", d->msg[0] ? d->msg : "error");
}

static void on_warn(void *data, const lt_diag *d) {
  struct warnings *w = data;
  if (++w->total > MAX_WARNINGS)
    return;
  diag_print("skipped malformed record: ", d);
  w->shown++;
}

static int put_varint(FILE *f, uint64_t v) {
  uint8_t b[LT__VARINT_MAX];
  size_t n = lt__varint_put(b, v);
  return fwrite(b, 1, n, f) == n ? 0 : -1;
}

/* Reads a varint from f: 0 read, 1 at a clean end of file, -1 malformed. */
static int get_varint(FILE *f, uint64_t *v) {
  uint8_t b[LT__VARINT_MAX];
  size_t n = 0;
  int c;
  do {
    if ((c = getc(f)) == EOF)
      return n == 0 ? 1 : -1;
    b[n++] = (uint8_t)c;
  } while ((c & 0x80) && n < LT__VARINT_MAX);
  return lt__varint_get(b, n, v) > 0 ? 0 : -1;
}

static int spool_put(void *data, const lt_event *ev) {
  struct spool *s = data;
  size_t n = lifetrace__event__get_packed_size(ev);
  if (n > s->cap) {
    uint8_t *b = lt_realloc(s->buf, n);
    if (!b)
      return s->err = LT_ENOMEM;
    s->buf = b;
    s->cap = n;
  }
  lifetrace__event__pack(ev, s->buf);
  if (put_varint(s->f, n) || fwrite(s->buf, 1, n, s->f) != n)
    return s->err = LT_EIO;
  s->n++;
  return 0;
}

/* Writes the header, then the spooled events, to the output trace. */
static int write_output(struct spool *s, const char *out, int form, const lt_header *h) {
  lt_writer *w = NULL;
  int rc = lt_writer_open(&w, out, form, h);
  if (rc) {
    fprintf(stderr, "lifetrace import: %s: cannot write: %s\n", out, lt_strerror(rc));
    return rc;
  }
  rewind(s->f);
  for (uint64_t i = 0; i < s->n && !rc; i++) {
    uint64_t len;
    if (get_varint(s->f, &len) || len > s->cap || fread(s->buf, 1, len, s->f) != len) {
      rc = LT_EIO;
      break;
    }
    lt_event *ev = lifetrace__event__unpack(&lt_protobuf_allocator, len, s->buf);
    if (!ev) {
      rc = LT_EINTERNAL;
      break;
    }
    rc = lt_writer_put(w, ev);
    lifetrace__event__free_unpacked(ev, &lt_protobuf_allocator);
  }
  int crc = lt_writer_close(w);
  if (rc || crc)
    fprintf(stderr, "lifetrace import: %s: write failed: %s\n", out, lt_strerror(rc ? rc : crc));
  return rc ? rc : crc;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(const lt_import *imp, const char *name, uint64_t size, int last) {
  const lt_import_stats *st = lt_import_stats_get(imp);
  if (size)
    fprintf(stderr, "\rimporting %s: %5.1f%%  %llu MiB  %llu records", name,
            100.0 * (double)st->bytes / (double)size, (unsigned long long)(st->bytes >> 20),
            (unsigned long long)st->records);
  else
    fprintf(stderr, "\rimporting %s: %llu MiB  %llu records", name,
            (unsigned long long)(st->bytes >> 20), (unsigned long long)st->records);
  if (last)
    fputc('\n', stderr);
}

static int exit_for(int rc) {
  if (rc == LT_ECORRUPT || rc == LT_EFORMAT || rc == LT_ENOENT)
    return LT_EXIT_INPUT;
  return LT_EXIT_INTERNAL;
}

/* Reads the input through the importer. */
static int run(lt_import *imp, FILE *in, const char *name, int show, lt_diag *diag) {
  char *buf = lt_malloc(CHUNK);
  if (!buf)
    return LT_ENOMEM;
  struct stat sb;
  uint64_t size = fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
  double last = now();
  int rc = 0;
  size_t n;
  while (!rc && (n = fread(buf, 1, CHUNK, in)) > 0) {
    rc = lt_import_feed(imp, buf, n, diag);
    if (show && now() - last > 0.2) {
      progress(imp, name, size, 0);
      last = now();
    }
  }
  if (!rc && ferror(in)) {
    snprintf(diag->file, sizeof diag->file, "%s", name);
    snprintf(diag->msg, sizeof diag->msg, "read error: %s", strerror(errno));
    rc = LT_EIO;
  }
  if (!rc)
    rc = lt_import_finish(imp, diag);
  if (show)
    progress(imp, name, size, 1);
  lt_free(buf);
  return rc;
}

static char *default_output(const char *in) {
  const char *base = strrchr(in, '/');
  base = base ? base + 1 : in;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  char *out = lt_malloc(n + 8);
  if (out) {
    memcpy(out, base, n);
    memcpy(out + n, ".ltrace", 8);
  }
  return out;
}

static int summary_json(const lt_import *imp, const char *path) {
  FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
  if (!f) {
    fprintf(stderr, "lifetrace import: %s: %s\n", path, strerror(errno));
    return -1;
  }
  lt_import_summary_json(f, imp);
  fputc('\n', f);
  return f == stdout ? fflush(f) : fclose(f);
}

/* lifetrace import CAPTURE -o OUT: converts a DxgKrnl capture exported by
 * tracerpt (XML, CSV) or xperf (dumper) into a trace, streaming, with a
 * summary of what was imported and skipped. Malformed input exits 3 naming
 * the file, line and record (unless --keep-going); 2 for usage. */
int lt_cmd_import(int argc, char **argv) {
  const char *out = NULL, *sjson = NULL;
  int format = LT_IMPORT_AUTO, form = LT_FORMAT_AUTO, keep = 0, quiet = 0, show = isatty(2), c;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_import);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 't':
      if (!strcmp(optarg, "binary"))
        form = LT_FORMAT_BINARY;
      else if (!strcmp(optarg, "zstd"))
        form = LT_FORMAT_BINARY_ZSTD;
      else if (!strcmp(optarg, "jsonl"))
        form = LT_FORMAT_JSONL;
      else {
        fprintf(stderr, "lifetrace import: unknown output form '%s' (binary, zstd, jsonl)\n",
                optarg);
        return LT_EXIT_USAGE;
      }
      break;
    case 'o':
      out = optarg;
      break;
    case 'f':
      if ((format = lt_import_format_from_name(optarg)) < 0) {
        fprintf(stderr, "lifetrace import: unknown format '%s' (auto, xml, csv, dumper, etl)\n",
                optarg);
        return LT_EXIT_USAGE;
      }
      break;
    case 'k':
      keep = 1;
      break;
    case 'q':
      quiet = 1;
      break;
    case OPT_SUMMARY:
      sjson = optarg;
      break;
    case OPT_PROGRESS:
      show = 1;
      break;
    case OPT_NO_PROGRESS:
      show = 0;
      break;
    default:
      return lt__getopt_exit(c);
    }
  }
  if (optind != argc - 1)
    return lt__usage_error(&lt__def_import, optind < argc ? "one EXPORT at a time" : "no EXPORT given");
  const char *in_path = argv[optind];
  char *def_out = NULL;
  if (!out) {
    if (!strcmp(in_path, "-")) {
      fprintf(stderr, "lifetrace import: reading stdin needs -o\n");
      return LT_EXIT_USAGE;
    }
    if (!(out = def_out = default_output(in_path)))
      return LT_EXIT_INTERNAL;
  }

  int code = LT_EXIT_INTERNAL, rc;
  lt_import *imp = NULL;
  struct spool sp = {0};
  struct warnings w = {0};
  lt_diag diag;
  memset(&diag, 0, sizeof diag);
  diag.record = -1;
  FILE *in = strcmp(in_path, "-") ? fopen(in_path, "rb") : stdin;
  if (!in) {
    if (errno == ENOENT)
      lt__no_such_file("import", in_path, NULL);
    else
      fprintf(stderr, "lifetrace import: %s: %s\n", in_path, strerror(errno));
    code = LT_EXIT_INPUT;
    goto out;
  }
  if (!(sp.f = tmpfile())) {
    fprintf(stderr, "lifetrace import: cannot create a spool file: %s\n", strerror(errno));
    goto out;
  }
  lt_import_opts o = {format, keep, in_path, spool_put, &sp, on_warn, &w};
  if ((rc = lt_import_new(&imp, &o)))
    goto out;
  if ((rc = run(imp, in, in_path, show, &diag))) {
    if (sp.err)
      fprintf(stderr, "lifetrace import: spool: %s\n", lt_strerror(sp.err));
    else
      diag_print("", &diag);
    code = sp.err ? LT_EXIT_INTERNAL : exit_for(rc);
    goto out;
  }
  if (w.total > w.shown)
    fprintf(stderr, "lifetrace import: %lu more malformed records skipped\n", w.total - w.shown);
  if (write_output(&sp, out, form, lt_import_header(imp)))
    goto out;
  if (!quiet) {
    lt_import_summary_write(stderr, imp);
    fprintf(stderr, "wrote %s\n", out);
  }
  if (sjson && summary_json(imp, sjson))
    goto out;
  code = LT_EXIT_OK;
out:
  if (in && in != stdin)
    fclose(in);
  if (sp.f)
    fclose(sp.f);
  lt_free(sp.buf);
  lt_import_free(imp);
  lt_free(def_out);
  return code;
}
