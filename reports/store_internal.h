/* Internals of the results store shared by the report writers and tests in
 * reports/: the SQLite handle and a test hook. Not part of the public API. */
#ifndef LT_REPORTS_STORE_INTERNAL_H
#define LT_REPORTS_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "lifetrace/store.h"

/* The store's connection, owned by the store; readers prepare their own
 * statements on it and finalize them before lt_store_close. */
sqlite3 *lt__store_db(lt_store *s);

/* Test hook: called inside the write transaction of lt_store_add_trace_ex
 * after each occurrence row (point = "occurrence"). Tests use it to kill a
 * writer mid-transaction. NULL = none. */
extern void (*lt__store_hook)(const char *point, uint64_t n);

/* Current time in Unix ms. */
int64_t lt__now_ms(void);

/* schemas/results.sql, compiled in at build time (cmake/EmbedText.cmake): the
 * schema the store creates. */
extern const char lt__store_schema[];

#endif
