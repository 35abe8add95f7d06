/* The results store: recording a replayed trace and its findings (one
 * transaction per trace, idempotent per (run, path)) and reproducers. */
#include <string.h>

#include "store_internal.h"
#include "sha256.h"
#include "store_priv.h"

typedef struct ingest {
  lt_store *s;
  int64_t run, trace_id, seen_at;
  const lt_store_trace *t;
  char sha[65];
  int64_t size; /* -1 when the file could not be read */
  char *repro_cmd;
  sqlite3_stmt *upsert, *occ, *frame, *has_frames;
} ingest;

/* Looks the trace up in this run: *id is its row (0 when it is not there)
 * and *skip is set when it is there or the run has ended — an ended run is
 * final, so re-ingesting it changes nothing. */
static int find_trace(ingest *g, int64_t *id, int *skip) {
  sqlite3_stmt *st = NULL;
  int rc, err = lt__store_prepare(
      g->s, &st,
      "SELECT ended_at IS NOT NULL, (SELECT id FROM traces WHERE run_id = ?1 AND path = ?2) "
      "FROM runs WHERE id = ?1");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, g->run);
  lt__bind_text(st, 2, g->t->path);
  rc = sqlite3_step(st);
  *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
  *skip = rc == SQLITE_ROW && (sqlite3_column_int(st, 0) || *id);
  sqlite3_finalize(st);
  if (rc == SQLITE_DONE) {
    snprintf(g->s->msg, sizeof g->s->msg, "no run with id %lld", (long long)g->run);
    return LT_ENOENT;
  }
  return rc == SQLITE_ROW ? 0 : lt__store_fail(g->s, rc);
}

/* The value of option opt ("--bugs") in a recorded command line (as
 * lt_store_format_command quotes it), into buf; "" when absent. */
static const char *command_option(const char *cmd, const char *opt, char *buf, size_t len) {
  const char *p = cmd ? strstr(cmd, opt) : NULL;
  buf[0] = 0;
  if (p == NULL || (p[strlen(opt)] != ' ' && p[strlen(opt)] != '='))
    return buf;
  p += strlen(opt) + 1;
  if (*p == '\'')
    snprintf(buf, len, "%.*s", (int)strcspn(p + 1, "'"), p + 1);
  else
    snprintf(buf, len, "%.*s", (int)strcspn(p, " "), p);
  return buf;
}

/* The default reproducer command: the run's policy, driver, seeded bugs and
 * special pool (from its command line) on this file. */
static int default_repro(ingest *g) {
  sqlite3_stmt *st = NULL;
  char bugs[256];
  int rc, err = lt__store_prepare(g->s, &st, "SELECT policy, driver, command FROM runs WHERE id = ?");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, g->run);
  if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
    sqlite3_finalize(st);
    snprintf(g->s->msg, sizeof g->s->msg, "no run with id %lld", (long long)g->run);
    return rc == SQLITE_DONE ? LT_ENOENT : lt__store_fail(g->s, rc);
  }
  const char *cmdline = (const char *)sqlite3_column_text(st, 2);
  command_option(cmdline, " --bugs", bugs, sizeof bugs);
  lt_repro rp = {(const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                 bugs[0] ? bugs : NULL, cmdline && strstr(cmdline, " --special-pool") != NULL,
                 g->t->path};
  char *cmd = lt_store_repro_command(&rp);
  sqlite3_finalize(st);
  if (cmd == NULL)
    return LT_ENOMEM;
  g->repro_cmd = cmd;
  return 0;
}

