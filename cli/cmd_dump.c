/* lifetrace dump: any trace form to JSONL (or a slice of it to any form). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "buf.h"

static const lt__opt dump_opts[] = {
    {"range", 'r', 'r', "A-B", "only events A to B (0-based, inclusive); also A-, -B, N"},
    {"index", 'i', 'i', NULL, "add the event index to every line as \"i\""},
    {"output", 'o', 'o', "OUT", "write to OUT instead of stdout; an OUT ending in\n"
                                ".ltrace or .zst gets the binary form (a slice of the trace)"},
    {NULL, 0, 0, NULL, NULL}};

/* dump's options and texts (help, man page, completion). */
const lt__cmd lt__def_dump = {
    "dump", "IN", "print a trace as JSONL (either form in)",
    "Prints a trace (any form; \"-\" reads stdin) as JSONL: the header line,\n"
    "then one event per line, in the canonical form that 'lifetrace encode'\n"
    "turns back into the identical binary trace.",
    "0 ok, 2 usage error, 3 unreadable or corrupt input (the message\n"
    "names the line or byte offset and the record), 4 cannot write the output.",
    dump_opts, lt_cmd_dump};

struct opts {
  const char *in, *out;
  uint64_t first, last;
  int index;
};

static int parse_index(const char *s, size_t n, uint64_t *out) {
  char tmp[32];
  char *end;

  if (n == 0 || n >= sizeof tmp || s[0] < '0' || s[0] > '9')
    return -1;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  errno = 0;
  *out = strtoull(tmp, &end, 10);
  return *end || errno ? -1 : 0;
}

/* "A-B", "A-", "-B" or "N". */
static int parse_range(const char *s, struct opts *o) {
  const char *dash = strchr(s, '-');

  if (dash == NULL) {
    if (parse_index(s, strlen(s), &o->first))
      return -1;
    o->last = o->first;
    return 0;
  }
  if (dash > s && parse_index(s, (size_t)(dash - s), &o->first))
    return -1;
  if (dash[1] && parse_index(dash + 1, strlen(dash + 1), &o->last))
    return -1;
  return dash == s && !dash[1] ? -1 : o->first <= o->last ? 0 : -1;
}

static int binary_out(const char *out) {
  return out && (lt__ends_with(out, ".ltrace") || lt__ends_with(out, ".zst") ||
                 lt__ends_with(out, ".zstd"));
}

static int check_args(struct opts *o, int argc, char **argv) {
  if (optind + 1 != argc) {
    return lt__usage_error(&lt__def_dump, optind >= argc ? "missing input file" : "too many arguments");
  }
  o->in = argv[optind];
  if (o->out && lt__same_file(o->in, o->out)) {
    fprintf(stderr, "lifetrace dump: input and output are the same file\n");
    return LT_EXIT_USAGE;
  }
  if (o->index && binary_out(o->out)) {
    fprintf(stderr, "lifetrace dump: --index applies to JSONL output only\n");
    return LT_EXIT_USAGE;
  }
  return -1;
}

static int parse_args(int argc, char **argv, struct opts *o) {
  int c;

  memset(o, 0, sizeof *o);
  o->last = UINT64_MAX;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_dump);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 'r':
      if (parse_range(optarg, o)) {
        fprintf(stderr, "lifetrace dump: bad range '%s' (expected A-B, A-, -B or N, A <= B)\n",
                optarg);
        return LT_EXIT_USAGE;
      }
      break;
    case 'i':
      o->index = 1;
      break;
    case 'o':
      o->out = optarg;
      break;
    default:
      return lt__getopt_exit(c);
    }
  }
  return check_args(o, argc, argv);
}

/* Where the events go: a writer of the form the output's name asks for,
 * JSONL on stdout or into a file not named .ltrace/.zst. */
struct sink {
  lt_writer *w;
  int index;
};

static int sink_open(struct sink *s, const struct opts *o, const lt_header *h) {
  memset(s, 0, sizeof *s);
  s->index = o->index;
  const char *out = o->out ? o->out : "-";
  return lt_writer_open(&s->w, out, binary_out(o->out) ? LT_FORMAT_AUTO : LT_FORMAT_JSONL, h);
}

static int sink_put(struct sink *s, const lt_event *ev, uint64_t index) {
  return lt_writer_put_indexed(s->w, ev, s->index ? (int64_t)index : -1);
}

static int sink_close(struct sink *s) { return lt_writer_close(s->w); }

/* Writes the events in range; returns an exit code. */
static int dump_events(lt_reader *r, struct sink *s, const struct opts *o) {
  lt__progress prog;
  const lt_event *ev;
  lt_diag d;
  uint64_t i = 0;
  int rc = 0;

  lt__progress_init(&prog, "dump");
  while (i <= o->last && (rc = lt_reader_next(r, &ev, &d)) == 0) {
    if (i >= o->first && (rc = sink_put(s, ev, i)) != 0) {
      fprintf(stderr, "lifetrace: %s: record %" PRIu64 ": cannot write it as JSONL: %s\n", o->in,
              i, rc == LT_ETOOBIG ? "line over the 16 MiB limit" : lt_strerror(rc));
      return rc == LT_ETOOBIG ? LT_EXIT_INPUT : LT_EXIT_INTERNAL;
    }
    lt__progress_tick(&prog, r, ++i);
  }
  lt__progress_done(&prog);
  if (i <= o->last && rc != 0 && rc != LT_EEOF) {
    lt__print_diag(&d);
    return lt__exit_for_read_error(rc);
  }
  return LT_EXIT_OK;
}

/* lifetrace dump IN: prints the canonical JSONL of a trace, or of the events
 * in --range; stops reading after the range. Returns the exit code. */
int lt_cmd_dump(int argc, char **argv) {
  lt_reader *r = NULL;
  struct sink s;
  struct opts o;
  lt_diag d;
  int rc, code = parse_args(argc, argv, &o);

  if (code >= 0) {
    return code;
  }
  rc = lt_reader_open(&r, o.in, 0, &d);
  if (rc) {
    lt__print_diag(&d);
    return lt__exit_for_read_error(rc);
  }
  rc = sink_open(&s, &o, lt_reader_header(r));
  code = rc ? LT_EXIT_INTERNAL : dump_events(r, &s, &o);
  if (sink_close(&s) && code == LT_EXIT_OK)
    rc = LT_EIO;
  if (rc) {
    fprintf(stderr, "lifetrace: %s: cannot write: %s\n", o.out ? o.out : "<stdout>",
            rc == LT_EIO ? strerror(errno) : lt_strerror(rc));
    code = LT_EXIT_INTERNAL;
  }
  lt_reader_free(r);
  return code;
}
