/* lifetrace — the one replay loop (see lifetrace/replay_file.h). */
#include <string.h>

#include "lifetrace/replay_file.h"

/* Feeds every event of res->reader to res->replay. */
static int feed(lt_replay_file_result *res, lt_replay_progress_fn progress, void *data) {
  const lt_event *ev;
  int err;
  while ((err = lt_reader_next(res->reader, &ev, &res->diag)) == 0) {
    if ((err = lt_replay_event(res->replay, ev)) != 0) {
      res->engine_error = err;
      return err;
    }
    if (progress && (lt_replay_events(res->replay) & 0xffff) == 0)
      progress(data, res->reader, lt_replay_events(res->replay), 0);
  }
  if (err != LT_EEOF)
    res->read_error = err;
  return 0;
}

/* Opens, replays and finishes one trace file; see lifetrace/replay_file.h. */
int lt_replay_file(lt_replay_file_result *res, const char *path, int strict,
                   const lt_replay_opts *o, lt_replay_progress_fn progress, void *progress_data) {
  memset(res, 0, sizeof *res);
  int err = lt_reader_open(&res->reader, path, strict, &res->diag);
  if (err)
    return err;
  if ((err = lt_replay_new(&res->replay, lt_reader_header(res->reader), o)) != 0) {
    res->engine_error = err;
    return err;
  }
  if ((err = feed(res, progress, progress_data)) != 0)
    return err;
  if (res->read_error == 0 && (err = lt_replay_finish(res->replay)) != 0) {
    res->engine_error = err;
    return err;
  }
  if (progress)
    progress(progress_data, res->reader, lt_replay_events(res->replay), 1);
  return 0;
}

/* Replays events held in memory; see lifetrace/replay_file.h. */
int lt_replay_trace(lt_replay **out, const lt_header *h, lt_event *const *ev, const size_t *keep,
                    size_t n, const lt_replay_opts *o) {
  int err = lt_replay_new(out, h, o);
  if (err) {
    *out = NULL;
    return err;
  }
  for (size_t i = 0; i < n && err == 0; i++)
    err = lt_replay_event(*out, ev[keep ? keep[i] : i]);
  if (err == 0)
    err = lt_replay_finish(*out);
  return err;
}

/* Frees the reader and the engine; res is left empty. */
void lt_replay_file_free(lt_replay_file_result *res) {
  if (res == NULL)
    return;
  lt_replay_free(res->replay);
  lt_reader_free(res->reader);
  res->replay = NULL;
  res->reader = NULL;
}
