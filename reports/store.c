/* The results store: opening, schema migrations, runs and stats.
 * Ingest of traces and findings is in store_ingest.c, queries and triage
 * marks in store_query.c. See lifetrace/store.h for the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"
#include "store_priv.h"

#define BUSY_TIMEOUT_MS 60000

/* A new database gets the whole schema at once: schemas/results.sql, compiled
 * in at build time (lt__store_schema). An older one is brought up to date by
 * the migrations: migrations[i] takes schema version i to i+1 (index 0, a
 * database with no schema, is never used: it gets results.sql). */
static const char *const migrations[LT_STORE_SCHEMA_VERSION] = {
    NULL,
    /* 1 -> 2: the driver's identity with each run; expected findings (a
     * corpus's .expected.json names them) get their own status, which needs
     * the findings table rebuilt for its CHECK (foreign keys are off during
     * migrations, lt_store_open). */
    "ALTER TABLE runs ADD COLUMN driver_sha256 TEXT;"
    "ALTER TABLE runs ADD COLUMN driver_version TEXT;"
    "ALTER TABLE occurrences ADD COLUMN expected INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE findings_v1 AS SELECT * FROM findings;"
    "DROP TABLE findings;"
    "CREATE TABLE findings ("
    "  signature TEXT PRIMARY KEY, kind TEXT NOT NULL, layer TEXT NOT NULL,"
    "  object TEXT NOT NULL, severity TEXT NOT NULL, ddi TEXT NOT NULL DEFAULT '',"
    "  site TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'open'"
    "    CHECK (status IN ('open', 'fixed', 'ignored', 'expected')),"
    "  status_at INTEGER, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  first_run INTEGER NOT NULL REFERENCES runs (id),"
    "  last_run INTEGER NOT NULL REFERENCES runs (id), count INTEGER NOT NULL DEFAULT 0,"
    "  repro_path TEXT, repro_size INTEGER, repro_command TEXT);"
    "INSERT INTO findings SELECT * FROM findings_v1;"
    "DROP TABLE findings_v1;",
    /* 2 -> 3: each finding's stacks (issue 14). Findings recorded before
     * keep their old signatures (kind, layer, object, DDI, site): there are
     * no stacks to sign them anew, so new occurrences of the same bug get a
     * new row under the frame-based signature. */
    "CREATE TABLE frames ("
    "  signature TEXT NOT NULL REFERENCES findings (signature),"
    "  stack INTEGER NOT NULL, role TEXT NOT NULL, depth INTEGER NOT NULL,"
    "  function TEXT NOT NULL DEFAULT '', file TEXT NOT NULL DEFAULT '',"
    "  line INTEGER NOT NULL DEFAULT 0, module TEXT NOT NULL DEFAULT '',"
    "  offset INTEGER NOT NULL DEFAULT 0, in_driver INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (signature, stack, depth));",
};

void (*lt__store_hook)(const char *point, uint64_t n);

/* The current time in Unix ms (wall clock), as the store records times. */
int64_t lt__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The store's SQLite connection, for readers in this layer; see
 * store_internal.h. */
sqlite3 *lt__store_db(lt_store *s) {
  LT_STORE_CHECK(s);
  return s->db;
}

/* The message of the store's last error ("no store" for NULL), valid until
 * the next call on it; see lifetrace/store.h. */
const char *lt_store_errmsg(const lt_store *s) { return s ? s->msg : "no store"; }

/* Records SQLite's message for rc and maps it to an LT_E* code. */
int lt__store_fail(lt_store *s, int rc) {
  snprintf(s->msg, sizeof s->msg, "%s", sqlite3_errmsg(s->db));
  if (rc == SQLITE_NOMEM)
    return LT_ENOMEM;
  if (rc == SQLITE_NOTADB)
    return LT_EFORMAT;
  if (rc == SQLITE_CORRUPT)
    return LT_ECORRUPT;
  return LT_EIO;
}

/* Runs SQL without results; see store_priv.h for the errors. */
int lt__store_exec(lt_store *s, const char *sql) {
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : lt__store_fail(s, rc);
}

/* Prepares sql into *st, which the caller finalizes; see store_priv.h. */
int lt__store_prepare(lt_store *s, sqlite3_stmt **st, const char *sql) {
  int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
  return rc == SQLITE_OK ? 0 : lt__store_fail(s, rc);
}

/* Steps a statement that returns no row (or whose rows are ignored). */
int lt__store_step_done(lt_store *s, sqlite3_stmt *st) {
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    ;
  return rc == SQLITE_DONE ? 0 : lt__store_fail(s, rc);
}

