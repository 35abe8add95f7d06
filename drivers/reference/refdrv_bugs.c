/* lifetrace — reference miniport: the seeded-bug switchboard.
 *
 * Each seeded bug is a faithful code path of one pattern of
 * wddm-contract.md §3, taken only when its bit is set. The set is process
 * wide (the option has no adapter), off by default, and changed with
 * LtSetOption("bugs", "1,p13,p19-resource-double-release"). The same list
 * takes the named mode "move-resource" and the named variants
 * "move-resource-freed" and "resource-blob-leak" (never part of "all").
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "refdrv_internal.h"

typedef struct rd_bug_name {
  int Id;
  const char *Pattern; /* "p1" */
  const char *Name;    /* "p1-hresource-decides" */
} rd_bug_name;

static const rd_bug_name bug_names[] = {
    {RD_BUG_P1_HRESOURCE_DECIDES, "p1", "p1-hresource-decides"},
    {RD_BUG_P3_FIRST_ONLY, "p3", "p3-first-only"},
    {RD_BUG_P2_ZERO_ALLOCATIONS, "p2", "p2-zero-allocations"},
    {RD_BUG_P5_RECREATE_RESOURCE, "p5", "p5-recreate-resource"},
    {RD_BUG_P6_OOM_FREES_RESOURCE, "p6", "p6-oom-frees-resource"},
    {RD_BUG_P7_PUBLISH_ON_FAILURE, "p7", "p7-publish-on-failure"},
    {RD_BUG_P9_OPEN_NO_ROLLBACK, "p9", "p9-open-no-rollback"},
    {RD_BUG_P11_DPC_AFTER_DESTROY, "p11", "p11-dpc-after-destroy"},
    {RD_BUG_P13_STALE_SCANOUT, "p13", "p13-stale-scanout"},
    {RD_BUG_P19_RESOURCE_DOUBLE_RELEASE, "p19", "p19-resource-double-release"},
};

/* Modes and variants, by name only; bit RD_BUG__MAX + 1 + mode of the mask.
 * "move-resource-freed" implies "move-resource". */
static const struct {
  const char *Name;
  uint32_t Mask;
} mode_names[] = {
    {"move-resource", 1u << (RD_BUG__MAX + 1 + RD_MODE_MOVE_RESOURCE)},
    {"move-resource-freed", (1u << (RD_BUG__MAX + 1 + RD_MODE_MOVE_RESOURCE)) |
                                (1u << (RD_BUG__MAX + 1 + RD_VARIANT_MOVE_RESOURCE_FREED))},
    {"resource-blob-leak", 1u << (RD_BUG__MAX + 1 + RD_VARIANT_RESOURCE_BLOB_LEAK)},
};

static uint32_t enabled_bugs;

/* Whether seeded bug `bug` (1..RD_BUG__MAX) is switched on; each seeded
 * bug's branch asks this. */
BOOLEAN lt__rd_bug(int bug) {
  return bug >= 1 && bug <= RD_BUG__MAX && (enabled_bugs & (1u << bug)) != 0;
}

/* Whether a named mode or variant (not a bug: an alternative legal
 * behaviour) is switched on. */
BOOLEAN lt__rd_mode(int mode) {
  return mode >= 0 && mode < RD_MODE__COUNT &&
         (enabled_bugs & (1u << (RD_BUG__MAX + 1 + mode))) != 0;
}

/* One token: a number, a pattern id or a full name (any case). Returns the
 * bit mask it stands for, 0 for "none", or -1 if it is not known. */
static long token_mask(const char *tok, size_t len) {
  char buf[48];
  if (len == 0 || len >= sizeof buf)
    return -1;
  memcpy(buf, tok, len);
  buf[len] = 0;
  if (strcasecmp(buf, "none") == 0)
    return 0;
  if (strcasecmp(buf, "all") == 0)
    return (long)(((1u << (RD_BUG__MAX + 1)) - 1) & ~1u);
  if (isdigit((unsigned char)buf[0])) {
    char *end;
    long n = strtol(buf, &end, 10);
    return (*end == 0 && n >= 1 && n <= RD_BUG__MAX) ? (1L << n) : -1;
  }
  for (size_t i = 0; i < sizeof bug_names / sizeof bug_names[0]; i++)
    if (strcasecmp(buf, bug_names[i].Pattern) == 0 || strcasecmp(buf, bug_names[i].Name) == 0)
      return 1L << bug_names[i].Id;
  for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
    if (strcasecmp(buf, mode_names[i].Name) == 0)
      return (long)mode_names[i].Mask;
  return -1;
}

/* Parses a comma- or blank-separated list; "" and "none" clear the set. The
 * set changes only if every token is known. */
NTSTATUS lt__rd_set_bugs(const char *Value) {
  uint32_t mask = 0;
  const char *p = Value;
  if (p == NULL)
    return STATUS_INVALID_PARAMETER;
  while (*p) {
    size_t len;
    long m;
    if (*p == ',' || isspace((unsigned char)*p)) {
      p++;
      continue;
    }
    len = strcspn(p, ", \t\r\n");
    m = token_mask(p, len);
    if (m < 0)
      return STATUS_INVALID_PARAMETER;
    mask |= (uint32_t)m;
    p += len;
  }
  enabled_bugs = mask;
  return STATUS_SUCCESS;
}
