/* SARIF 2.1.0 writer for `lifetrace check` (see sarif.h). Built with jansson
 * so every string is escaped by construction. */
#include "lifetrace/sarif.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"
#include "lifetrace/replay.h"
#include "lifetrace/trace.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

/* The line of a finding in its trace file, 0 when unknown; see
 * lifetrace/sarif.h. */
uint64_t lt__finding_line(const lt_finding *f, int jsonl) {
  if (jsonl)
    return f->event + 2;
  if (f->has_origin && f->origin_line > 0)
    return f->origin_line;
  return 0;
}

/* A URI reference for a relative path: unreserved bytes and '/' pass, the
 * rest is percent-encoded (spaces, '#', '%', non-ASCII). */
static char *uri_encode(const char *path) {
  size_t n = strlen(path);
  char *out = lt_malloc(3 * n + 1), *o = out;
  if (out == NULL)
    return NULL;
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p))
      *o++ = (char)*p;
    else
      o += sprintf(o, "%%%02X", *p);
  }
  *o = 0;
  return out;
}

static json_t *text(const char *s) { return json_pack("{s:s}", "text", s); }

static json_t *rules(void) {
  json_t *a = json_array();
  for (int k = 0; a && k < LT_F__COUNT; k++) {
    json_t *r = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:{s:s}, s:{s:[s,s]}}", "id", lt_finding_kind_name(k), "name",
        lt_finding_kind_name(k), "shortDescription", text(lt__kind_summary(k)), "fullDescription",
        text(lt__kind_help(k)), "help", text(lt__kind_help(k)), "defaultConfiguration", "level",
        k == LT_F_LOST_DESTROY ? "warning" : "error", "properties", "tags", "lifetime",
        lt_layer_name(lt_finding_kind_layer(k)));
    if (r == NULL || json_array_append_new(a, r)) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

static json_t *location(const char *uri, uint64_t line, const char *msg) {
  json_t *phys = json_pack("{s:{s:s, s:s}}", "artifactLocation", "uri", uri, "uriBaseId",
                           "%SRCROOT%");
  if (phys && line > 0)
    json_object_set_new(phys, "region", json_pack("{s:I}", "startLine", (json_int_t)line));
  json_t *loc = json_pack("{s:o}", "physicalLocation", phys);
  if (loc && msg)
    json_object_set_new(loc, "message", text(msg));
  return loc;
}

/* Related locations: where the object was created and destroyed, as lines
 * of the same JSONL trace. */
static json_t *related(const lt_finding *f, const char *uri, int jsonl) {
  json_t *a = json_array();
  char msg[64];
  int id = 1;
  if (!jsonl)
    return a;
  if (f->created_at >= 0) {
    snprintf(msg, sizeof msg, "created at event %lld", (long long)f->created_at);
    json_t *l = location(uri, (uint64_t)f->created_at + 2, msg);
    json_object_set_new(l, "id", json_integer(id++));
    json_array_append_new(a, l);
  }
  for (int i = 0; i < f->n_destroyed && i < LT_FINDING_MAX_DESTROYS; i++) {
    snprintf(msg, sizeof msg, "destroyed at event %llu", (unsigned long long)f->destroyed_at[i]);
    json_t *l = location(uri, f->destroyed_at[i] + 2, msg);
    json_object_set_new(l, "id", json_integer(id++));
    json_array_append_new(a, l);
  }
  return a;
}

/* A frame's location in driver source: repo-relative under %SRCROOT% when
 * the file lies in the repository, an absolute file: URI otherwise. NULL
 * when the frame has no source line. */
static json_t *frame_location(const lt_frame *fr, const char *repo, const char *msg) {
  if (fr->file == NULL || *fr->file == 0 || fr->line <= 0)
    return NULL;
  size_t n = repo ? strlen(repo) : 0;
  int inside = n && !strncmp(fr->file, repo, n) && fr->file[n] == '/';
  char *enc = uri_encode(inside ? fr->file + n + 1 : fr->file);
  if (enc == NULL)
    return NULL;
  json_t *art = inside ? json_pack("{s:s, s:s}", "uri", enc, "uriBaseId", "%SRCROOT%")
                       : json_pack("{s:s+}", "uri", "file://", enc);
  lt_free(enc);
  json_t *loc = json_pack("{s:{s:o, s:{s:i}}}", "physicalLocation", "artifactLocation", art,
                          "region", "startLine", fr->line);
  if (loc && fr->function && *fr->function)
    json_object_set_new(loc, "logicalLocations",
                        json_pack("[{s:s, s:s}]", "name", fr->function, "kind", "function"));
  if (loc && msg)
    json_object_set_new(loc, "message", text(msg));
  return loc;
}

