/* lt-fuzz-seeds: builds fuzz seeds (fuzz-form traces) and a dictionary from
 * traces of the corpus.
 *
 *   lt-fuzz-seeds [--bugs LIST] [--driver PATH] [--max-events N] [--dict FILE]
 *                 -o OUTDIR TRACE...
 *
 * Each trace (any form) becomes OUTDIR/<name>.bin holding the longest
 * subsequence of its events, taken greedily in order, that replays without a
 * crash of the fuzz target (no driver error finding in kernel policy) with
 * the given seeded bugs switched on. So a campaign never starts from a seed
 * that already shows a bug: everything it reports, it found. Traces that end
 * up empty are skipped. --dict writes an AFL/libFuzzer dictionary of the
 * protobuf field tags and tag+value pairs the seeds use (what a byte-level
 * mutator needs to build events).
 *
 * Exit codes: 0 ok, 2 usage, 3 unreadable trace, 4 cannot write.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/replay_file.h"
#include "varint.h"

struct seeds {
  const LT_MINIPORT *mp;
  int gpu;
  size_t max_events;
  lt_event **ev;
  size_t n, cap;
  struct token {
    uint8_t b[12];
    size_t len, count;
  } * tok;
  size_t ntok, captok;
};

static int crashing(const struct seeds *s, const lt_finding *f) {
  return lt_finding_is_crash(f, LT_POLICY_KERNEL, s->gpu);
}

/* Replays the events picked in keep[] (plus `extra`, if not NULL); returns 1
 * when the fuzz target would crash. */
static int crashes(const struct seeds *s, const lt_header *h, const size_t *keep, size_t nkeep,
                   const lt_event *extra) {
  lt_replay_opts o = {LT_POLICY_KERNEL, s->mp, 16, NULL, NULL};
  lt_replay *r = NULL;
  lt_event *small[64], **ev = nkeep + 1 <= 64 ? small : lt_calloc(nkeep + 1, sizeof *ev);
  int crash = 0;
  if (ev == NULL)
    return 1;
  for (size_t i = 0; i < nkeep; i++)
    ev[i] = s->ev[keep[i]];
  if (extra)
    ev[nkeep] = (lt_event *)extra;
  (void)lt_replay_trace(&r, h, ev, NULL, nkeep + (extra != NULL), &o);
  if (ev != small)
    lt_free(ev);
  if (r == NULL)
    return 1;
  const lt_findings *fs = lt_replay_findings(r);
  for (size_t i = 0; i < fs->n; i++)
    crash |= crashing(s, &fs->items[i]);
  lt_replay_free(r);
  return crash;
}

static lt_event *copy_event(const lt_event *ev) {
  lt_event *c = lt_event_copy(ev);
  if (c && c->origin) {
    protobuf_c_message_free_unpacked(&c->origin->base, &lt_protobuf_allocator);
    c->origin = NULL;
  }
  if (c)
    c->t = 0, c->tid = 0; /* irrelevant to replay; keeps seeds small */
  return c;
}

static void free_events(struct seeds *s) {
  for (size_t i = 0; i < s->n; i++)
    lt_event_free(s->ev[i]);
  s->n = 0;
}

static int load(struct seeds *s, const char *path, lt_reader **rd) {
  lt_diag diag;
  const lt_event *ev;
  char msg[1200];
  int err;
  memset(&diag, 0, sizeof diag);
  if ((err = lt_reader_open(rd, path, 0, &diag)) == 0) {
    while ((err = lt_reader_next(*rd, &ev, &diag)) == 0) {
      if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        lt_event **nv = lt_realloc(s->ev, cap * sizeof *nv);
        if (nv == NULL)
          return LT_ENOMEM;
        s->ev = nv;
        s->cap = cap;
      }
      if ((s->ev[s->n] = copy_event(ev)) == NULL)
        return LT_ENOMEM;
      s->n++;
    }
    if (err == LT_EEOF)
      return 0;
  }
  lt_diag_format(&diag, msg, sizeof msg);
  fprintf(stderr, "lt-fuzz-seeds: %s\n", msg);
  return err;
}

