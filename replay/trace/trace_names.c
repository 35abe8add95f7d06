/* Names used by the JSONL form and by messages: ops, allocation flags, the
 * small enums, and the one format of a read error's position. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace_io.h"

static const char *const op_names[] = {
    NULL,           "device_create", "device_destroy", "context_create", "context_destroy",
    "alloc_create", "alloc_open",    "alloc_close",    "alloc_destroy",  "submit",
    "fence_done",   "lock",          "unlock",         "evict",          "page_in",
    "scanout",      "offer",         "reclaim",        "tdr",            "process_exit",
    "inject_fault",
};
#define N_OPS (sizeof op_names / sizeof op_names[0])

/* DXGK_ALLOCATIONINFOFLAGS bits 0..18 (wddm.h); bit 31 is lifetrace's Primary. */
static const char *const flag_names[] = {
    "cpu_visible",
    "permanent_sys_mem",
    "cached",
    "protected",
    "existing_sys_mem",
    "existing_kernel_sys_mem",
    "from_end_of_segment",
    "swizzled",
    "overlay",
    "capture",
    "use_alternate_va",
    "synchronous_paging",
    "link_mirrored",
    "link_instanced",
    "history_buffer",
    "accessed_physically",
    "explicit_residency_notification",
    "hardware_protected",
    "cpu_visible_on_demand",
};
#define N_FLAGS (sizeof flag_names / sizeof flag_names[0])
#define PRIMARY_BIT 31u

static const char *const ends_names[] = {"teardown", "window"};
static const char *const segkind_names[] = {"local", "aperture", "system"};
static const char *const site_names[] = {NULL, "pool", "vram", "handle"};

static const char *name_of(const char *const *names, size_t n, int v) {
  return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static int value_of(const char *const *names, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (names[i] && !strcmp(names[i], s))
      return (int)i;
  return -1;
}

#define NAMES(a) a, sizeof a / sizeof a[0]

/* Op names are the lowercase enum names of trace.proto. */
const char *lt_op_name(int op) { return name_of(NAMES(op_names), op); }
/* The op of a JSONL op name, or -1; see lifetrace/trace.h. */
int lt_op_from_name(const char *name) { return value_of(NAMES(op_names), name); }

/* The JSONL name of DXGK_ALLOCATIONINFOFLAGS bit (0..18, 31), or NULL. */
const char *lt_allocflag_name(unsigned bit) {
  if (bit < N_FLAGS)
    return flag_names[bit];
  return bit == PRIMARY_BIT ? "primary" : NULL;
}

/* The bit of a JSONL flag name, or -1. */
int lt_allocflag_from_name(const char *name) {
  if (!strcmp(name, "primary"))
    return (int)PRIMARY_BIT;
  return value_of(NAMES(flag_names), name);
}

/* The JSONL name of a header's ends value, or NULL; see lifetrace/trace.h. */
const char *lt_ends_name(int v) { return name_of(NAMES(ends_names), v); }
/* The ends value of a JSONL name, or -1; see trace_io.h. */
int lt__ends_from_name(const char *s) { return value_of(NAMES(ends_names), s); }
/* The JSONL name of a segment kind, or NULL; see lifetrace/trace.h. */
const char *lt_segkind_name(int v) { return name_of(NAMES(segkind_names), v); }
/* The segment kind of a JSONL name, or -1; see trace_io.h. */
int lt__segkind_from_name(const char *s) { return value_of(NAMES(segkind_names), s); }
/* The JSONL name of an inject_fault site (pool, vram, handle), or NULL; see
 * trace_io.h. */
const char *lt__site_name(int v) { return name_of(NAMES(site_names), v); }
/* The inject_fault site of a JSONL name, or -1; see trace_io.h. */
int lt__site_from_name(const char *s) { return value_of(NAMES(site_names), s); }

/* Name of a detected form, for info and messages. */
const char *lt_format_name(int format) {
  switch (format) {
  case LT_FORMAT_BINARY:
    return "binary";
  case LT_FORMAT_BINARY_ZSTD:
    return "binary+zstd";
  case LT_FORMAT_JSONL:
    return "jsonl";
  case LT_FORMAT_FUZZ:
    return "fuzz";
  }
  return "unknown";
}

/* Fills a diagnostic with where (file, byte offset, line, record) and a
 * formatted message; d NULL is a no-op, file NULL keeps d->file. See
 * trace_io.h. */
void lt__diag_set(lt_diag *d, const char *file, uint64_t offset, uint64_t line, int64_t record,
                  const char *fmt, ...) {
  va_list ap;

  if (d == NULL)
    return;
  if (file)
    snprintf(d->file, sizeof d->file, "%s", file);
  d->offset = offset;
  d->line = line;
  d->record = record;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof d->msg, fmt, ap);
  va_end(ap);
}

/* Formats a diag as "FILE: line L: record R: MSG" (JSONL) or
 * "FILE: byte N: record R: MSG" (binary forms; N is the offset in the
 * decompressed stream). R is -1 for the header. A diag without a position
 * (LT__DIAG_NOPOS) prints "FILE: MSG". */
void lt_diag_format(const lt_diag *d, char *buf, size_t len) {
  if (len == 0)
    return;
  if (d->record == LT__DIAG_NOPOS)
    snprintf(buf, len, "%s: %s", d->file, d->msg);
  else if (d->line)
    snprintf(buf, len, "%s: line %" PRIu64 ": record %" PRId64 ": %s", d->file, d->line,
             d->record, d->msg);
  else
    snprintf(buf, len, "%s: byte %" PRIu64 ": record %" PRId64 ": %s", d->file, d->offset,
             d->record, d->msg);
}

