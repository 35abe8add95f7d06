/* The regression gate: scan a corpus, replay each trace in-process with its
 * expected policy and seeded bugs, compare findings with the expected
 * multiset of (kind, event, severity). See check.h. */
#include "lifetrace/check.h"
#include "lifetrace/jobs.h"
#include "lifetrace/replay_file.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lifetrace/replay.h"
#include "lifetrace/trace.h"

static const char *const trace_exts[] = {".jsonl", ".ltrace", ".ltrace.zst"};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n > m && !strcmp(s + n - m, suffix);
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = lt_malloc(n);
  if (p)
    snprintf(p, n, "%s%s%s", a, *a && *b ? "/" : "", b);
  return p;
}

/* The repository root: the nearest ancestor of dir holding .git, else cwd. */
static char *find_repo(const char *dir) {
  char path[PATH_MAX], probe[PATH_MAX + 8];
  struct stat st;
  if (realpath(dir, path) == NULL)
    return NULL;
  for (;;) {
    snprintf(probe, sizeof probe, "%s/.git", path);
    if (stat(probe, &st) == 0)
      return lt_strdup(path);
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
      break;
    *slash = 0;
  }
  return getcwd(path, sizeof path) ? lt_strdup(path) : NULL;
}

/* path relative to repo when it lies under it, else the absolute path. */
static char *relative_to(const char *repo, const char *path) {
  char real[PATH_MAX];
  size_t n = strlen(repo);
  if (realpath(path, real) == NULL)
    return lt_strdup(path);
  if (!strncmp(real, repo, n) && real[n] == '/')
    return lt_strdup(real + n + 1);
  return lt_strdup(real);
}

static int add_case(lt_check *c, const char *group, const char *dir, const char *file,
                    const char *ext) {
  lt_check_case *v = lt_realloc(c->cases, (c->n + 1) * sizeof *v), *k;
  if (v == NULL)
    return LT_ENOMEM;
  c->cases = v;
  k = memset(&v[c->n], 0, sizeof *k);
  size_t base = strlen(file) - strlen(ext);
  k->name = lt_malloc(base + 1);
  if (k->name == NULL)
    return LT_ENOMEM;
  c->n++;
  memcpy(k->name, file, base);
  k->name[base] = 0;
  lt_findings_init(&k->got, 0);
  k->group = lt_strdup(group);
  k->path = join(dir, file);
  char expected[PATH_MAX];
  snprintf(expected, sizeof expected, "%s.expected.json", k->name);
  k->expected_path = join(dir, expected);
  k->jsonl = !strcmp(ext, ".jsonl");
  if (!k->group || !k->path || !k->expected_path)
    return LT_ENOMEM;
  k->uri = relative_to(c->repo, k->path);
  return k->uri ? 0 : LT_ENOMEM;
}

static const char *trace_ext(const char *name) {
  const char *best = NULL;
  for (size_t i = 0; i < sizeof trace_exts / sizeof trace_exts[0]; i++)
    if (ends_with(name, trace_exts[i]) && (!best || strlen(trace_exts[i]) > strlen(best)))
      best = trace_exts[i];
  return best;
}

/* Walks dir (group = its path under the corpus root) depth first. */
static int scan_dir(lt_check *c, const char *dir, const char *group, int depth) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int err = 0;
  if (d == NULL)
    return errno == ENOENT ? LT_ENOENT : LT_EIO;
  while (err == 0 && (e = readdir(d)) != NULL) {
    struct stat st;
    char *full;
    if (e->d_name[0] == '.')
      continue;
    if ((full = join(dir, e->d_name)) == NULL) {
      err = LT_ENOMEM;
      break;
    }
    if (stat(full, &st) == 0 && S_ISDIR(st.st_mode) && depth < 8) {
      char *sub = join(group, e->d_name);
      err = sub ? scan_dir(c, full, sub, depth + 1) : LT_ENOMEM;
      lt_free(sub);
    } else if (S_ISREG(st.st_mode) && trace_ext(e->d_name)) {
      err = add_case(c, group, dir, e->d_name, trace_ext(e->d_name));
    }
    lt_free(full);
  }
  closedir(d);
  return err;
}

static int case_cmp(const void *a, const void *b) {
  const lt_check_case *x = a, *y = b;
  int r = strcmp(x->group, y->group);
  return r ? r : strcmp(x->name, y->name);
}

/* Finds the traces under dir with their expected verdicts, and the
 * repository root that SARIF paths are relative to (repo, else the nearest
 * folder above dir holding .git, else the working directory). The caller
 * frees c with lt__check_reset, also on failure. See lifetrace/check.h. */
