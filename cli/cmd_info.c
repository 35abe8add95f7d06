/* lifetrace info: what a trace holds, in one pass over it.
 *
 * Besides counts, a light lifetime pass keeps the sets of live devices,
 * contexts, allocations and resources, updated by the create and destroy
 * ops only (no contract checking: that is replay's job). A device_destroy or
 * a process_exit ends the objects of its devices, as dxgkrnl does.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lifetrace/import.h"
#include "buf.h"
#include "u64tab.h"

#define N_OPS 21 /* OP_NONE .. INJECT_FAULT; more are counted as "other" */
#define MAX_PROCESS_LINES 32

static const lt__opt info_opts[] = {
    {"json", 'j', 0, NULL, "print one JSON object instead of text"},
    {NULL, 0, 0, NULL, NULL}};

/* info's options and texts (help, man page, completion). */
const lt__cmd lt__def_info = {
    "info", "IN", "summarize a trace: events per op, span, processes, objects",
    "Summarizes a trace (any form; \"-\" reads stdin): format and version, source,\n"
    "end kind, segments, events per op, time span, processes, devices, objects\n"
    "live at the start (rundown) and at the end, file size.\n"
    "An .etl capture: its log-file header, records per provider and event\n"
    "id/version, time span and lost events and buffers.",
    "0 ok, 2 usage error, 3 unreadable or corrupt input.", info_opts, lt_cmd_info};

/* ---- per-handle state: the base kit's table, two u64 values per key ----- */

struct vals {
  uint64_t a, b;
};

/* Inserts or overwrites key. */
static int map_put(lt__u64tab *m, uint64_t key, uint64_t a, uint64_t b) {
  struct vals *v;
  int err = lt__u64tab_put(m, key, (void **)&v, NULL);
  if (err == 0)
    *v = (struct vals){a, b};
  return err;
}

/* ---- the pass ------------------------------------------------------------- */

enum { K_DEVICE, K_CONTEXT, K_ALLOC, K_RESOURCE, N_KINDS };
static const char *const kind_names[N_KINDS] = {"devices", "contexts", "allocations", "resources"};

struct info {
  uint64_t events, ops[N_OPS + 1], t_first, t_last;
  uint64_t rundown[N_KINDS], live[N_KINDS], created[N_KINDS], unknown_destroys;
  uint64_t next_serial;
  lt__u64tab obj[N_KINDS]; /* devices: a = serial, b = pid; others: a = owner serial */
  lt__u64tab serials;      /* serials of live devices */
  lt__u64tab procs;        /* pid -> a = events, b = devices created */
  int err;
};

static void note(struct info *in, int rc) {
  if (rc && !in->err)
    in->err = rc;
}

/* The serial of the live device with handle dev, or 0 if unknown. */
static uint64_t owner(struct info *in, uint64_t dev) {
  struct vals *s = lt__u64tab_get(&in->obj[K_DEVICE], dev);
  return s ? s->a : 0;
}

static void create(struct info *in, int kind, uint64_t h, uint64_t dev, int rundown) {
  in->created[kind]++;
  if (rundown)
    in->rundown[kind]++;
  note(in, map_put(&in->obj[kind], h, owner(in, dev), 0));
}

static void destroy(struct info *in, int kind, uint64_t h) {
  if (!lt__u64tab_del(&in->obj[kind], h))
    in->unknown_destroys++;
}

static void device_create(struct info *in, const lt_event *ev) {
  struct vals *p = lt__u64tab_get(&in->procs, ev->pid);
  uint64_t serial = ++in->next_serial;

  in->created[K_DEVICE]++;
  if (ev->rundown)
    in->rundown[K_DEVICE]++;
  note(in, map_put(&in->obj[K_DEVICE], ev->device, serial, ev->pid));
  note(in, map_put(&in->serials, serial, 1, 0));
  if (p)
    p->b++;
}

static void device_destroy(struct info *in, uint64_t dev) {
  struct vals *s = lt__u64tab_get(&in->obj[K_DEVICE], dev);

  if (s == NULL) {
    in->unknown_destroys++;
    return;
  }
  (void)lt__u64tab_del(&in->serials, s->a);
  (void)lt__u64tab_del(&in->obj[K_DEVICE], dev);
}