/* The varint at p[i]; returns the index after it, 0 when malformed. */
static size_t read_varint(const uint8_t *p, size_t len, size_t i, uint64_t *v) {
  int n = i < len ? lt__varint_get(p + i, len - i, v) : 0;
  return n > 0 ? i + (size_t)n : 0;
}

static void add_token(struct seeds *s, const uint8_t *b, size_t len) {
  size_t k;
  if (len == 0 || len > sizeof s->tok[0].b)
    return;
  for (k = 0; k < s->ntok; k++)
    if (s->tok[k].len == len && !memcmp(s->tok[k].b, b, len))
      break;
  if (k == s->ntok) {
    if (s->ntok == s->captok) {
      size_t cap = s->captok ? 2 * s->captok : 128;
      struct token *nt = lt_realloc(s->tok, cap * sizeof *nt);
      if (nt == NULL)
        return;
      s->tok = nt;
      s->captok = cap;
    }
    memcpy(s->tok[k].b, b, len);
    s->tok[k].len = len;
    s->tok[k].count = 0;
    s->ntok++;
  }
  s->tok[k].count++;
}

/* Adds the wire-format tokens of one packed event to the dictionary: each
 * varint field as tag+value, each length-delimited field as its tag. */
static void add_tokens(struct seeds *s, const uint8_t *p, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t start = i, tag_end;
    uint64_t tag, v;
    if ((i = read_varint(p, len, i, &tag)) == 0)
      return;
    tag_end = i;
    if ((tag & 7) == 0) {
      if ((i = read_varint(p, len, i, &v)) == 0)
        return;
      add_token(s, p + start, i - start);
    } else if ((tag & 7) == 2) {
      if ((i = read_varint(p, len, i, &v)) == 0 || v > len - i)
        return;
      add_token(s, p + start, tag_end - start);
      i += (size_t)v;
    } else {
      return;
    }
  }
}

static int write_seed(struct seeds *s, const char *outdir, const char *path,
                      const lt_header *h, const size_t *keep, size_t nkeep) {
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  char out[1024], name[256];
  snprintf(name, sizeof name, "%s", base);
  char *dot = strchr(name, '.');
  if (dot)
    *dot = 0;
  snprintf(out, sizeof out, "%s/%s.bin", outdir, name);
  lt_writer *w = NULL;
  int err = lt_writer_open(&w, out, LT_FORMAT_FUZZ, h);
  for (size_t i = 0; err == 0 && i < nkeep; i++) {
    err = lt_writer_put(w, s->ev[keep[i]]);
    size_t len = lifetrace__event__get_packed_size(s->ev[keep[i]]);
    uint8_t buf[4096];
    if (len <= sizeof buf) {
      lifetrace__event__pack(s->ev[keep[i]], buf);
      add_tokens(s, buf, len);
    }
  }
  int cerr = w ? lt_writer_close(w) : 0;
  if (err || cerr) {
    fprintf(stderr, "lt-fuzz-seeds: %s: %s\n", out, lt_strerror(err ? err : cerr));
    return -1;
  }
  printf("%s: %zu of %zu events\n", out, nkeep, s->n);
  return 0;
}

static int seed_one(struct seeds *s, const char *outdir, const char *path) {
  lt_reader *rd = NULL;
  int rc = load(s, path, &rd);
  size_t *keep = rc ? NULL : lt_calloc(s->n ? s->n : 1, sizeof *keep), nkeep = 0;
  if (rc == 0 && keep == NULL)
    rc = LT_ENOMEM;
  const lt_header *h = rc ? NULL : lt_reader_header(rd);
  for (size_t i = 0; rc == 0 && i < s->n && nkeep < s->max_events; i++) {
    keep[nkeep] = i;
    if (!crashes(s, h, keep, nkeep + 1, NULL))
      nkeep++;
  }
  if (rc == 0 && nkeep > 0)
    rc = write_seed(s, outdir, path, h, keep, nkeep);
  else if (rc == 0)
    printf("%s: skipped (no event replays without a crash)\n", path);
  lt_free(keep);
  free_events(s);
  lt_reader_free(rd);
  return rc;
}

