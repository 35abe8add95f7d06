/* Findings: names, signatures, the findings list and its text/JSON forms
 * (see lifetrace/finding.h). */
#include "lifetrace/finding.h"

#include <inttypes.h>
#include <string.h>

#include "lifetrace/replay.h"
#include "lifetrace/trace.h"

static const struct {
  const char *name;
  int layer;
} kinds[] = {
#define LT_KIND_ROW(id, name, layer) {name, LT_LAYER_##layer},
    LT_FINDING_KINDS(LT_KIND_ROW)
#undef LT_KIND_ROW
};

/* The name of a finding kind, from the X-macro table; "unknown" when out of
 * range. See lifetrace/finding.h. */
const char *lt_finding_kind_name(int kind) {
  if (kind < 0 || kind >= LT_F__COUNT)
    return "unknown";
  return kinds[kind].name;
}

/* The finding kind named name, or -1; see lifetrace/finding.h. */
int lt_finding_kind_from_name(const char *name) {
  for (int i = 0; i < LT_F__COUNT; i++)
    if (!strcmp(kinds[i].name, name))
      return i;
  return -1;
}

/* The layer a finding kind belongs to (trace, miniport or GPU); see
 * lifetrace/finding.h. */
int lt_finding_kind_layer(int kind) {
  if (kind < 0 || kind >= LT_F__COUNT)
    return LT_LAYER_TRACE;
  return kinds[kind].layer;
}

/* The name of a layer as findings print it; see lifetrace/finding.h. */
const char *lt_layer_name(int layer) {
  static const char *names[] = {"trace", "miniport", "gpu"};
  return (layer >= 0 && layer <= LT_LAYER_GPU) ? names[layer] : "unknown";
}

/* "error" or "warning"; see lifetrace/finding.h. */
const char *lt_severity_name(int sev) { return sev == LT_SEV_ERROR ? "error" : "warning"; }

/* The name of an object kind as findings print it; see lifetrace/finding.h. */
const char *lt_object_name(int object) {
  static const char *names[] = {"none", "allocation", "resource", "device", "context", "pool"};
  return (object >= 0 && object <= LT_OBJ_POOL) ? names[object] : "unknown";
}

static uint64_t fnv1a(uint64_t h, const char *s) {
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ULL;
  }
  h ^= 0xff; /* field separator */
  h *= 0x100000001b3ULL;
  return h;
}

/* The order in which a finding's stacks are asked for the driver frames that
 * sign it and locate it: what went wrong before how the memory came to be. */
static const int primary_roles[] = {LT_STACK_FAULT, LT_STACK_ACCESS, LT_STACK_FREED_AGAIN,
                                    LT_STACK_FOUND, LT_STACK_AT, LT_STACK_DDI,
                                    LT_STACK_FREED, LT_STACK_ALLOCATED};

/* Symbolizes f's stack i's driver frames into out (at most max); returns
 * how many. */
static int driver_frames(const lt_finding *f, int i, lt_frame *out, int max) {
  lt_frame all[LT_FRAMES_MAX];
  int n = 0, total = lt_stack_symbolize(&f->stacks[i].stack, all, LT_FRAMES_MAX);
  for (int k = 0; k < total && n < max; k++)
    if (all[k].where == LT_FRAME_DRIVER)
      out[n++] = all[k];
  return n;
}

/* The primary stack's top driver frames (see primary_roles); returns how
 * many, 0 when no stack of f has a driver frame. */
static int primary_frames(const lt_finding *f, lt_frame *out, int max) {
  for (size_t r = 0; r < sizeof primary_roles / sizeof primary_roles[0]; r++)
    for (int i = 0; i < f->n_stacks; i++) {
      if (f->stacks[i].role != primary_roles[r])
        continue;
      int n = driver_frames(f, i, out, max);
      if (n)
        return n;
    }
  return 0;
}

/* The site without run- or instance-specific indices: "scanout[3]" ->
 * "scanout[]", so one bug in an array of sites signs once. */