/* A process exit ends every device the process created. */
static void process_exit(struct info *in, uint64_t pid) {
  lt__u64tab *d = &in->obj[K_DEVICE];
  size_t i = 0;

  while (i < d->cap) {
    if (d->used[i] && ((struct vals *)LT__U64TAB_VAL(d, i))->b == pid)
      device_destroy(in, d->keys[i]); /* may shift a later slot into i */
    else
      i++;
  }
}

static void alloc_create(struct info *in, const lt_event *ev) {
  for (size_t i = 0; i < ev->n_allocs; i++)
    create(in, K_ALLOC, ev->allocs[i]->alloc, ev->device, ev->rundown);
  if (ev->resource && (ev->new_resource || !lt__u64tab_get(&in->obj[K_RESOURCE], ev->resource)))
    create(in, K_RESOURCE, ev->resource, ev->device, ev->rundown);
}

static void alloc_destroy(struct info *in, const lt_event *ev) {
  for (size_t i = 0; i < ev->n_handles; i++)
    destroy(in, K_ALLOC, ev->handles[i]);
  if (ev->destroy_resource && ev->resource)
    destroy(in, K_RESOURCE, ev->resource);
}

static void count_process(struct info *in, uint64_t pid) {
  struct vals *p;

  if (pid == 0)
    return;
  p = lt__u64tab_get(&in->procs, pid);
  if (p)
    p->a++;
  else
    note(in, map_put(&in->procs, pid, 1, 0));
}

static void account(struct info *in, const lt_event *ev) {
  if (in->events == 0)
    in->t_first = ev->t;
  in->t_last = ev->t;
  in->events++;
  in->ops[ev->op >= 0 && ev->op < N_OPS ? ev->op : N_OPS]++;
  count_process(in, ev->pid);
  switch (ev->op) {
  case LIFETRACE__OP__DEVICE_CREATE:
    device_create(in, ev);
    break;
  case LIFETRACE__OP__DEVICE_DESTROY:
    device_destroy(in, ev->device);
    break;
  case LIFETRACE__OP__CONTEXT_CREATE:
    create(in, K_CONTEXT, ev->context, ev->device, ev->rundown);
    break;
  case LIFETRACE__OP__CONTEXT_DESTROY:
    destroy(in, K_CONTEXT, ev->context);
    break;
  case LIFETRACE__OP__ALLOC_CREATE:
    alloc_create(in, ev);
    break;
  case LIFETRACE__OP__ALLOC_DESTROY:
    alloc_destroy(in, ev);
    break;
  case LIFETRACE__OP__PROCESS_EXIT:
    process_exit(in, ev->pid);
    break;
  default:
    break;
  }
}

/* Objects alive at the end: in the sets, and their device (if known) too. */
static void count_live(struct info *in) {
  in->live[K_DEVICE] = in->obj[K_DEVICE].n;
  for (int k = K_CONTEXT; k < N_KINDS; k++) {
    const lt__u64tab *m = &in->obj[k];
    for (size_t i = 0; i < m->cap; i++) {
      const struct vals *v = LT__U64TAB_VAL(m, i);
      if (m->used[i] && (v->a == 0 || lt__u64tab_get(&in->serials, v->a)))
        in->live[k]++;
    }
  }
}

static void info_free(struct info *in) {
  for (int k = 0; k < N_KINDS; k++)
    lt__u64tab_reset(&in->obj[k]);
  lt__u64tab_reset(&in->serials);
  lt__u64tab_reset(&in->procs);
}

/* ---- output --------------------------------------------------------------- */

struct proc {
  uint64_t pid, events, devices;
  const char *name;
};