static int cmp_tok(const void *a, const void *b) {
  const struct token *x = a, *y = b;
  if (x->count != y->count)
    return x->count < y->count ? 1 : -1;
  return x->len != y->len ? (int)x->len - (int)y->len : memcmp(x->b, y->b, x->len);
}

static int write_dict(struct seeds *s, const char *path) {
  static const char *const fixed[] = {"\\x0a", "\\x12", "\\x0a\\x00", "\\x08\\x01\\x18\\x64"};
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  fprintf(f, "# lifetrace fuzz dictionary: protobuf tags and tag+value pairs of Trace /\n"
             "# Event messages, built by lt-fuzz-seeds from the seed corpus.\n");
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    fprintf(f, "fixed_%zu=\"%s\"\n", i, fixed[i]);
  qsort(s->tok, s->ntok, sizeof *s->tok, cmp_tok);
  for (size_t i = 0; i < s->ntok && i < 200; i++) {
    fprintf(f, "seen_%zu=\"", i);
    for (size_t j = 0; j < s->tok[i].len; j++)
      fprintf(f, "\\x%02x", s->tok[i].b[j]);
    fprintf(f, "\"\n");
  }
  return fclose(f);
}

static void usage(FILE *f) {
  fputs("usage: lt-fuzz-seeds [--bugs LIST] [--driver PATH] [--max-events N] [--dict FILE]\n"
        "                     -o OUTDIR TRACE...\n"
        "Writes OUTDIR/<name>.bin for each trace: its longest prefix-greedy subsequence of\n"
        "events that replays (kernel policy) without a driver error with those bugs on.\n",
        f);
}

/* lt-fuzz-seeds: writes one seed per trace (the longest subsequence of its
 * events, taken greedily, that does not crash the fuzz target) and
 * optionally a dictionary. Exits 2 for usage or a driver that cannot be
 * loaded, 3 when a trace cannot be seeded, 4 when the dictionary cannot be
 * written. */
int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"bugs", required_argument, 0, 'b'}, {"driver", required_argument, 0, 'd'},
      {"max-events", required_argument, 0, 'm'}, {"dict", required_argument, 0, 'D'},
      {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  struct seeds s;
  const char *bugs = NULL, *driver = NULL, *dict = NULL, *outdir = NULL;
  char err[600];
  void *dl = NULL;
  int ch, rc = 0;
  memset(&s, 0, sizeof s);
  s.max_events = 64;
  s.gpu = getenv("LT_FUZZ_GPU") && atoi(getenv("LT_FUZZ_GPU")) > 0;
  while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'b': bugs = optarg; break;
    case 'd': driver = optarg; break;
    case 'm': s.max_events = strtoul(optarg, NULL, 10); break;
    case 'D': dict = optarg; break;
    case 'o': outdir = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (outdir == NULL || optind >= argc) {
    usage(stderr);
    return 2;
  }
  if (lt_miniport_load(driver, &s.mp, &dl, err, sizeof err) ||
      lt_miniport_set_bugs(s.mp, bugs, err, sizeof err)) {
    fprintf(stderr, "lt-fuzz-seeds: %s\n", err);
    return 2;
  }
  for (int i = optind; i < argc; i++)
    if (seed_one(&s, outdir, argv[i]))
      rc = 3;
  if (dict && write_dict(&s, dict)) {
    fprintf(stderr, "lt-fuzz-seeds: cannot write %s\n", dict);
    rc = 4;
  }
  lt_free(s.ev);
  lt_free(s.tok);
  lt_miniport_unload(dl);
  return rc;
}
