/* lifetrace encode: a JSONL trace (or any form) to the binary form. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "buf.h"

static const lt__opt encode_opts[] = {
    {"output", 'o', 'o', "OUT", "where to write (required; \"-\" = stdout)"},
    {"strict", 's', 0, NULL, "reject unknown JSONL keys instead of ignoring them"},
    {"zstd", 'z', 0, NULL, "compress with zstd (also implied by OUT ending in .zst)"},
    {NULL, 0, 0, NULL, NULL}};

/* encode's options and texts (help, man page, completion). */
const lt__cmd lt__def_encode = {
    "encode", "IN -o OUT", "convert a JSONL trace to the binary form",
    "Converts a trace to the binary form (.ltrace). IN is usually JSONL (the\n"
    "text form written by 'lifetrace dump'); any form is accepted, \"-\" reads\n"
    "stdin. OUT \"-\" writes to stdout.",
    "0 ok, 2 usage error, 3 unreadable or corrupt input (the message\n"
    "names the line or byte offset and the record), 4 cannot write the output.",
    encode_opts, lt_cmd_encode};

struct opts {
  const char *in, *out;
  int strict, zstd;
};

static int parse_args(int argc, char **argv, struct opts *o) {
  int c;

  memset(o, 0, sizeof *o);
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_encode);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 'o':
      o->out = optarg;
      break;
    case 's':
      o->strict = 1;
      break;
    case 'z':
      o->zstd = 1;
      break;
    default:
      return lt__getopt_exit(c);
    }
  }
  if (optind + 1 != argc || o->out == NULL) {
    return lt__usage_error(&lt__def_encode, optind >= argc ? "missing input file"
                                            : o->out       ? "too many arguments"
                                                           : "missing -o OUT");
  }
  o->in = argv[optind];
  if (lt__same_file(o->in, o->out)) {
    fprintf(stderr, "lifetrace encode: input and output are the same file\n");
    return LT_EXIT_USAGE;
  }
  if (!strcmp(o->out, "-") && isatty(STDOUT_FILENO)) {
    fprintf(stderr, "lifetrace encode: refusing to write a binary trace to a terminal\n");
    return LT_EXIT_USAGE;
  }
  return -1;
}

/* Copies every event; returns an exit code. */
static int copy(lt_reader *r, lt_writer *w) {
  lt__progress prog;
  const lt_event *ev;
  lt_diag d;
  uint64_t n = 0;
  int rc;

  lt__progress_init(&prog, "encode");
  while ((rc = lt_reader_next(r, &ev, &d)) == 0) {
    if (lt_writer_put(w, ev))
      break;
    lt__progress_tick(&prog, r, ++n);
  }
  lt__progress_done(&prog);
  if (rc != 0 && rc != LT_EEOF) {
    lt__print_diag(&d);
    return lt__exit_for_read_error(rc);
  }
  return LT_EXIT_OK;
}

/* lifetrace encode IN -o OUT: copies any form to the binary form; on failure
 * the partial output is removed. Returns the exit code. */
int lt_cmd_encode(int argc, char **argv) {
  lt_reader *r = NULL;
  lt_writer *w = NULL;
  struct opts o;
  lt_diag d;
  int rc, wrc, code = parse_args(argc, argv, &o);

  if (code >= 0) {
    return code;
  }
  rc = lt_reader_open(&r, o.in, o.strict, &d);
  if (rc) {
    lt__print_diag(&d);
    return lt__exit_for_read_error(rc);
  }
  rc = lt_writer_open(&w, o.out, o.zstd || lt__ends_with(o.out, ".zst") ? LT_FORMAT_BINARY_ZSTD
                                                                          : LT_FORMAT_BINARY,
                      lt_reader_header(r));
  if (rc) {
    fprintf(stderr, "lifetrace: %s: cannot write: %s\n", o.out,
            rc == LT_EIO || rc == LT_ENOENT ? strerror(errno) : lt_strerror(rc));
    lt_reader_free(r);
    return LT_EXIT_INTERNAL;
  }
  code = copy(r, w);
  wrc = lt_writer_close(w);
  if (code == LT_EXIT_OK && wrc) {
    fprintf(stderr, "lifetrace: %s: write failed: %s\n", o.out,
            wrc == LT_EIO ? strerror(errno) : lt_strerror(wrc));
    code = LT_EXIT_INTERNAL;
  }
  if (code != LT_EXIT_OK && strcmp(o.out, "-"))
    unlink(o.out); /* no half-written trace left behind */
  lt_reader_free(r);
  return code;
}
