/* Triage: the crash counts of a fuzz campaign's signature folder. The fuzz
 * target (fuzz/fuzz_replay.c, LT_FUZZ_SIGDIR) appends one byte to
 * DIR/<signature> for every crashing input and lets the engine keep only
 * the first few as files; these counts give the findings their true count. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lifetrace/triage_run.h"

static int is_sig_name(const char *name) {
  size_t n = strspn(name, "0123456789abcdef");
  return n == 16 && name[n] == 0;
}

static int add_hits(lt__triage *tr, uint64_t sig, uint64_t hits) {
  lt__tri_hits *nh = lt_realloc(tr->hits, (tr->nhits + 1) * sizeof *nh);
  if (nh == NULL)
    return LT_ENOMEM;
  tr->hits = nh;
  tr->hits[tr->nhits++] = (lt__tri_hits){sig, hits, 0, 0};
  return 0;
}

/* What the folder's "recorded" file says an earlier triage accounted for. */
static void load_before(lt__triage *tr, const char *dir) {
  char path[4096], line[128], hex[32];
  unsigned long long n;
  snprintf(path, sizeof path, "%s/recorded", dir);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "%31s %llu", hex, &n) == 2)
      for (size_t i = 0; i < tr->nhits; i++)
        if (tr->hits[i].sig == strtoull(hex, NULL, 16))
          tr->hits[i].before = n <= tr->hits[i].hits ? n : 0; /* a reset folder: all new */
  fclose(f);
}

/* Loads the crash counts a fuzz campaign's signature folder holds (one byte
 * per crash, per signature file); see lifetrace/triage_run.h. */
int lt__tri_hits_load(lt__triage *tr, const char *dir) {
  char path[4096];
  struct stat st;
  struct dirent *e;
  int err = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return LT_EIO;
  while (err == 0 && (e = readdir(d)) != NULL) {
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (is_sig_name(e->d_name) && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
      err = add_hits(tr, strtoull(e->d_name, NULL, 16), (uint64_t)st.st_size);
  }
  closedir(d);
  if (err == 0)
    load_before(tr, dir);
  return err;
}

/* Crash files recorded now whose first finding has this signature: each is
 * one of the counted crashes, already in the count as an occurrence. */
static uint64_t recorded_now(const lt__triage *tr, uint64_t sig) {
  uint64_t n = 0;
  for (size_t i = 0; i < tr->files.n; i++)
    n += tr->files.v[i].recorded && tr->files.v[i].reproduced && tr->files.v[i].sig == sig;
  return n;
}

static int write_recorded(const lt__triage *tr, const char *dir) {
  char path[4096], tmp[4200], hex[17];
  snprintf(path, sizeof path, "%s/recorded", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL)
    return LT_EIO;
  for (size_t i = 0; i < tr->nhits; i++) {
    lt_signature_hex(tr->hits[i].sig, hex);
    fprintf(f, "%s %" PRIu64 "\n", hex, tr->hits[i].hits);
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0)
    return LT_EIO;
  return 0;
}

/* Adds the counted crashes no recorded crash file stands for to each
 * finding's count, then rewrites the folder's "recorded" file; see
 * lifetrace/triage_run.h. */
int lt__tri_hits_record(lt__triage *tr, lt_store *s, int64_t run, const char *dir) {
  char hex[17];
  int err = 0;
  for (size_t i = 0; i < tr->nhits && err == 0; i++) {
    lt__tri_hits *h = &tr->hits[i];
    uint64_t fresh = h->hits - h->before, files = recorded_now(tr, h->sig);
    h->added = fresh > files ? fresh - files : 0;
    if (h->added == 0)
      continue;
    lt_signature_hex(h->sig, hex);
    err = lt_store_add_count(s, run, hex, h->added);
    if (err == LT_ENOENT) { /* no crash file of it was recorded: nothing to count on */
      h->added = 0;
      err = 0;
    }
  }
  return err ? err : write_recorded(tr, dir);
}