/* Binds v as text (copied), or NULL when v is NULL; see store_priv.h. */
void lt__bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

/* Every write is BEGIN IMMEDIATE: the write lock is taken up front, where the
 * busy timeout applies, instead of on the first write, where a WAL reader
 * that must upgrade gets SQLITE_BUSY at once. */
int lt__store_begin(lt_store *s) { return lt__store_exec(s, "BEGIN IMMEDIATE"); }

/* Commits the transaction lt__store_begin opened; see store_priv.h. */
int lt__store_commit(lt_store *s) { return lt__store_exec(s, "COMMIT"); }

/* Rolls back the open transaction, if any, so an error path leaves the store
 * as it was; see store_priv.h. */
void lt__store_rollback(lt_store *s) {
  if (!sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int read_version(lt_store *s, int *version) {
  sqlite3_stmt *st = NULL;
  int rc, err = lt__store_prepare(s, &st,
                                  "SELECT (SELECT count(*) FROM sqlite_master WHERE name = "
                                  "'schema_version'), (SELECT count(*) FROM sqlite_master)");
  if (err)
    return err;
  rc = sqlite3_step(st);
  int has_table = sqlite3_column_int(st, 0), n_objects = sqlite3_column_int(st, 1);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW)
    return lt__store_fail(s, rc);
  *version = 0;
  if (!has_table) {
    if (n_objects == 0)
      return 0;
    snprintf(s->msg, sizeof s->msg, "not a lifetrace results database (no schema_version)");
    return LT_EFORMAT;
  }
  if ((err = lt__store_prepare(s, &st, "SELECT max(version) FROM schema_version")))
    return err;
  if ((rc = sqlite3_step(st)) == SQLITE_ROW)
    *version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : lt__store_fail(s, rc);
}

/* Brings the schema to LT_STORE_SCHEMA_VERSION in one transaction, so two
 * processes creating the same new file at once do it exactly once. */
static int migrate(lt_store *s) {
  int version = 0, err = lt__store_begin(s);
  if (err)
    return err;
  if ((err = read_version(s, &version)))
    goto out;
  if (version > LT_STORE_SCHEMA_VERSION) {
    snprintf(s->msg, sizeof s->msg, "database schema version %d is newer than this build (%d)",
             version, LT_STORE_SCHEMA_VERSION);
    err = LT_EFORMAT;
    goto out;
  }
  for (int v = version; v < LT_STORE_SCHEMA_VERSION; v++) {
    char sql[96];
    if ((err = lt__store_exec(s, v == 0 ? lt__store_schema : migrations[v])))
      goto out;
    if (v == 0)
      v = LT_STORE_SCHEMA_VERSION - 1; /* results.sql is the latest schema */
    snprintf(sql, sizeof sql, "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
             v + 1);
    if ((err = lt__store_exec(s, sql)))
      goto out;
  }
  s->version = LT_STORE_SCHEMA_VERSION;
  err = lt__store_commit(s);
out:
  if (err)
    lt__store_rollback(s);
  return err;
}

/* Switching to WAL needs a moment of exclusive access; several processes
 * opening a new file at once may see SQLITE_BUSY here, so retry. */
static int set_wal(lt_store *s) {
  int err = 0;
  for (int tries = 0; tries < 600; tries++) {
    err = lt__store_exec(s, "PRAGMA journal_mode=WAL");
    if (err == 0 || sqlite3_errcode(s->db) != SQLITE_BUSY)
      return err;
    usleep(50000);
  }
  return err;
}

/* Opens or creates the results database at path, creating or upgrading its
 * schema; see lifetrace/store.h for the errors and ownership. */
int lt_store_open(lt_store **out, const char *path, char *err_out, size_t errlen) {
  lt_store *s = lt_calloc(1, sizeof *s);
  int err = LT_ENOMEM, rc;
  *out = NULL;
  if (s == NULL)
    goto out;
  rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    err = s->db ? lt__store_fail(s, rc) : LT_ENOMEM;
    goto out;
  }
  sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(s->db, 0);
  /* Migrations run before foreign keys are on: a table rebuild drops the old
   * table, which foreign keys would refuse (sqlite.org/lang_altertable.html). */
  if ((err = set_wal(s)) || (err = lt__store_exec(s, "PRAGMA synchronous=NORMAL")) ||
      (err = migrate(s)) || (err = lt__store_exec(s, "PRAGMA foreign_keys=ON")))
    goto out;
  s->magic = LT_STORE_MAGIC;
  *out = s;
  s = NULL;
out:
  if (s && err_out)
    snprintf(err_out, errlen, "%s: %s", path, s->msg[0] ? s->msg : lt_strerror(err));
  else if (err && err_out)
    snprintf(err_out, errlen, "%s: %s", path, lt_strerror(err));
  lt_store_close(s);
  return err;
}