int lt__check_scan(lt_check *c, const char *dir, const char *repo, char *msg, size_t msglen) {
  char real[PATH_MAX];
  struct stat st;
  int err;
  memset(c, 0, sizeof *c);
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(msg, msglen, "%s: %s", dir, stat(dir, &st) ? strerror(errno) : "not a directory");
    return LT_ENOENT;
  }
  c->root = lt_strdup(dir);
  c->repo = repo && realpath(repo, real) ? lt_strdup(real) : find_repo(dir);
  if (c->root == NULL || c->repo == NULL)
    return LT_ENOMEM;
  const char *slash = strrchr(dir, '/');
  const char *top = slash && slash[1] ? slash + 1 : dir;
  if ((err = scan_dir(c, dir, "", 0))) {
    snprintf(msg, msglen, "%s: %s", dir, lt_strerror(err));
    return err;
  }
  for (size_t i = 0; i < c->n; i++) /* traces right in the root: group = its name */
    if (!c->cases[i].group[0]) {
      lt_free(c->cases[i].group);
      if ((c->cases[i].group = lt_strdup(top)) == NULL)
        return LT_ENOMEM;
    }
  if (c->n == 0) {
    snprintf(msg, msglen, "%s: no traces (*.jsonl, *.ltrace) found", dir);
    return LT_ENOENT;
  }
  qsort(c->cases, c->n, sizeof *c->cases, case_cmp);
  return 0;
}

static int parse_one_expect(json_t *o, lt_expect *e, char *msg, size_t msglen, size_t i) {
  json_t *kind = json_object_get(o, "kind"), *event = json_object_get(o, "event");
  json_t *sev = json_object_get(o, "severity");
  if (!json_is_object(o) || !json_is_string(kind) || !json_is_integer(event) ||
      json_integer_value(event) < 0) {
    snprintf(msg, msglen, "findings[%zu]: needs \"kind\" (string) and \"event\" (integer >= 0)",
             i);
    return LT_EFORMAT;
  }
  e->kind = lt_finding_kind_from_name(json_string_value(kind));
  e->event = (uint64_t)json_integer_value(event);
  if (e->kind < 0) {
    snprintf(msg, msglen, "findings[%zu]: unknown kind \"%s\"", i, json_string_value(kind));
    return LT_EFORMAT;
  }
  const char *s = json_is_string(sev) ? json_string_value(sev) : sev ? "" : "error";
  if (strcmp(s, "error") && strcmp(s, "warning")) {
    snprintf(msg, msglen, "findings[%zu]: severity must be \"error\" or \"warning\"", i);
    return LT_EFORMAT;
  }
  e->severity = !strcmp(s, "error") ? LT_SEV_ERROR : LT_SEV_WARNING;
  return 0;
}

static int parse_expected_json(lt_check_case *k, json_t *root, char *msg, size_t msglen) {
  json_t *policy = json_object_get(root, "policy"), *bugs = json_object_get(root, "bugs");
  json_t *findings = json_object_get(root, "findings");
  if (!json_is_object(root) || !json_is_array(findings)) {
    snprintf(msg, msglen, "needs an object with a \"findings\" array");
    return LT_EFORMAT;
  }
  k->policy = !policy ? LT_POLICY_AUDIT
              : json_is_string(policy) ? lt_policy_from_name(json_string_value(policy)) : -1;
  if (k->policy < 0) {
    snprintf(msg, msglen, "\"policy\" must be \"audit\" or \"kernel\"");
    return LT_EFORMAT;
  }
  if (bugs && !json_is_string(bugs)) {
    snprintf(msg, msglen, "\"bugs\" must be a string");
    return LT_EFORMAT;
  }
  if (bugs && json_string_length(bugs) && !(k->bugs = lt_strdup(json_string_value(bugs))))
    return LT_ENOMEM;
  k->n_expected = json_array_size(findings);
  k->expected = lt_calloc(k->n_expected ? k->n_expected : 1, sizeof *k->expected);
  if (k->expected == NULL)
    return LT_ENOMEM;
  for (size_t i = 0; i < k->n_expected; i++) {
    int err = parse_one_expect(json_array_get(findings, i), &k->expected[i], msg, msglen, i);
    if (err)
      return err;
  }
  return 0;
}

/* Reads an expected-verdict JSON file (policy, seeded bugs, findings) into
 * k; LT_ENOENT when it is missing, LT_ECORRUPT with the file, line and
 * reason in msg when it is not valid. See lifetrace/check.h. */