static void site_class(const char *site, char *buf, size_t cap) {
  size_t o = 0;
  for (const char *p = site; *p && o + 1 < cap; p++) {
    buf[o++] = *p;
    if (*p == '[')
      while (p[1] >= '0' && p[1] <= '9')
        p++;
  }
  buf[o] = 0;
}

/* Sets f's signature from what stays the same across runs, rebuilds and
 * ASLR: kind, layer, object (a pool block's finding: "pool") and the top
 * driver frames' function names (plus the site's class: the check a bad
 * status failed, a driver structure), or, with no driver frame known, the
 * DDI and site; see lifetrace/finding.h. */
void lt_finding_sign(lt_finding *f) {
  uint64_t h = 0xcbf29ce484222325ULL;
  lt_frame fr[LT_SIGN_FRAMES];
  h = fnv1a(h, lt_finding_kind_name(f->kind));
  h = fnv1a(h, lt_layer_name(f->layer));
  /* A finding about a pool block (it has a tag) is about that block, not
   * about the trace object whose end or DDI revealed it: one leaked
   * allocation object signs the same found at a resource's destroy or at an
   * allocation's. A broken output contract ("check:...") is about the call:
   * which element or object showed it is incidental. */
  h = fnv1a(h, lt_object_name(f->pool_tag                  ? LT_OBJ_POOL
                              : !strncmp(f->site, "check:", 6) ? LT_OBJ_NONE
                                                               : f->object));
  int n = f->layer == LT_LAYER_MINIPORT ? primary_frames(f, fr, LT_SIGN_FRAMES) : 0;
  if (n == 0) {
    h = fnv1a(h, f->ddi);
    h = fnv1a(h, f->site);
    f->signature = h;
    return;
  }
  char name[128], site[64];
  for (int i = 0; i < n; i++) {
    lt_frame_stable_name(&fr[i], name, sizeof name);
    h = fnv1a(h, name);
  }
  /* A double free or a use after free is also its first free: the same
   * release path reached from different bugs frees at different places. */
  for (int i = 0; i < f->n_stacks; i++) {
    if (f->stacks[i].role != LT_STACK_FREED || !(f->kind == LT_F_MINIPORT_DOUBLE_FREE ||
                                                 f->kind == LT_F_MINIPORT_USE_AFTER_FREE))
      continue;
    int nf = driver_frames(f, i, fr, LT_SIGN_FRAMES);
    h = fnv1a(h, "freed");
    for (int k = 0; k < nf; k++) {
      lt_frame_stable_name(&fr[k], name, sizeof name);
      h = fnv1a(h, name);
    }
  }
  site_class(f->site, site, sizeof site);
  if (!f->pool_tag) /* a pool tag is the allocation's: the frames say it */
    h = fnv1a(h, site);
  f->signature = h;
}

/* Appends stack s under role to f, when there is room and s has frames; see
 * lifetrace/finding.h. */
void lt_finding_add_stack(lt_finding *f, int role, const lt_stack *s) {
  if (s == NULL || s->n == 0 || f->n_stacks >= LT_FINDING_MAX_STACKS)
    return;
  f->stacks[f->n_stacks].role = role;
  f->stacks[f->n_stacks].stack = *s;
  f->n_stacks++;
}

/* The first driver frame of f's primary stack, symbolized; see
 * lifetrace/finding.h. */
int lt_finding_driver_frame(const lt_finding *f, lt_frame *out) {
  return primary_frames(f, out, 1);
}

/* The one definition of a crash; see finding.h. */
int lt_finding_is_crash(const lt_finding *f, int policy, int gpu) {
  if (f->severity != LT_SEV_ERROR)
    return 0;
  if (f->layer == LT_LAYER_MINIPORT)
    return 1;
  return policy == LT_POLICY_AUDIT || (f->layer == LT_LAYER_GPU && gpu);
}

