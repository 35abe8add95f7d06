/* Private to the store modules (store.c, store_ingest.c, store_query.c). */
#ifndef LT_REPORTS_STORE_PRIV_H
#define LT_REPORTS_STORE_PRIV_H

#include <assert.h>
#include <sqlite3.h>
#include <stdint.h>

#include "buf.h"
#include "lifetrace/store.h"

#define LT_STORE_MAGIC 0x5354524bu /* "STRK" */

struct lt_store {
  uint32_t magic; /* LT_STORE_MAGIC while open (debug tripwire) */
  sqlite3 *db;
  int version;
  char msg[512];
};

/* Debug builds check at each public entry point that s is a live store. */
#ifdef LT_DEBUG
#define LT_STORE_CHECK(s) assert((s) != NULL && (s)->magic == LT_STORE_MAGIC)
#else
#define LT_STORE_CHECK(s) ((void)0)
#endif

/* Each returns 0 or an LT_E* code with the SQLite message kept in s->msg. */
int lt__store_fail(lt_store *s, int rc);
int lt__store_exec(lt_store *s, const char *sql);
int lt__store_prepare(lt_store *s, sqlite3_stmt **st, const char *sql);
int lt__store_step_done(lt_store *s, sqlite3_stmt *st);
int lt__store_begin(lt_store *s);
int lt__store_commit(lt_store *s);
void lt__store_rollback(lt_store *s);
/* Binds v as text, or NULL when v is NULL. */
void lt__bind_text(sqlite3_stmt *st, int i, const char *v);

#endif