/* codeFlows: one thread flow per stack of the finding (allocated, freed,
 * accessed, ...), each the stack's driver frames innermost first, so a
 * viewer steps through the driver's code that explains the result. NULL when
 * no stack has a driver frame with a source line. */
static json_t *code_flows(const lt_finding *f, const char *repo) {
  json_t *flows = json_array();
  lt_frame fr[LT_FRAMES_MAX];
  for (int i = 0; flows && i < f->n_stacks; i++) {
    int n = lt_stack_symbolize(&f->stacks[i].stack, fr, LT_FRAMES_MAX);
    json_t *locs = json_array();
    for (int j = 0; locs && j < n; j++) {
      char msg[300];
      if (fr[j].where != LT_FRAME_DRIVER)
        continue;
      snprintf(msg, sizeof msg, "%s: %s", lt_stack_role_name(f->stacks[i].role), fr[j].function);
      json_t *l = frame_location(&fr[j], repo, msg);
      if (l)
        json_array_append_new(locs, json_pack("{s:o}", "location", l));
    }
    if (locs && json_array_size(locs))
      json_array_append_new(flows, json_pack("{s:o, s:[{s:o}]}", "message",
                                             text(lt_stack_role_title(f->stacks[i].role)),
                                             "threadFlows", "locations", locs));
    else
      json_decref(locs);
  }
  if (flows && json_array_size(flows) == 0) {
    json_decref(flows);
    return NULL;
  }
  return flows;
}

/* Points a result with a driver frame at the driver's source (the trace line
 * becomes a related location) and adds its stacks as codeFlows. */
static void locate_in_driver(json_t *r, const lt_finding *f, const char *repo, const char *uri,
                             int jsonl) {
  lt_frame fr;
  json_t *loc = lt_finding_driver_frame(f, &fr) ? frame_location(&fr, repo, NULL) : NULL;
  if (loc == NULL)
    return;
  json_t *trace_loc = json_array_get(json_object_get(r, "locations"), 0);
  json_t *rel = json_object_get(r, "relatedLocations");
  if (trace_loc && rel) {
    json_t *t = json_deep_copy(trace_loc);
    json_object_set_new(t, "id", json_integer((json_int_t)json_array_size(rel) + 1));
    json_object_set_new(t, "message", text("the trace event at which it was found"));
    json_array_append_new(rel, t);
  }
  json_object_set_new(r, "locations", json_pack("[o]", loc));
  json_t *flows = code_flows(f, repo);
  if (flows)
    json_object_set_new(r, "codeFlows", flows);
}

static json_t *result(const lt_check_case *k, const lt_finding *f, const char *uri, int expected,
                      const char *repo) {
  char sig[17], handle[24], msg[400];
  const char *proc = lt__check_process(k, f->pid);
  lt_signature_hex(f->signature, sig);
  snprintf(handle, sizeof handle, "0x%llx", (unsigned long long)f->handle);
  snprintf(msg, sizeof msg, "%s (event %llu)", f->message[0] ? f->message : lt_finding_kind_name(f->kind),
           (unsigned long long)f->event);
  json_t *r = json_pack(
      "{s:s, s:i, s:s, s:o, s:[o], s:o, s:{s:s}, s:{s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:b}}",
      "ruleId", lt_finding_kind_name(f->kind), "ruleIndex", f->kind, "level",
      f->severity == LT_SEV_ERROR ? "error" : "warning", "message", text(msg), "locations",
      location(uri, lt__finding_line(f, k->jsonl), NULL), "relatedLocations",
      related(f, uri, k->jsonl), "partialFingerprints", "lifetraceSignature/v2", sig,
      "properties", "event", (json_int_t)f->event, "layer", lt_layer_name(f->layer), "object",
      lt_object_name(f->object), "handle", handle, "pid", (json_int_t)f->pid, "ddi", f->ddi,
      "site", f->site, "policy", lt_policy_name(k->policy), "expected", expected);
  if (r && proc)
    json_object_set_new(json_object_get(r, "properties"), "process", json_string(proc));
  if (r && f->has_origin)
    json_object_set_new(json_object_get(r, "properties"), "origin",
                        json_pack("{s:I, s:I}", "record", (json_int_t)f->origin_record, "line",
                                  (json_int_t)f->origin_line));
  if (r)
    locate_in_driver(r, f, repo, uri, k->jsonl);
  if (r && (f->kind == LT_F_LEAK || f->kind == LT_F_MINIPORT_LEAK) && f->bytes)
    json_object_set_new(json_object_get(r, "properties"), "bytes", json_integer((json_int_t)f->bytes));
  return r;
}