/* Formats a signature as 16 lowercase hex digits into buf; see
 * lifetrace/finding.h. */
void lt_signature_hex(uint64_t sig, char buf[17]) {
  snprintf(buf, 17, "%016" PRIx64, sig);
}

/* Makes an empty finding list that keeps at most cap findings (0: no limit);
 * allocates nothing. See lifetrace/finding.h. */
void lt_findings_init(lt_findings *fs, size_t cap) {
  memset(fs, 0, sizeof *fs);
  fs->cap = cap;
}

/* Counts a finding past the cap under its signature; the first error
 * replaces a first warning as the example (the store keeps the worse). */
static int tally(lt_findings *fs, const lt_finding *f) {
  for (size_t i = 0; i < fs->n_over; i++)
    if (fs->over[i].first.signature == f->signature) {
      fs->over[i].dropped++;
      if (f->severity == LT_SEV_ERROR && fs->over[i].first.severity != LT_SEV_ERROR)
        fs->over[i].first = *f;
      return 0;
    }
  if (fs->n_over == fs->alloc_over) {
    size_t na = fs->alloc_over ? fs->alloc_over * 2 : 8;
    lt_finding_tally *nt = lt_realloc(fs->over, na * sizeof *nt);
    if (nt == NULL)
      return LT_ENOMEM;
    fs->over = nt;
    fs->alloc_over = na;
  }
  fs->over[fs->n_over++] = (lt_finding_tally){1, *f};
  return 0;
}

/* Appends a copy of f, or past the cap counts it under its signature, so a
 * runaway trace cannot exhaust memory yet no kind goes unseen. LT_ENOMEM
 * leaves the list as it was, except for the counters. See
 * lifetrace/finding.h. */
int lt_findings_add(lt_findings *fs, const lt_finding *f) {
  fs->total++;
  if (f->severity == LT_SEV_ERROR)
    fs->errors++;
  else
    fs->warnings++;
  if (fs->cap && fs->n >= fs->cap)
    return tally(fs, f);
  if (fs->n == fs->alloc) {
    size_t na = fs->alloc ? fs->alloc * 2 : 16;
    lt_finding *ni = lt_realloc(fs->items, na * sizeof *ni);
    if (ni == NULL)
      return LT_ENOMEM;
    fs->items = ni;
    fs->alloc = na;
  }
  fs->items[fs->n++] = *f;
  return 0;
}

/* Frees the list's findings and tallies and empties it, keeping its cap; see
 * lifetrace/finding.h. */
void lt_findings_reset(lt_findings *fs) {
  lt_free(fs->items);
  lt_free(fs->over);
  size_t cap = fs->cap;
  memset(fs, 0, sizeof *fs);
  fs->cap = cap;
}

/* Writes s as a JSON string literal, escaping quotes, backslashes and
 * control characters (handles any byte sequence). */
void lt_json_write_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

static void json_history(FILE *out, const lt_finding *f) {
  fputs("[", out);
  for (int i = 0; i < f->n_history; i++) {
    const lt_history_entry *h = &f->history[i];
    const char *op = lt_op_name(h->op);
    fprintf(out, "%s{\"event\":%" PRIu64 ",\"op\":", i ? "," : "", h->event);
    lt_json_write_string(out, op ? op : "?");
    if (h->has_origin)
      fprintf(out, ",\"origin\":{\"record\":%" PRIu64 ",\"line\":%" PRIu64 "}", h->origin_record,
              h->origin_line);
    fputs("}", out);
  }
  fputs("]", out);
}

static const char *where_name(int where) {
  return where == LT_FRAME_DRIVER ? "driver" : where == LT_FRAME_LIFETRACE ? "lifetrace" : "system";
}

