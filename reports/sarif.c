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

static json_t *result(const lt_check_case *k, const lt_finding *f, const char *uri, int expected) {
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
      related(f, uri, k->jsonl), "partialFingerprints", "lifetraceSignature/v1", sig,
      "properties", "event", (json_int_t)f->event, "layer", lt_layer_name(f->layer), "object",
      lt_object_name(f->object), "handle", handle, "pid", (json_int_t)f->pid, "ddi", f->ddi,
      "site", f->site, "policy", lt_policy_name(k->policy), "expected", expected);
  if (r && proc)
    json_object_set_new(json_object_get(r, "properties"), "process", json_string(proc));
  if (r && f->has_origin)
    json_object_set_new(json_object_get(r, "properties"), "origin",
                        json_pack("{s:I, s:I}", "record", (json_int_t)f->origin_record, "line",
                                  (json_int_t)f->origin_line));
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

static int add_results(json_t *results, const lt_check_case *k) {
  char *uri = uri_encode(k->uri);
  int err = uri ? 0 : LT_ENOMEM;
  for (size_t i = 0; err == 0 && i < k->got.n; i++) {
    int expected = is_expected(k, i);
    json_t *r = result(k, &k->got.items[i], uri, expected);
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
    err = add_results(results, &c->cases[i]);
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