/* Whether finding idx of k is one its .expected.json names (a case that
 * could not be compared expects nothing). */
static int is_expected(const lt_check_case *k, size_t idx) {
  if (k->outcome == LT_CHECK_ERROR)
    return 0;
  for (size_t i = 0; i < k->n_unexpected; i++)
    if (k->unexpected[i] == idx)
      return 0;
  return 1;
}

/* An expected finding is carried as a suppressed result: SARIF viewers and
 * GitHub code scanning open no alert for it, and the log still shows what the
 * gate saw and why it passed. */
static int suppress(json_t *r, const lt_check_case *k) {
  const char *path = k->expected_path, *base = path ? strrchr(path, '/') : NULL;
  char why[600];
  if (path)
    snprintf(why, sizeof why, "expected by %s", base ? base + 1 : path);
  else
    snprintf(why, sizeof why, "expected by %s.expected.json", k->name ? k->name : "the corpus");
  json_t *s = json_pack("[{s:s, s:s, s:s}]", "kind", "external", "status", "accepted",
                        "justification", why);
  return s == NULL || json_object_set_new(r, "suppressions", s) ? LT_ENOMEM : 0;
}

static int add_results(json_t *results, const lt_check_case *k, const char *repo) {
  char *uri = uri_encode(k->uri);
  int err = uri ? 0 : LT_ENOMEM;
  for (size_t i = 0; err == 0 && i < k->got.n; i++) {
    int expected = is_expected(k, i);
    json_t *r = result(k, &k->got.items[i], uri, expected, repo);
    if (r && expected && suppress(r, k)) {
      json_decref(r);
      r = NULL;
    }
    if (r == NULL || json_array_append_new(results, r))
      err = LT_ENOMEM;
  }
  lt_free(uri);
  return err;
}

/* Writes a SARIF 2.1.0 log of every finding of the check, with locations
 * relative to the repository, for code-scanning views; see
 * lifetrace/sarif.h. */
int lt__sarif_write(FILE *out, const lt_check *c, const char *automation_id) {
  json_t *results = json_array(), *log = NULL;
  int err = results ? 0 : LT_ENOMEM;
  for (size_t i = 0; err == 0 && i < c->n; i++)
    err = add_results(results, &c->cases[i], c->repo);
  if (err) {
    json_decref(results);
    return err;
  }
  char root[4200], *repo = uri_encode(c->repo);
  if (repo == NULL) {
    json_decref(results);
    return LT_ENOMEM;
  }
  snprintf(root, sizeof root, "file://%s/", repo);
  lt_free(repo);
  log = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:{s:{s:s}}, s:o, "
                  "s:[{s:b, s:i}], s:s}]}",
                  "$schema", SARIF_SCHEMA, "version", "2.1.0", "runs", "tool", "driver", "name",
                  "lifetrace", "version", LT_VERSION, "semanticVersion", LT_VERSION, "rules", rules(), "originalUriBaseIds",
                  "%SRCROOT%", "uri", root, "results", results, "invocations",
                  "executionSuccessful", 1, "exitCode", c->failed || c->errors ? 1 : 0,
                  "columnKind", "unicodeCodePoints");
  if (log == NULL)
    return LT_ENOMEM;
  if (automation_id)
    json_object_set_new(json_array_get(json_object_get(log, "runs"), 0), "automationDetails",
                        json_pack("{s:s}", "id", automation_id));
  err = json_dumpf(log, out, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 ? 0 : LT_EIO;
  fputc('\n', out);
  json_decref(log);
  return err;
}