/* Closes the store; NULL is a no-op. See lifetrace/store.h. */
void lt_store_close(lt_store *s) {
  if (s == NULL)
    return;
  sqlite3_close_v2(s->db);
  s->magic = 0;
  lt_free(s);
}

/* The schema version of the open database; see lifetrace/store.h. */
int lt_store_schema_version(lt_store *s) {
  LT_STORE_CHECK(s);
  return s->version;
}

static void make_uuid(char out[37]) {
  unsigned char b[16];
  FILE *f = fopen("/dev/urandom", "rb");
  if (f == NULL || fread(b, 1, sizeof b, f) != sizeof b) {
    uint64_t x = (uint64_t)lt__now_ms() ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)out;
    for (int i = 0; i < 16; i++, x = x * 6364136223846793005u + 1442695040888963407u)
      b[i] = (unsigned char)(x >> 56);
  }
  if (f)
    fclose(f);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
}

static int find_run(lt_store *s, const char *uuid, int64_t *run) {
  sqlite3_stmt *st = NULL;
  int rc, err = lt__store_prepare(s, &st, "SELECT id FROM runs WHERE uuid = ?");
  if (err)
    return err;
  lt__bind_text(st, 1, uuid);
  rc = sqlite3_step(st);
  *run = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : lt__store_fail(s, rc);
}

static int insert_run(lt_store *s, const lt_store_run_info *ri, const char *uuid) {
  char host[256] = "";
  sqlite3_stmt *st = NULL;
  int err = lt__store_prepare(
      s, &st,
      "INSERT INTO runs (uuid, kind, command, tool_version, seed, driver, policy, engine, host, "
      "started_at, driver_sha256, driver_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (err)
    return err;
  if (ri->host == NULL && gethostname(host, sizeof host - 1) != 0)
    host[0] = 0;
  lt__bind_text(st, 1, uuid);
  lt__bind_text(st, 2, lt_run_kind_name(ri->kind));
  lt__bind_text(st, 3, ri->command);
  lt__bind_text(st, 4, ri->tool_version ? ri->tool_version : LT_VERSION);
  if (ri->has_seed)
    sqlite3_bind_int64(st, 5, (int64_t)ri->seed);
  lt__bind_text(st, 6, ri->driver);
  lt__bind_text(st, 7, ri->policy);
  lt__bind_text(st, 8, ri->engine);
  lt__bind_text(st, 9, ri->host ? ri->host : host);
  sqlite3_bind_int64(st, 10, ri->started_at ? ri->started_at : lt__now_ms());
  lt__bind_text(st, 11, ri->driver_sha256);
  lt__bind_text(st, 12, ri->driver_version);
  err = lt__store_step_done(s, st);
  sqlite3_finalize(st);
  return err;
}

/* Starts a run row (with a new uuid unless ri gives one) and returns its id
 * in *run; a uuid already stored returns that run, so re-ingesting is
 * idempotent. LT_EINVAL for an unknown kind or empty uuid. See
 * lifetrace/store.h. */
int lt_store_run_begin(lt_store *s, const lt_store_run_info *ri, int64_t *run) {
  LT_STORE_CHECK(s);
  char uuid[37];
  int err;
  *run = 0;
  if (lt_run_kind_name(ri->kind) == NULL || (ri->uuid && !ri->uuid[0]))
    return LT_EINVAL;
  if (ri->uuid)
    snprintf(uuid, sizeof uuid, "%s", ri->uuid);
  else
    make_uuid(uuid);
  if ((err = lt__store_begin(s)))
    return err;
  if ((err = find_run(s, uuid, run)) == 0 && *run == 0 && (err = insert_run(s, ri, uuid)) == 0)
    *run = sqlite3_last_insert_rowid(s->db);
  if (err == 0)
    err = lt__store_commit(s);
  if (err) {
    lt__store_rollback(s);
    *run = 0;
  }
  return err;
}

/* Ends a run with its exit code at ended_at (0: now); a run already ended is
 * left alone. See lifetrace/store.h. */
int lt_store_run_end_at(lt_store *s, int64_t run, int exit_code, int64_t ended_at) {
  LT_STORE_CHECK(s);
  sqlite3_stmt *st = NULL;
  int err = lt__store_prepare(
      s, &st, "UPDATE runs SET ended_at = ?, exit_code = ? WHERE id = ? AND ended_at IS NULL");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, ended_at ? ended_at : lt__now_ms());
  sqlite3_bind_int(st, 2, exit_code);
  sqlite3_bind_int64(st, 3, run);
  err = lt__store_step_done(s, st);
  sqlite3_finalize(st);
  return err;
}