int lt__check_parse_expected(lt_check_case *k, const char *path, char *msg, size_t msglen) {
  json_error_t jerr;
  char inner[512] = "";
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(msg, msglen, "no expected verdict: %s (see docs/results-and-reports.md)", path);
    return LT_ENOENT;
  }
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    if (jerr.line <= 0)
      snprintf(msg, msglen, "%s: %s", path, jerr.text);
    else
      snprintf(msg, msglen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    return LT_EFORMAT;
  }
  int err = parse_expected_json(k, root, inner, sizeof inner);
  json_decref(root);
  if (err)
    snprintf(msg, msglen, "%s: %s", path, inner[0] ? inner : lt_strerror(err));
  return err;
}

static int expect_cmp(const void *a, const void *b) {
  const lt_expect *x = a, *y = b;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  if (x->event != y->event)
    return x->event < y->event ? -1 : 1;
  return (x->severity > y->severity) - (x->severity < y->severity);
}

typedef struct got_ref {
  lt_expect e;
  size_t index;
} got_ref;

/* Matches the findings a case got against those expected by (kind, event,
 * severity), filling its missing and unexpected lists and its outcome;
 * LT_ENOMEM. See lifetrace/check.h. */
int lt__check_compare(lt_check_case *k) {
  size_t n = k->got.n, i = 0, j = 0;
  got_ref *got = lt_calloc(n ? n : 1, sizeof *got);
  k->missing = lt_calloc(k->n_expected ? k->n_expected : 1, sizeof *k->missing);
  k->unexpected = lt_calloc(n ? n : 1, sizeof *k->unexpected);
  if (!got || !k->missing || !k->unexpected) {
    lt_free(got);
    return LT_ENOMEM;
  }
  for (size_t g = 0; g < n; g++) {
    const lt_finding *f = &k->got.items[g];
    got[g] = (got_ref){{f->kind, f->event, f->severity}, g};
  }
  qsort(got, n, sizeof *got, expect_cmp); /* e is the first member */
  qsort(k->expected, k->n_expected, sizeof *k->expected, expect_cmp);
  while (i < k->n_expected || j < n) {
    int c = i == k->n_expected ? 1 : j == n ? -1 : expect_cmp(&k->expected[i], &got[j].e);
    if (c == 0)
      i++, j++;
    else if (c < 0)
      k->missing[k->n_missing++] = k->expected[i++];
    else
      k->unexpected[k->n_unexpected++] = got[j++].index;
  }
  lt_free(got);
  if (k->got.total > k->got.n) { /* details were dropped: cannot be an exact match */
    snprintf(k->diag, sizeof k->diag, "%llu findings, only %zu kept",
             (unsigned long long)k->got.total, k->got.n);
    k->outcome = LT_CHECK_FAIL;
    return 0;
  }
  k->outcome = k->n_missing || k->n_unexpected ? LT_CHECK_FAIL : LT_CHECK_PASS;
  return 0;
}

/* The name of process pid in the case's trace header, or NULL; see
 * lifetrace/check.h. */
const char *lt__check_process(const lt_check_case *k, uint64_t pid) {
  for (size_t i = 0; i < k->n_procs; i++)
    if (k->procs[i].pid == pid)
      return k->procs[i].name;
  return NULL;
}

static int copy_processes(lt_check_case *k, const lt_header *h) {
  if (h->n_processes == 0)
    return 0;
  k->procs = lt_calloc(h->n_processes, sizeof *k->procs);
  if (k->procs == NULL)
    return LT_ENOMEM;
  for (size_t i = 0; i < h->n_processes; i++, k->n_procs++) {
    k->procs[i].pid = h->processes[i]->pid;
    if ((k->procs[i].name = lt_strdup(h->processes[i]->name ? h->processes[i]->name : "")) ==
        NULL)
      return LT_ENOMEM;
  }
  return 0;
}

/* Replays one trace (lt_replay_file, the one replay loop); read errors and
 * engine errors become the case's diag. */