/* Writes one symbolized frame as a JSON object. */
void lt_frame_write_json(FILE *out, const lt_frame *fr) {
  fprintf(out, "{\"pc\":\"0x%" PRIxPTR "\",\"function\":", fr->pc);
  lt_json_write_string(out, fr->function);
  fputs(",\"file\":", out);
  lt_json_write_string(out, fr->file);
  fprintf(out, ",\"line\":%d,\"module\":", fr->line);
  lt_json_write_string(out, fr->module);
  fprintf(out, ",\"offset\":\"0x%" PRIxPTR "\",\"in\":\"%s\"}", fr->offset,
          where_name(fr->where));
}

/* "stacks":[{"role":..., "frames":[...]}...], symbolized now. */
static void json_stacks(FILE *out, const lt_finding *f) {
  lt_frame fr[LT_FRAMES_MAX];
  fputs(",\"stacks\":[", out);
  for (int i = 0; i < f->n_stacks; i++) {
    int n = lt_stack_symbolize_shown(&f->stacks[i].stack, fr, LT_FRAMES_MAX);
    fprintf(out, "%s{\"role\":\"%s\",\"frames\":[", i ? "," : "",
            lt_stack_role_name(f->stacks[i].role));
    for (int k = 0; k < n; k++) {
      if (k)
        fputc(',', out);
      lt_frame_write_json(out, &fr[k]);
    }
    fputs("]}", out);
  }
  fputs("]", out);
}

/* Writes f as one JSON object (no newline), the form of findings in
 * verdicts, the store and the CLI's --json; see lifetrace/finding.h. */
void lt_finding_write_json(FILE *out, const lt_finding *f) {
  char sig[17];
  lt_signature_hex(f->signature, sig);
  fputs("{\"kind\":", out);
  lt_json_write_string(out, lt_finding_kind_name(f->kind));
  fprintf(out, ",\"layer\":\"%s\",\"severity\":\"%s\",\"event\":%" PRIu64, lt_layer_name(f->layer),
          lt_severity_name(f->severity), f->event);
  if (f->has_origin)
    fprintf(out, ",\"origin\":{\"record\":%" PRIu64 ",\"line\":%" PRIu64 "}", f->origin_record,
            f->origin_line);
  fprintf(out, ",\"object\":\"%s\",\"handle\":\"0x%" PRIx64 "\",\"pid\":%" PRIu64,
          lt_object_name(f->object), f->handle, f->pid);
  if (f->created_at >= 0)
    fprintf(out, ",\"created_at\":%" PRId64, f->created_at);
  else
    fputs(",\"created_at\":null", out);
  fputs(",\"destroyed_at\":[", out);
  for (int i = 0; i < f->n_destroyed; i++)
    fprintf(out, "%s%" PRIu64, i ? "," : "", f->destroyed_at[i]);
  fputs("],\"history\":", out);
  json_history(out, f);
  fputs(",\"ddi\":", out);
  lt_json_write_string(out, f->ddi);
  fputs(",\"site\":", out);
  lt_json_write_string(out, f->site);
  if (f->pool_tag) {
    char tag[5] = {(char)(f->pool_tag & 0xff), (char)((f->pool_tag >> 8) & 0xff),
                   (char)((f->pool_tag >> 16) & 0xff), (char)(f->pool_tag >> 24), 0};
    fputs(",\"pool_tag\":", out);
    lt_json_write_string(out, tag);
  }
  if (f->bytes)
    fprintf(out, ",\"bytes\":%" PRIu64, f->bytes);
  fputs(",\"message\":", out);
  lt_json_write_string(out, f->message);
  if (f->address)
    fprintf(out, ",\"address\":\"0x%" PRIx64 "\"", f->address);
  json_stacks(out, f);
  fprintf(out, ",\"signature\":\"%s\"}", sig);
}

static void text_event(FILE *out, uint64_t event, int op, int has_origin, uint64_t rec,
                       uint64_t line) {
  const char *name = lt_op_name(op);
  fprintf(out, "event %" PRIu64 " (%s)", event, name ? name : "?");
  if (has_origin)
    fprintf(out, " [record %" PRIu64 ", line %" PRIu64 "]", rec, line);
}