/* Ends a run now; see lt_store_run_end_at and lifetrace/store.h. */
int lt_store_run_end(lt_store *s, int64_t run, int exit_code) {
  return lt_store_run_end_at(s, run, exit_code, 0);
}

/* Copies the uuid of run into buf; LT_ENOENT for an unknown run. See
 * lifetrace/store.h. */
int lt_store_run_uuid(lt_store *s, int64_t run, char buf[37]) {
  LT_STORE_CHECK(s);
  sqlite3_stmt *st = NULL;
  int rc, err = lt__store_prepare(s, &st, "SELECT uuid FROM runs WHERE id = ?");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, run);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    snprintf(buf, 37, "%s", (const char *)sqlite3_column_text(st, 0));
  else
    err = rc == SQLITE_DONE ? LT_ENOENT : lt__store_fail(s, rc);
  sqlite3_finalize(st);
  return err;
}

/* Adds one stats sample to a run still open (idempotent per time); see
 * lifetrace/store.h. */
int lt_store_add_stats(lt_store *s, int64_t run, const lt_store_stats *x) {
  LT_STORE_CHECK(s);
  sqlite3_stmt *st = NULL;
  int err = lt__store_prepare(
      s, &st,
      "INSERT OR IGNORE INTO stats (run_id, t, execs, exec_per_sec, corpus_size, coverage, "
      "features, rss_mb, crashes, timeouts) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 "
      "WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?1 AND ended_at IS NULL)");
  if (err)
    return err;
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_int64(st, 2, x->t ? x->t : lt__now_ms());
  sqlite3_bind_int64(st, 3, (int64_t)x->execs);
  sqlite3_bind_double(st, 4, x->exec_per_sec);
  sqlite3_bind_int64(st, 5, (int64_t)x->corpus_size);
  sqlite3_bind_int64(st, 6, (int64_t)x->coverage);
  sqlite3_bind_int64(st, 7, (int64_t)x->features);
  sqlite3_bind_double(st, 8, x->rss_mb);
  sqlite3_bind_int64(st, 9, (int64_t)x->crashes);
  sqlite3_bind_int64(st, 10, (int64_t)x->timeouts);
  err = lt__store_step_done(s, st);
  sqlite3_finalize(st);
  return err;
}

/* Shell-quotes one word into b (single quotes unless it is plain). */
static void quote_word(lt__buf *b, const char *w) {
  int plain = *w != 0;
  for (const char *p = w; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *p))
      plain = 0;
  if (plain) {
    lt__buf_puts(b, w);
    return;
  }
  lt__buf_puts(b, "'");
  for (const char *p = w; *p; p++)
    lt__buf_puts(b, *p == '\'' ? "'\\''" : (char[]){*p, 0});
  lt__buf_puts(b, "'");
}

/* Builds the command that replays a trace as its finding was made; see
 * lifetrace/store.h. */
char *lt_store_repro_command(const lt_repro *r) {
  char *argv[10] = {"lifetrace", "replay", "--policy", (char *)(r->policy ? r->policy : "audit")};
  int argc = 4;
  if (r->special_pool)
    argv[argc++] = "--special-pool";
  if (r->driver && strchr(r->driver, '/')) { /* a --driver lib.so, not the linked one */
    argv[argc++] = "--driver";
    argv[argc++] = (char *)r->driver;
  }
  if (r->bugs && *r->bugs) {
    argv[argc++] = "--bugs";
    argv[argc++] = (char *)r->bugs;
  }
  argv[argc++] = (char *)r->path;
  return lt_store_format_command(argc, argv);
}

/* Formats argv as one shell-quoted command line the caller frees with
 * lt_free; NULL when out of memory. See lifetrace/store.h. */
char *lt_store_format_command(int argc, char *const *argv) {
  lt__buf b = {0};
  for (int i = 0; i < argc; i++) {
    if (i)
      lt__buf_puts(&b, " ");
    quote_word(&b, argv[i]);
  }
  if (b.err || b.s == NULL) {
    lt_free(b.s);
    return b.err ? NULL : lt_strdup("");
  }
  return b.s;
}