static int replay_case(lt_check_case *k, const LT_MINIPORT *mp, int special_pool) {
  lt_replay_file_result res;
  lt_replay_opts ro = {.policy = k->policy, .miniport = mp, .max_findings = 100000,
                       .special_pool = special_pool};
  int err = lt_replay_file(&res, k->path, 0, &ro, NULL, NULL);
  if (res.reader && err == 0)
    err = copy_processes(k, lt_reader_header(res.reader));
  if (res.reader == NULL || res.read_error) {
    lt_diag_format(&res.diag, k->diag, sizeof k->diag);
    err = err ? err : res.read_error;
  } else if (err) {
    snprintf(k->diag, sizeof k->diag, "%s: %s: %s", k->path,
             res.replay ? "replay failed" : "cannot start the replay", lt_strerror(err));
  }
  if (err == 0) {
    k->n_events = lt_replay_events(res.replay);
    const lt_findings *fs = lt_replay_findings(res.replay);
    for (size_t i = 0; err == 0 && i < fs->n; i++)
      err = lt_findings_add(&k->got, &fs->items[i]);
    k->got.total = fs->total;
  }
  lt_replay_file_free(&res);
  return err;
}

/* One flag per finding of k: 1 when the case's .expected.json names it (the
 * store does not open a finding for it), 0 for an unexpected one. A case that
 * could not be compared (an error) expects nothing. lt_free the result. */
static unsigned char *expected_flags(const lt_check_case *k) {
  unsigned char *v = lt_calloc(k->got.n ? k->got.n : 1, 1);
  if (v == NULL || k->outcome == LT_CHECK_ERROR)
    return v;
  memset(v, 1, k->got.n);
  for (size_t i = 0; i < k->n_unexpected; i++)
    if (k->unexpected[i] < k->got.n)
      v[k->unexpected[i]] = 0;
  return v;
}

static int record_case(const lt_check_opts *o, lt_check_case *k) {
  Lifetrace__Process *pp[64], procs[64];
  lt_header h = LIFETRACE__TRACE_HEADER__INIT;
  for (size_t i = 0; i < k->n_procs && i < 64; i++) {
    lifetrace__process__init(&procs[i]);
    procs[i].pid = k->procs[i].pid;
    procs[i].name = k->procs[i].name;
    pp[i] = &procs[i];
  }
  h.processes = pp;
  h.n_processes = k->n_procs < 64 ? k->n_procs : 64;
  int verdict = k->outcome == LT_CHECK_PASS ? LT_VERDICT_PASS
                : k->outcome == LT_CHECK_FAIL ? LT_VERDICT_FAIL
                                              : LT_VERDICT_UNREADABLE;
  lt_store_trace t = {.path = k->path, .n_events = k->n_events, .verdict = verdict,
                      .diag = k->diag[0] ? k->diag : NULL, .header = &h};
  lt_repro rp = {lt_policy_name(k->policy), o->driver_name, k->bugs, o->special_pool, k->path};
  char *cmd = lt_store_repro_command(&rp);
  unsigned char *expected = expected_flags(k);
  t.repro_command = cmd;
  t.expected = expected;
  int err = cmd && expected ? lt_store_add_trace_ex(o->store, o->run, &t, &k->got, NULL)
                            : LT_ENOMEM;
  lt_free(expected);
  lt_free(cmd);
  return err;
}

/* Runs one case: expected file, bugs, replay, comparison. Only OOM and store
 * errors are returned; everything else is the case's outcome. */
static int run_case(lt_check_case *k, const LT_MINIPORT *mp, int special_pool) {
  double t0 = now_s();
  int err = lt__check_parse_expected(k, k->expected_path, k->diag, sizeof k->diag);
  if (err == 0)
    err = lt_miniport_set_bugs(mp, k->bugs, k->diag, sizeof k->diag);
  if (err == 0)
    err = replay_case(k, mp, special_pool);
  if (err == 0)
    err = lt__check_compare(k);
  else if (err != LT_ENOMEM) {
    if (!k->diag[0])
      snprintf(k->diag, sizeof k->diag, "%s: %s", k->path, lt_strerror(err));
    k->outcome = LT_CHECK_ERROR;
    err = 0;
  }
  if (mp->LtSetOption && k->bugs)
    mp->LtSetOption("bugs", "");
  k->seconds = now_s() - t0;
  return err;
}

static int count_and_record(lt_check *c, const lt_check_opts *o, lt_check_case *k) {
  c->passed += k->outcome == LT_CHECK_PASS;
  c->failed += k->outcome == LT_CHECK_FAIL;
  c->errors += k->outcome == LT_CHECK_ERROR;
  return o->store ? record_case(o, k) : 0;
}

struct check_jobs {
  lt_check *c;
  const lt_check_opts *o;
};