static int by_pid(const void *a, const void *b) {
  const struct proc *x = a, *y = b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Processes of the header and of the events, sorted by pid. */
static struct proc *collect_procs(const struct info *in, const lt_header *h, size_t *n) {
  struct proc *p = lt_calloc(in->procs.n + h->n_processes + 1, sizeof *p);
  size_t k = 0;

  if (p == NULL)
    return NULL;
  for (size_t i = 0; i < in->procs.cap; i++) {
    const struct vals *v = LT__U64TAB_VAL(&in->procs, i);
    if (in->procs.used[i])
      p[k++] = (struct proc){in->procs.keys[i], v->a, v->b, NULL};
  }
  for (size_t i = 0; i < h->n_processes; i++) {
    const struct vals *s = lt__u64tab_get(&in->procs, h->processes[i]->pid);
    size_t j = 0;
    while (j < k && p[j].pid != h->processes[i]->pid)
      j++;
    if (j == k)
      p[k++] = (struct proc){h->processes[i]->pid, s ? s->a : 0, s ? s->b : 0, NULL};
    if (p[j].name == NULL)
      p[j].name = h->processes[i]->name;
  }
  qsort(p, k, sizeof *p, by_pid);
  *n = k;
  return p;
}

/* Untrusted text for a terminal: controls and broken UTF-8 as \xNN. */
static void print_safe(const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");

  while (*p) {
    size_t n = *p >= 0x80 ? lt__utf8_len(p) : 1;
    if (*p < 0x20 || *p == 0x7f || n == 0 || (p[0] == 0xc2 && p[1] < 0xa0)) {
      printf("\\x%02x", *p++);
      continue;
    }
    fwrite(p, 1, n, stdout);
    p += n;
  }
}

static void print_size(uint64_t v) {
  static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;

  while (v >= 1024 && v % 1024 == 0 && u < 4) {
    v /= 1024;
    u++;
  }
  printf("%" PRIu64 " %s", v, units[u]);
}

static void print_kinds(const char *label, const uint64_t *v) {
  printf("%-12s", label);
  for (int k = 0; k < N_KINDS; k++)
    printf("%s%" PRIu64 " %s", k ? ", " : "", v[k], kind_names[k]);
  printf("\n");
}

static void print_header(const lt_reader *r, const char *file, uint64_t size) {
  const lt_header *h = lt_reader_header(r);

  printf("file        ");
  print_safe(file);
  printf("\nsize        %" PRIu64 " bytes\n", size);
  printf("format      %s", lt_format_name(lt_reader_format(r)));
  if (lt_reader_format(r) == LT_FORMAT_BINARY || lt_reader_format(r) == LT_FORMAT_BINARY_ZSTD)
    printf(", container version %u", LT_TRACE_FORMAT_VERSION);
  printf(", trace version %u\nsource      ", h->lifetrace);
  print_safe(h->source);
  printf("\nends        %s\nsegments    %s", lt_ends_name(h->ends) ? lt_ends_name(h->ends) : "?",
         h->n_segments ? "" : "none");
  for (size_t i = 0; i < h->n_segments; i++) {
    const char *kind = lt_segkind_name(h->segments[i]->kind);
    printf("%s%u %s ", i ? ", " : "", h->segments[i]->id, kind ? kind : "?");
    print_size(h->segments[i]->size);
  }
  printf("\n");
}

static void print_text(const struct info *in, const lt_reader *r, const char *file, uint64_t size,
                       const struct proc *p, size_t np) {
  print_header(r, file, size);
  printf("events      %" PRIu64 "\n", in->events);
  for (int op = 0; op <= N_OPS; op++)
    if (in->ops[op])
      printf("  %-18s %" PRIu64 "\n", op == N_OPS ? "(unknown op)" : lt_op_name(op) ? lt_op_name(op) : "(none)",
             in->ops[op]);
  if (in->events)
    printf("time        first t=%" PRIu64 " ns, last t=%" PRIu64 " ns, span %.6f s\n", in->t_first,
           in->t_last, in->t_last >= in->t_first ? (double)(in->t_last - in->t_first) / 1e9 : 0.0);
  printf("processes   %zu\n", np);
  for (size_t i = 0; i < np && i < MAX_PROCESS_LINES; i++) {
    printf("  pid %-8" PRIu64 " ", p[i].pid);
    print_safe(p[i].name ? p[i].name : "-");
    printf("  events %" PRIu64 ", devices %" PRIu64 "\n", p[i].events, p[i].devices);
  }
  if (np > MAX_PROCESS_LINES)
    printf("  … %zu more (--json lists all)\n", np - MAX_PROCESS_LINES);
  printf("devices     %" PRIu64 " created\n", in->created[K_DEVICE]);
  print_kinds("live start", in->rundown);
  print_kinds("live end", in->live);
  printf("unmatched   %" PRIu64 " destroys of handles not alive in the trace\n",
         in->unknown_destroys);
}

/* A number as in JSONL: an integer up to 2^53, else a "0x…" string. */
static json_t *jnum(uint64_t v) {
  char hex[24];

  if (v <= (UINT64_C(1) << 53))
    return json_integer((json_int_t)v);
  snprintf(hex, sizeof hex, "0x%" PRIx64, v);
  return json_string(hex);
}

/* A JSON string from untrusted text: bytes that are not UTF-8 become U+FFFD. */
static json_t *jstr(const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  lt__buf b = {0};
  json_t *j;

  while (*p) {
    size_t n = *p >= 0x80 ? lt__utf8_len(p) : 1;
    if (n == 0) {
      lt__buf_put(&b, "\xef\xbf\xbd", 3);
      n = 1;
    } else {
      lt__buf_put(&b, (const char *)p, n);
    }
    p += n;
  }
  j = json_stringn(b.s ? b.s : "", b.n);
  lt__buf_reset(&b);
  return j;
}

static json_t *jkinds(const uint64_t *v) {
  json_t *o = json_object();

  for (int k = 0; k < N_KINDS; k++)
    json_object_set_new(o, kind_names[k], jnum(v[k]));
  return o;
}

static json_t *jheader(const lt_reader *r) {
  const lt_header *h = lt_reader_header(r);
  json_t *o = json_object(), *segs = json_array();

  json_object_set_new(o, "format", json_string(lt_format_name(lt_reader_format(r))));
  json_object_set_new(o, "compressed", json_boolean(lt_reader_compressed(r)));
  if (lt_reader_format(r) == LT_FORMAT_BINARY || lt_reader_format(r) == LT_FORMAT_BINARY_ZSTD)
    json_object_set_new(o, "container_version", json_integer(LT_TRACE_FORMAT_VERSION));
  json_object_set_new(o, "lifetrace", json_integer(h->lifetrace));
  json_object_set_new(o, "source", jstr(h->source));
  json_object_set_new(o, "ends", lt_ends_name(h->ends) ? json_string(lt_ends_name(h->ends))
                                                        : json_integer(h->ends));
  for (size_t i = 0; i < h->n_segments; i++) {
    const char *kind = lt_segkind_name(h->segments[i]->kind);
    json_array_append_new(segs, json_pack("{s:I, s:o, s:o}", "id", (json_int_t)h->segments[i]->id,
                                          "kind", kind ? json_string(kind) : json_integer(h->segments[i]->kind),
                                          "size", jnum(h->segments[i]->size)));
  }
  json_object_set_new(o, "segments", segs);
  return o;
}

static json_t *jprocs(const struct proc *p, size_t np) {
  json_t *a = json_array();

  for (size_t i = 0; i < np; i++)
    json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o}", "pid", jnum(p[i].pid), "name",
                                       p[i].name ? jstr(p[i].name) : json_null(), "events",
                                       jnum(p[i].events), "devices", jnum(p[i].devices)));
  return a;
}