static int insert_trace(ingest *g, const lt_findings *fs) {
  sqlite3_stmt *st = NULL;
  int err = lt__store_prepare(g->s, &st,
                              "INSERT INTO traces (run_id, path, sha256, size, n_events, verdict, "
                              "diag, n_findings, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, g->run);
  lt__bind_text(st, 2, g->t->path);
  lt__bind_text(st, 3, g->sha);
  sqlite3_bind_int64(st, 4, g->size);
  sqlite3_bind_int64(st, 5, (int64_t)g->t->n_events);
  lt__bind_text(st, 6, lt_verdict_name(g->t->verdict));
  lt__bind_text(st, 7, g->t->diag);
  sqlite3_bind_int64(st, 8, fs ? (int64_t)fs->total : 0);
  sqlite3_bind_int64(st, 9, g->seen_at);
  err = lt__store_step_done(g->s, st);
  sqlite3_finalize(st);
  g->trace_id = sqlite3_last_insert_rowid(g->s->db);
  return err;
}

/* A finding seen again: its count raised by ?14 (one occurrence, or the
 * findings of that signature a capped list did not keep), seen times widened,
 * the worse severity kept, a fixed finding seen after its fix reopened (or
 * 'expected' when a corpus expects it: ?15), an expected one opened by an
 * occurrence nothing expects, and the reproducer replaced by a smaller file. */
static const char upsert_sql[] =
    "INSERT INTO findings (signature, kind, layer, object, severity, ddi, site, message, "
    "first_seen, last_seen, first_run, last_run, count, repro_path, repro_size, repro_command, "
    "status) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?10, ?14, ?11, ?12, ?13, "
    "  CASE WHEN ?15 THEN 'expected' ELSE 'open' END) "
    "ON CONFLICT (signature) DO UPDATE SET count = count + excluded.count, "
    "first_run = CASE WHEN excluded.first_seen < first_seen THEN excluded.first_run "
    "  ELSE first_run END, "
    "first_seen = min(first_seen, excluded.first_seen), "
    "last_run = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_run "
    "  ELSE last_run END, "
    "last_seen = max(last_seen, excluded.last_seen), "
    "severity = CASE WHEN excluded.severity = 'error' THEN 'error' ELSE severity END, "
    "status = CASE WHEN status = 'fixed' AND excluded.last_seen > coalesce(status_at, 0) "
    "  THEN excluded.status WHEN status = 'expected' THEN excluded.status ELSE status END, "
    "status_at = CASE WHEN status = 'fixed' AND excluded.last_seen > coalesce(status_at, 0) "
    "  THEN excluded.last_seen WHEN status = 'expected' AND excluded.status = 'open' "
    "  THEN excluded.last_seen ELSE status_at END, "
    "repro_command = CASE WHEN excluded.repro_size >= 0 AND (repro_size IS NULL OR repro_size < 0 "
    "  OR excluded.repro_size < repro_size) THEN excluded.repro_command ELSE repro_command END, "
    "repro_path = CASE WHEN excluded.repro_size >= 0 AND (repro_size IS NULL OR repro_size < 0 "
    "  OR excluded.repro_size < repro_size) THEN excluded.repro_path ELSE repro_path END, "
    "repro_size = CASE WHEN excluded.repro_size >= 0 AND (repro_size IS NULL OR repro_size < 0 "
    "  OR excluded.repro_size < repro_size) THEN excluded.repro_size ELSE repro_size END";

static int upsert_finding(ingest *g, const lt_finding *f, const char *sig, uint64_t count,
                          int expected) {
  sqlite3_stmt *st = g->upsert;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  lt__bind_text(st, 1, sig);
  lt__bind_text(st, 2, lt_finding_kind_name(f->kind));
  lt__bind_text(st, 3, lt_layer_name(f->layer));
  lt__bind_text(st, 4, lt_object_name(f->object));
  lt__bind_text(st, 5, lt_severity_name(f->severity));
  lt__bind_text(st, 6, f->ddi);
  lt__bind_text(st, 7, f->site);
  lt__bind_text(st, 8, f->message);
  sqlite3_bind_int64(st, 9, g->seen_at);
  sqlite3_bind_int64(st, 10, g->run);
  lt__bind_text(st, 11, g->size >= 0 ? g->t->path : NULL);
  sqlite3_bind_int64(st, 12, g->size);
  lt__bind_text(st, 13, g->t->repro_command ? g->t->repro_command : g->repro_cmd);
  sqlite3_bind_int64(st, 14, (int64_t)count);
  sqlite3_bind_int(st, 15, expected);
  return lt__store_step_done(g->s, st);
}

static const char *process_name(const lt_header *h, uint64_t pid) {
  for (size_t i = 0; h && i < h->n_processes; i++)
    if (h->processes[i]->pid == pid)
      return h->processes[i]->name;
  return NULL;
}

/* The JSON arrays of destroy events and of the handle's history. */
static void history_json(const lt_finding *f, lt__buf *destroyed, lt__buf *hist) {
  lt__buf_puts(destroyed, "[");
  for (int i = 0; i < f->n_destroyed && i < LT_FINDING_MAX_DESTROYS; i++)
    lt__buf_printf(destroyed, "%s%llu", i ? ", " : "", (unsigned long long)f->destroyed_at[i]);
  lt__buf_puts(destroyed, "]");
  lt__buf_puts(hist, "[");
  for (int i = 0; i < f->n_history && i < LT_FINDING_MAX_HISTORY; i++) {
    const lt_history_entry *h = &f->history[i];
    const char *op = lt_op_name(h->op);
    lt__buf_printf(hist, "%s{\"event\": %llu, \"op\": \"%s\"", i ? ", " : "",
                   (unsigned long long)h->event, op ? op : "unknown");
    if (h->has_origin)
      lt__buf_printf(hist, ", \"origin\": {\"record\": %llu, \"line\": %llu}",
                     (unsigned long long)h->origin_record, (unsigned long long)h->origin_line);
    lt__buf_puts(hist, "}");
  }
  lt__buf_puts(hist, "]");
}

static int insert_occurrence(ingest *g, const lt_finding *f, const char *sig, size_t seq,
                             int expected) {
  sqlite3_stmt *st = g->occ;
  lt__buf destroyed = {0}, hist = {0};
  int err = LT_ENOMEM;
  history_json(f, &destroyed, &hist);
  if (destroyed.err || hist.err)
    goto out;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  lt__bind_text(st, 1, sig);
  sqlite3_bind_int64(st, 2, g->run);
  sqlite3_bind_int64(st, 3, g->trace_id);
  sqlite3_bind_int64(st, 4, (int64_t)seq);
  sqlite3_bind_int64(st, 5, g->seen_at);
  lt__bind_text(st, 6, lt_severity_name(f->severity));
  sqlite3_bind_int64(st, 7, (int64_t)f->event);
  if (f->has_origin) {
    sqlite3_bind_int64(st, 8, (int64_t)f->origin_record);
    sqlite3_bind_int64(st, 9, (int64_t)f->origin_line);
  }
  lt__bind_text(st, 10, lt_object_name(f->object));
  sqlite3_bind_int64(st, 11, (int64_t)f->handle);
  sqlite3_bind_int64(st, 12, (int64_t)f->pid);
  lt__bind_text(st, 13, process_name(g->t->header, f->pid));
  if (f->created_at >= 0)
    sqlite3_bind_int64(st, 14, f->created_at);
  lt__bind_text(st, 15, destroyed.s);
  lt__bind_text(st, 16, hist.s);
  sqlite3_bind_int64(st, 17, (int64_t)f->bytes);
  lt__bind_text(st, 18, f->message);
  sqlite3_bind_int(st, 19, expected);
  err = lt__store_step_done(g->s, st);
out:
  lt__buf_reset(&destroyed);
  lt__buf_reset(&hist);
  return err;
}

/* Keeps f's stacks under its signature, symbolized, once per signature
 * (the first occurrence's: the same bug has the same driver frames). */
static int insert_frames(ingest *g, const lt_finding *f, const char *sig) {
  lt_frame fr[LT_FRAMES_MAX];
  int err = 0;
  if (f->n_stacks == 0)
    return 0;
  sqlite3_reset(g->has_frames);
  lt__bind_text(g->has_frames, 1, sig);
  int rc = sqlite3_step(g->has_frames);
  if (rc == SQLITE_ROW)
    return 0; /* kept already */
  if (rc != SQLITE_DONE)
    return lt__store_fail(g->s, rc);
  for (int i = 0; err == 0 && i < f->n_stacks; i++) {
    int n = lt_stack_symbolize_shown(&f->stacks[i].stack, fr, LT_FRAMES_MAX);
    for (int d = 0; err == 0 && d < n; d++) {
      sqlite3_stmt *st = g->frame;
      sqlite3_reset(st);
      lt__bind_text(st, 1, sig);
      sqlite3_bind_int(st, 2, i);
      lt__bind_text(st, 3, lt_stack_role_name(f->stacks[i].role));
      sqlite3_bind_int(st, 4, d);
      lt__bind_text(st, 5, fr[d].function);
      lt__bind_text(st, 6, fr[d].file);
      sqlite3_bind_int(st, 7, fr[d].line);
      lt__bind_text(st, 8, fr[d].module);
      sqlite3_bind_int64(st, 9, (int64_t)fr[d].offset);
      sqlite3_bind_int(st, 10, fr[d].where == LT_FRAME_DRIVER);
      err = lt__store_step_done(g->s, st);
    }
  }
  return err;
}

static int add_findings(ingest *g, const lt_findings *fs) {
  int err = lt__store_prepare(g->s, &g->upsert, upsert_sql);
  if (err == 0)
    err = lt__store_prepare(
        g->s, &g->occ,
        "INSERT INTO occurrences (signature, run_id, trace_id, seq, seen_at, severity, event, "
        "origin_record, origin_line, object, handle, pid, process, created_at, destroyed_at, "
        "history, bytes, message, expected) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (err == 0)
    err = lt__store_prepare(g->s, &g->frame,
                            "INSERT INTO frames (signature, stack, role, depth, "
                            "function, file, line, module, offset, in_driver) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (err == 0)
    err = lt__store_prepare(g->s, &g->has_frames, "SELECT 1 FROM frames WHERE signature = ?");
  for (size_t i = 0; err == 0 && fs && i < fs->n; i++) {
    char sig[17];
    int expected = g->t->expected && g->t->expected[i];
    lt_signature_hex(fs->items[i].signature, sig);
    if ((err = upsert_finding(g, &fs->items[i], sig, 1, expected)) == 0)
      err = insert_occurrence(g, &fs->items[i], sig, i, expected);
    if (err == 0)
      err = insert_frames(g, &fs->items[i], sig);
    if (err == 0 && lt__store_hook)
      lt__store_hook("occurrence", i);
  }
  /* Past --max-findings: no occurrence rows, but the true count. */
  for (size_t i = 0; err == 0 && fs && i < fs->n_over; i++) {
    char sig[17];
    lt_signature_hex(fs->over[i].first.signature, sig);
    if ((err = upsert_finding(g, &fs->over[i].first, sig, fs->over[i].dropped, 0)) == 0)
      err = insert_frames(g, &fs->over[i].first, sig);
  }
  sqlite3_finalize(g->upsert);
  sqlite3_finalize(g->occ);
  sqlite3_finalize(g->frame);
  sqlite3_finalize(g->has_frames);
  return err;
}

/* Records one replayed trace of a run (its sha256, size and verdict) and
 * each of its findings, as an occurrence and under its signature; see
 * lifetrace/store.h. */
int lt_store_add_trace_ex(lt_store *s, int64_t run, const lt_store_trace *t,
                          const lt_findings *fs, int64_t *trace_id) {
  LT_STORE_CHECK(s);
  ingest g = {.s = s, .run = run, .t = t, .size = -1};
  uint64_t size = 0;
  int64_t existing = 0;
  int skip = 0, err;
  if (t->path == NULL || lt_verdict_name(t->verdict) == NULL)
    return LT_EINVAL;
  g.seen_at = t->seen_at ? t->seen_at : lt__now_ms();
  if (lt_sha256_file(t->path, g.sha, &size) == 0)
    g.size = (int64_t)size;
  if ((err = lt__store_begin(s)))
    return err;
  if ((err = find_trace(&g, &existing, &skip)) || skip)
    goto out;
  if ((err = default_repro(&g)) || (err = insert_trace(&g, fs)) || (err = add_findings(&g, fs)))
    goto out;
  err = lt__store_commit(s);
out:
  if (err)
    lt__store_rollback(s);
  else if (skip)
    err = lt__store_commit(s);
  if (trace_id)
    *trace_id = err ? 0 : skip ? existing : g.trace_id;
  lt_free(g.repro_cmd);
  return err;
}

/* Records a replayed trace by path with its findings; see
 * lt_store_add_trace_ex and lifetrace/store.h. */
int lt_store_add_trace(lt_store *s, int64_t run, const char *path, uint64_t n_events, int verdict,
                       const lt_findings *fs) {
  lt_store_trace t = {.path = path, .n_events = n_events, .verdict = verdict};
  return lt_store_add_trace_ex(s, run, &t, fs, NULL);
}

/* Sets a finding's reproducer file (size from the file) and command;
 * LT_ENOENT when no finding has that signature. See lifetrace/store.h. */
int lt_store_set_reproducer(lt_store *s, const char *signature, const char *path,
                            const char *command) {
  LT_STORE_CHECK(s);
  char sha[65];
  uint64_t size = 0;
  sqlite3_stmt *st = NULL;
  int have = lt_sha256_file(path, sha, &size) == 0;
  int err = lt__store_prepare(s, &st,
                              "UPDATE findings SET repro_path = ?, repro_size = ?, "
                              "repro_command = ? WHERE signature = ?");
  if (err)
    return err;
  lt__bind_text(st, 1, path);
  sqlite3_bind_int64(st, 2, have ? (int64_t)size : -1);
  lt__bind_text(st, 3, command);
  lt__bind_text(st, 4, signature);
  err = lt__store_step_done(s, st);
  sqlite3_finalize(st);
  if (err == 0 && sqlite3_changes(s->db) == 0)
    err = LT_ENOENT;
  return err;
}

/* Adds n occurrences to a finding's count without crash files, for the
 * crashes a fuzz worker counted but did not keep; see lifetrace/store.h. */
int lt_store_add_count(lt_store *s, int64_t run, const char *signature, uint64_t n) {
  LT_STORE_CHECK(s);
  sqlite3_stmt *st = NULL;
  int err = lt__store_prepare(s, &st,
                              "UPDATE findings SET count = count + ?1, last_run = max(last_run, ?2) "
                              "WHERE signature = ?3");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, (int64_t)n);
  sqlite3_bind_int64(st, 2, run);
  lt__bind_text(st, 3, signature);
  err = lt__store_step_done(s, st);
  sqlite3_finalize(st);
  if (err == 0 && sqlite3_changes(s->db) == 0)
    err = LT_ENOENT;
  return err;
}