static const lt_history_entry *history_at(const lt_finding *f, uint64_t event) {
  for (int i = 0; i < f->n_history; i++)
    if (f->history[i].event == event)
      return &f->history[i];
  return NULL;
}

static void text_ref(FILE *out, const lt_finding *f, uint64_t event) {
  const lt_history_entry *h = history_at(f, event);
  if (h)
    text_event(out, event, h->op, h->has_origin, h->origin_record, h->origin_line);
  else
    fprintf(out, "event %" PRIu64, event);
}

/* Writes one frame ASan-style: "#i 0xpc in function file:line (module+0xoff)". */
void lt_frame_write_text(FILE *out, int i, const lt_frame *fr) {
  fprintf(out, "    #%d 0x%" PRIxPTR " in %s", i, fr->pc, *fr->function ? fr->function : "??");
  if (*fr->file)
    fprintf(out, " %s:%d", fr->file, fr->line);
  fprintf(out, " (%s+0x%" PRIxPTR ")%s\n", *fr->module ? fr->module : "?", fr->offset,
          fr->where == LT_FRAME_DRIVER ? "  <- driver" : "");
}

static void text_stacks(FILE *out, const lt_finding *f) {
  lt_frame fr[LT_FRAMES_MAX];
  if (f->address)
    fprintf(out, "  address: 0x%" PRIx64 "\n", f->address);
  for (int i = 0; i < f->n_stacks; i++) {
    int n = lt_stack_symbolize_shown(&f->stacks[i].stack, fr, LT_FRAMES_MAX);
    fprintf(out, "  %s:\n", lt_stack_role_title(f->stacks[i].role));
    for (int k = 0; k < n; k++)
      lt_frame_write_text(out, k, &fr[k]);
  }
}

/* Writes f as the human-readable report (kind, object, message, DDI, where
 * the handle was made and destroyed, its recent history); trace_name may be
 * NULL. See lifetrace/finding.h. */
void lt_finding_write_text(FILE *out, const lt_finding *f, const char *trace_name) {
  char sig[17];
  lt_signature_hex(f->signature, sig);
  fprintf(out, "==lifetrace== %s: %s", f->severity == LT_SEV_ERROR ? "ERROR" : "WARNING",
          lt_finding_kind_name(f->kind));
  if (f->object != LT_OBJ_NONE)
    fprintf(out, " on %s 0x%" PRIx64, lt_object_name(f->object), f->handle);
  fprintf(out, " at event %" PRIu64, f->event);
  if (f->has_origin)
    fprintf(out, " [record %" PRIu64 ", line %" PRIu64 "]", f->origin_record, f->origin_line);
  fprintf(out, "\n    %s\n", f->message);
  fprintf(out, "    in %s, layer %s, pid %" PRIu64 ", trace %s\n", f->ddi[0] ? f->ddi : "-",
          lt_layer_name(f->layer), f->pid, trace_name ? trace_name : "-");
  if (f->site[0])
    fprintf(out, "    driver site: %s\n", f->site);
  if (f->created_at >= 0) {
    fputs("  created at ", out);
    text_ref(out, f, (uint64_t)f->created_at);
    fputs("\n", out);
  } else if (f->object != LT_OBJ_POOL && f->object != LT_OBJ_NONE) {
    fputs("  never created in this trace\n", out);
  }
  for (int i = 0; i < f->n_destroyed; i++) {
    fputs("  destroyed at ", out);
    text_ref(out, f, f->destroyed_at[i]);
    fputs("\n", out);
  }
  if (f->n_history) {
    fprintf(out, "  last %d events on this handle:\n", f->n_history);
    for (int i = 0; i < f->n_history; i++) {
      const lt_history_entry *h = &f->history[i];
      fputs("    ", out);
      text_event(out, h->event, h->op, h->has_origin, h->origin_record, h->origin_line);
      fputs("\n", out);
    }
  }
  text_stacks(out, f);
  fprintf(out, "  signature: %s\n\n", sig);
}