static int print_json(const struct info *in, const lt_reader *r, const char *file, uint64_t size,
                      const struct proc *p, size_t np) {
  json_t *o = json_object(), *ops = json_object(), *h;
  char *text;

  json_object_set_new(o, "file", jstr(file));
  json_object_set_new(o, "size", jnum(size));
  h = jheader(r);
  json_object_update(o, h);
  json_decref(h);
  json_object_set_new(o, "events", jnum(in->events));
  for (int op = 1; op < N_OPS; op++)
    json_object_set_new(ops, lt_op_name(op), jnum(in->ops[op]));
  if (in->ops[0] || in->ops[N_OPS])
    json_object_set_new(ops, "other", jnum(in->ops[0] + in->ops[N_OPS]));
  json_object_set_new(o, "ops", ops);
  json_object_set_new(o, "t_first", in->events ? jnum(in->t_first) : json_null());
  json_object_set_new(o, "t_last", in->events ? jnum(in->t_last) : json_null());
  json_object_set_new(o, "processes", jprocs(p, np));
  json_object_set_new(o, "devices", jnum(in->created[K_DEVICE]));
  json_object_set_new(o, "live_start", jkinds(in->rundown));
  json_object_set_new(o, "live_end", jkinds(in->live));
  json_object_set_new(o, "unmatched_destroys", jnum(in->unknown_destroys));
  text = json_dumps(o, JSON_INDENT(2));
  json_decref(o);
  if (text == NULL)
    return LT_ENOMEM;
  printf("%s\n", text);
  free(text);
  return 0;
}

