/* lifetrace — the structure-aware mutator as an AFL++ custom mutator library
 * (AFL++ 4.04c C API; see docs/fuzzing.md and reference/fuzzing.md §3.4).
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=build-fuzz/tools/fuzz/afl_mutator.so afl-fuzz ...
 *
 * afl_custom_fuzz mutates (one time in four it splices with AFL's add_buf);
 * afl_custom_describe names the operations, so queue and crash file names
 * show them ("...,insert+flip"); the trim trio removes one event at a time.
 * Built with a plain compiler and no sanitizer: afl-fuzz dlopens it.
 * LT_MUTATOR_STATS=FILE makes deinit write the operation counts as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/mutator.h"

#define OUT_CAP (1u << 20)

typedef struct afl_lt {
  lt_mutator *m;
  uint8_t *out;
  uint32_t seed;
  size_t trim_events, trim_pos, trim_step, trim_len;
  char desc[128];
} afl_lt;

/* AFL++ entry: makes the mutator state for one afl-fuzz instance, seeded
 * with seed; NULL when out of memory (AFL++ then stops). */
void *afl_custom_init(void *afl, unsigned int seed) {
  (void)afl;
  afl_lt *s = calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->out = malloc(OUT_CAP);
  if (s->out == NULL || lt_mutator_new(&s->m)) {
    free(s->out);
    free(s);
    return NULL;
  }
  s->seed = seed;
  return s;
}

/* AFL++ entry: mutates buf (one time in four a crossover with add_buf) into
 * the state's output buffer, which *out_buf points at until the next call;
 * returns its size. */
size_t afl_custom_fuzz(void *data, unsigned char *buf, size_t buf_size, unsigned char **out_buf,
                       unsigned char *add_buf, size_t add_buf_size, size_t max_size) {
  afl_lt *s = data;
  size_t max = max_size < OUT_CAP ? max_size : OUT_CAP, n;
  uint32_t seed = s->seed = s->seed * 1103515245u + 12345u;
  if (add_buf && add_buf_size && (seed >> 16) % 4 == 0)
    n = lt_mutator_crossover(s->m, buf, buf_size, add_buf, add_buf_size, s->out, max, seed);
  else
    n = lt_mutator_mutate(s->m, buf, buf_size, s->out, max, seed);
  *out_buf = s->out;
  return n;
}

/* AFL++ entry: names the last call's operations for queue and crash file
 * names, cut to max_description_len. */
const char *afl_custom_describe(void *data, size_t max_description_len) {
  afl_lt *s = data;
  size_t n = max_description_len < sizeof s->desc ? max_description_len : sizeof s->desc;
  snprintf(s->desc, n ? n : 1, "%s", lt_mutator_describe(s->m));
  return s->desc;
}

/* Event-level trimming: try dropping each event in turn; keep the drop when
 * AFL++ sees the same coverage. The step index grows on every call. */
int afl_custom_init_trim(void *data, unsigned char *buf, size_t buf_size) {
  afl_lt *s = data;
  s->trim_events = lt_mutator_load(s->m, buf, buf_size);
  s->trim_pos = 0;
  s->trim_step = 0;
  return (int)s->trim_events;
}

/* AFL++ entry: the next trim candidate, the loaded input without event
 * trim_pos. */
size_t afl_custom_trim(void *data, unsigned char **out_buf) {
  afl_lt *s = data;
  s->trim_len = lt_mutator_emit_without(s->m, s->trim_pos, 1, s->out, OUT_CAP);
  *out_buf = s->out;
  return s->trim_len;
}

/* AFL++ entry: keeps the candidate as the new input when AFL++ saw the same
 * coverage, else moves on to the next event; returns the step index, which
 * reaches init_trim's count when every event has been tried. */
int afl_custom_post_trim(void *data, unsigned char success) {
  afl_lt *s = data;
  if (success) {
    /* The candidate is the new input: reload it (one event fewer). */
    s->trim_events = lt_mutator_load(s->m, s->out, s->trim_len);
  } else {
    s->trim_pos++;
  }
  s->trim_step++;
  /* step == trim_pos + events removed, so it reaches init_trim's count
   * exactly when every event has been tried. */
  return (int)s->trim_step;
}

static void write_stats(const lt_mutator_stats *st, const char *path) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return;
  fprintf(f, "{\"calls\": %llu, \"crossovers\": %llu, \"undecodable\": %llu, \"truncated\": %llu",
          (unsigned long long)st->calls, (unsigned long long)st->crossovers,
          (unsigned long long)st->undecodable, (unsigned long long)st->truncated);
  for (int i = 0; i < LT_MUT__COUNT; i++)
    fprintf(f, ", \"%s\": %llu", lt_mutator_op_name(i), (unsigned long long)st->applied[i]);
  fprintf(f, "}\n");
  fclose(f);
}

/* AFL++ entry: writes the operation counts to LT_MUTATOR_STATS when set,
 * then frees the state. */
void afl_custom_deinit(void *data) {
  afl_lt *s = data;
  if (s == NULL)
    return;
  if (getenv("LT_MUTATOR_STATS"))
    write_stats(lt_mutator_get_stats(s->m), getenv("LT_MUTATOR_STATS"));
  lt_mutator_free(s->m);
  free(s->out);
  free(s);
}
