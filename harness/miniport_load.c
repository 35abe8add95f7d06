/* Loading a miniport: the one linked into this binary, or a user's shared
 * object through dlopen (see lifetrace/miniport.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "lifetrace/error.h"
#include "lifetrace/miniport.h"

static int check_abi(const LT_MINIPORT *mp, const char *path, char *err, size_t errlen) {
  if (mp->AbiVersion != LT_MINIPORT_ABI_VERSION) {
    snprintf(err, errlen,
             "%s: miniport ABI version %u, but this lifetrace implements version %u; rebuild "
             "the driver against this lifetrace's headers",
             path, mp->AbiVersion, LT_MINIPORT_ABI_VERSION);
    return LT_EABI;
  }
  if (mp->Size != sizeof(LT_MINIPORT)) {
    snprintf(err, errlen, "%s: LT_MINIPORT is %u bytes, expected %zu (ABI mismatch)", path,
             mp->Size, sizeof(LT_MINIPORT));
    return LT_EABI;
  }
  return 0;
}

/* Loads the driver under test: the one linked into this binary when path is
 * NULL, else the shared object at path. Checks the table's ABI version;
 * writes a message to err and returns a negative LT_E* on failure. The
 * caller passes *dl to lt_miniport_unload when done. See
 * lifetrace/miniport.h. */
int lt_miniport_load(const char *path, const LT_MINIPORT **out, void **dl, char *err,
                     size_t errlen) {
  *dl = NULL;
  if (path == NULL) {
    if (lt_linked_miniport == NULL || (*out = lt_linked_miniport()) == NULL) {
      snprintf(err, errlen, "this binary has no driver linked in: name one with --driver "
                            "PATH (a shared object exporting %s)", LT_MINIPORT_ENTRY_SYMBOL);
      return LT_ENOENT;
    }
    return check_abi(*out, (*out)->Name ? (*out)->Name : "linked driver", err, errlen);
  }
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(err, errlen, "cannot load driver: %s", dlerror());
    return LT_ENOENT;
  }
  LT_MINIPORT_ENTRY entry = (LT_MINIPORT_ENTRY)dlsym(h, LT_MINIPORT_ENTRY_SYMBOL);
  const LT_MINIPORT *mp = entry ? entry() : NULL;
  if (mp == NULL) {
    snprintf(err, errlen, "%s: no %s() returning a miniport table", path,
             LT_MINIPORT_ENTRY_SYMBOL);
    dlclose(h);
    return LT_EINVAL;
  }
  int rc = check_abi(mp, path, err, errlen);
  if (rc) {
    dlclose(h);
    return rc;
  }
  *out = mp;
  *dl = h;
  return 0;
}

/* Closes a driver opened by lt_miniport_load (NULL, a linked driver: no-op);
 * see lifetrace/miniport.h. */
void lt_miniport_unload(void *dl) {
  if (dl)
    dlclose(dl);
}

/* Appends to msg the seeded bugs the driver accepts, found by asking its
 * LtSetOption for each number 1..31 and each pattern id p1..p40 (the ABI has
 * no listing call), then switches them off again. */
static void accepted_bugs(const LT_MINIPORT *mp, char *msg, size_t len) {
  char tok[8];
  size_t at = strlen(msg);
  int n = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int k = 1; k <= (pass ? 40 : 31); k++) {
      snprintf(tok, sizeof tok, pass ? "p%d" : "%d", k);
      if (NT_SUCCESS(mp->LtSetOption("bugs", tok)) && at + 8 < len)
        at += (size_t)snprintf(msg + at, len - at, "%s%s", n++ ? ", " : "; it accepts ", tok);
    }
  if (n == 0 && at + 40 < len)
    snprintf(msg + at, len - at, "; it accepts no seeded bug by number or pattern");
  (void)mp->LtSetOption("bugs", "none");
}

/* Enables the driver's seeded bugs named in bugs through its LtSetOption (""
 * or NULL: nothing to do); LT_EINVAL with a message in err when the driver
 * has no seeded bugs or rejects the list. See lifetrace/miniport.h. */
int lt_miniport_set_bugs(const LT_MINIPORT *mp, const char *bugs, char *err, size_t errlen) {
  if (bugs == NULL || bugs[0] == 0)
    return 0;
  if (mp->LtSetOption == NULL) {
    snprintf(err, errlen, "driver %s has no seeded bugs (no LtSetOption)",
             mp->Name ? mp->Name : "?");
    return LT_EINVAL;
  }
  NTSTATUS st = mp->LtSetOption("bugs", bugs);
  if (!NT_SUCCESS(st)) {
    snprintf(err, errlen, "driver %s rejected bugs \"%s\" (status 0x%08x)",
             mp->Name ? mp->Name : "?", bugs, (unsigned)st);
    accepted_bugs(mp, err, errlen);
    return LT_EINVAL;
  }
  return 0;
}

/* Splits a seeded-bug list into single bugs; see lifetrace/miniport.h. */
size_t lt_miniport_bug_candidates(const LT_MINIPORT *mp, const char *bugs,
                                  char (*cand)[LT_BUG_NAME_MAX], size_t max) {
  char err[256], tok[LT_BUG_NAME_MAX];
  size_t n = 0;
  for (const char *p = bugs ? bugs : ""; *p && n < max;) {
    size_t len = strcspn(p, ", \t");
    if (len == 0 || len >= sizeof tok) {
      p += len ? len : 1;
      continue;
    }
    memcpy(tok, p, len);
    tok[len] = 0;
    p += len;
    if (!strcmp(tok, "all")) {
      for (int k = 1; k < 32 && n < max && mp->LtSetOption; k++) {
        snprintf(tok, sizeof tok, "%d", k);
        if (lt_miniport_set_bugs(mp, tok, err, sizeof err))
          break;
        snprintf(cand[n++], LT_BUG_NAME_MAX, "%s", tok);
      }
    } else if (strcmp(tok, "none") != 0) {
      snprintf(cand[n++], LT_BUG_NAME_MAX, "%s", tok);
    }
  }
  return n;
}