/* Reads every event into in; returns an exit code. */
static int scan(lt_reader *r, struct info *in) {
  lt__progress prog;
  const lt_event *ev;
  lt_diag d;
  int rc;

  lt__progress_init(&prog, "info");
  while ((rc = lt_reader_next(r, &ev, &d)) == 0 && !in->err) {
    account(in, ev);
    lt__progress_tick(&prog, r, in->events);
  }
  lt__progress_done(&prog);
  if (in->err) {
    fprintf(stderr, "lifetrace: info: %s\n", lt_strerror(in->err));
    return LT_EXIT_INTERNAL;
  }
  if (rc != LT_EEOF) {
    lt__print_diag(&d);
    return lt__exit_for_read_error(rc);
  }
  count_live(in);
  return LT_EXIT_OK;
}

static int report(const struct info *in, const lt_reader *r, const char *file, int json) {
  uint64_t size = lt_reader_size(r) ? lt_reader_size(r) : lt_reader_bytes(r);
  struct proc *p;
  size_t np = 0;
  int rc = 0;

  p = collect_procs(in, lt_reader_header(r), &np);
  if (p == NULL) {
    fprintf(stderr, "lifetrace: info: out of memory\n");
    return LT_EXIT_INTERNAL;
  }
  if (json)
    rc = print_json(in, r, file, size, p, np);
  else
    print_text(in, r, file, size, p, np);
  lt_free(p);
  if (rc || fflush(stdout) != 0) {
    fprintf(stderr, "lifetrace: info: cannot write the report\n");
    return LT_EXIT_INTERNAL;
  }
  return LT_EXIT_OK;
}

static int parse_args(int argc, char **argv, int *json, const char **in) {
  int c;

  *json = 0;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_info);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    if (c == 'j')
      *json = 1;
    else
      return lt__getopt_exit(c);
  }
  if (optind + 1 != argc) {
    return lt__usage_error(&lt__def_info, optind >= argc ? "missing input file" : "too many arguments");
  }
  *in = argv[optind];
  return -1;
}

/* An .etl capture (not a trace): what it holds, through the import layer.
 * Returns -1 when the file is not an .etl. */
static int etl_info(const char *file, int json) {
  unsigned char head[0x60];
  lt_etl_info *info = NULL;
  lt_diag d;
  FILE *f = strcmp(file, "-") ? fopen(file, "rb") : NULL;
  if (!f)
    return -1;
  size_t n = fread(head, 1, sizeof head, f);
  if (!lt_import_is_etl(head, n)) {
    fclose(f);
    return -1;
  }
  rewind(f);
  memset(&d, 0, sizeof d);
  int rc = lt_etl_info_read(f, file, 0, &info, &d);
  fclose(f);
  if (rc) {
    lt__print_diag(&d);
    return lt__exit_for_read_error(rc);
  }
  lt_etl_info_write(stdout, info, json);
  lt_etl_info_free(info);
  return LT_EXIT_OK;
}

/* lifetrace info IN: an .etl capture's contents (providers, events, lost
 * buffers), or one pass over a trace and a text or JSON summary of it.
 * Returns the exit code. */
int lt_cmd_info(int argc, char **argv) {
  struct info in = {0};
  for (int k = 0; k < N_KINDS; k++)
    lt__u64tab_init(&in.obj[k], sizeof(struct vals));
  lt__u64tab_init(&in.serials, sizeof(struct vals));
  lt__u64tab_init(&in.procs, sizeof(struct vals));
  lt_reader *r = NULL;
  const char *file = NULL;
  lt_diag d;
  int json, rc, code = parse_args(argc, argv, &json, &file);

  if (code >= 0) {
    return code;
  }
  if ((code = etl_info(file, json)) >= 0)
    return code;
  rc = lt_reader_open(&r, file, 0, &d);
  if (rc) {
    lt__print_diag(&d);
    return lt__exit_for_read_error(rc);
  }
  code = scan(r, &in);
  if (code == LT_EXIT_OK)
    code = report(&in, r, strcmp(file, "-") ? file : "<stdin>", json);
  info_free(&in);
  lt_reader_free(r);
  return code;
}
