/* lifetrace — the replay loop: open a trace file, feed every event to the
 * replay engine (lifetrace/replay.h), finish. The one loop that the replay and
 * check commands, triage, the seed builder and the benchmarks share.
 *
 * A trace that turns out corrupt half-way keeps what was replayed: the engine
 * and its findings stay available, the read error is in diag.
 */
#ifndef LIFETRACE_REPLAY_FILE_H
#define LIFETRACE_REPLAY_FILE_H

#include <stdint.h>

#include "lifetrace/replay.h"
#include "lifetrace/trace.h"

/* The outcome of replaying one file. Owns the reader and the engine until
 * lt_replay_file_free. */
typedef struct lt_replay_file_result {
  lt_reader *reader;  /* NULL when the file could not be opened */
  lt_replay *replay;  /* NULL when the file could not be opened or started */
  int read_error;     /* LT_E* of the first unreadable record, 0 if none */
  int engine_error;   /* LT_E* the engine returned (internal error), 0 if none */
  lt_diag diag;       /* where the read error is (file, offset or line, record) */
} lt_replay_file_result;

/* Called every 65,536 events and once at the end (done = 1); may be NULL. */
typedef void (*lt_replay_progress_fn)(void *data, const lt_reader *rd, uint64_t events, int done);

/* Replays the trace at path (binary, zstd or JSONL; strict: reject unknown
 * JSONL keys) with options o, finishing the replay (leak checks) unless a
 * record was unreadable. Returns 0 when the trace was replayed (findings are
 * in res->replay, a mid-file read error in res->read_error), or an LT_E*
 * error: the file could not be opened (res->diag says why) or the engine not
 * started. res is filled either way; free it with lt_replay_file_free. */
LT_MUST_CHECK int lt_replay_file(lt_replay_file_result *res, const char *path, int strict,
                                 const lt_replay_opts *o, lt_replay_progress_fn progress,
                                 void *progress_data);
/* Replays a trace held in memory: header h, then events ev[keep[i]] for i <
 * n (keep NULL: ev[0..n-1]), then the end of the trace. Engine errors stop the
 * replay (the first is returned); *out is the engine, with its findings, even
 * then, for lt_replay_free (NULL only when it could not start). The loop that
 * the fuzz target, triage and the seed builder share. */
LT_MUST_CHECK int lt_replay_trace(lt_replay **out, const lt_header *h, lt_event *const *ev,
                                  const size_t *keep, size_t n, const lt_replay_opts *o);

/* Frees what lt_replay_file made; the findings go with it. */
void lt_replay_file_free(lt_replay_file_result *res);

#endif