/* A -j worker's case: run it, and send the parent what the run made. */
static int check_work(void *ctx, size_t i, FILE *f) {
  struct check_jobs *j = ctx;
  lt_check_case *k = &j->c->cases[i];
  int err = run_case(k, j->o->miniport, j->o->special_pool);
  uint64_t head[3] = {(uint64_t)k->outcome, k->n_events, k->n_procs};
  fwrite(head, sizeof head, 1, f);
  fwrite(&k->seconds, sizeof k->seconds, 1, f);
  fwrite(k->diag, sizeof k->diag, 1, f);
  for (size_t p = 0; p < k->n_procs; p++) {
    uint64_t pid_len[2] = {k->procs[p].pid, strlen(k->procs[p].name)};
    fwrite(pid_len, sizeof pid_len, 1, f);
    fwrite(k->procs[p].name, 1, pid_len[1], f);
  }
  return err ? err : lt_findings_write(f, &k->got);
}

static int read_procs(FILE *f, lt_check_case *k, size_t n) {
  if (n == 0)
    return 0;
  if (n > (1u << 20) || (k->procs = lt_calloc(n, sizeof *k->procs)) == NULL)
    return LT_ENOMEM;
  for (; k->n_procs < n; k->n_procs++) {
    uint64_t pid_len[2];
    if (fread(pid_len, sizeof pid_len, 1, f) != 1 || pid_len[1] > 4096)
      return LT_EIO;
    lt_check_process *p = &k->procs[k->n_procs];
    p->pid = pid_len[0];
    if ((p->name = lt_calloc(pid_len[1] + 1, 1)) == NULL)
      return LT_ENOMEM;
    if (fread(p->name, 1, pid_len[1], f) != pid_len[1])
      return LT_EIO;
  }
  return 0;
}

/* The parent's side of case i, in order: what its worker found, compared
 * with the expected verdict here again (cheap), counted and recorded. */
static int check_done(void *ctx, size_t i, int rc, FILE *f) {
  struct check_jobs *j = ctx;
  lt_check_case *k = &j->c->cases[i];
  uint64_t head[3];
  char msg[1024];
  if (rc || f == NULL || fread(head, sizeof head, 1, f) != 1 ||
      fread(&k->seconds, sizeof k->seconds, 1, f) != 1 ||
      fread(k->diag, sizeof k->diag, 1, f) != 1)
    return rc && rc != LT_EIO ? rc : LT_EIO;
  k->diag[sizeof k->diag - 1] = 0;
  k->n_events = head[1];
  int err = read_procs(f, k, head[2]);
  if (err == 0)
    err = lt_findings_read(f, &k->got);
  if (err)
    return err;
  k->outcome = (int)head[0];
  if (lt__check_parse_expected(k, k->expected_path, msg, sizeof msg) == 0 &&
      k->outcome != LT_CHECK_ERROR && (err = lt__check_compare(k)))
    return err;
  return count_and_record(j->c, j->o, k);
}

/* Replays and compares every case with o's driver, counting outcomes and
 * recording each in o->store when set; a case's own failure to read or
 * replay is its outcome, not an error of the run. With o->jobs > 1 the
 * replays run in worker processes, and the parent counts and records in
 * case order, so the result and the store are those of one process. See
 * lifetrace/check.h. */
int lt__check_run(lt_check *c, const lt_check_opts *o) {
  const LT_MINIPORT *mp = o->miniport;
  double t0 = now_s();
  int err = 0;
  if (o->jobs > 1 && c->n > 1) {
    struct check_jobs j = {c, o};
    err = lt_jobs_run(c->n, o->jobs, check_work, check_done, &j);
    c->seconds = now_s() - t0;
    return err;
  }
  for (size_t i = 0; err == 0 && i < c->n; i++) {
    lt_check_case *k = &c->cases[i];
    if ((err = run_case(k, mp, o->special_pool)))
      break;
    err = count_and_record(c, o, k);
  }
  c->seconds = now_s() - t0;
  return err;
}

static void case_reset(lt_check_case *k) {
  lt_free(k->group);
  lt_free(k->name);
  lt_free(k->path);
  lt_free(k->uri);
  lt_free(k->expected_path);
  lt_free(k->bugs);
  lt_free(k->expected);
  lt_free(k->missing);
  lt_free(k->unexpected);
  lt_findings_reset(&k->got);
  for (size_t i = 0; i < k->n_procs; i++)
    lt_free(k->procs[i].name);
  lt_free(k->procs);
}

/* Frees what lt__check_scan and lt__check_run made and leaves c empty. */
void lt__check_reset(lt_check *c) {
  for (size_t i = 0; i < c->n; i++)
    case_reset(&c->cases[i]);
  lt_free(c->cases);
  lt_free(c->root);
  lt_free(c->repo);
  memset(c, 0, sizeof *c);
}
