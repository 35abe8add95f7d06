/* lt-mutator-stats: measures how well-formed the structure-aware mutator's
 * outputs are, against plain byte flips of the same inputs.
 *
 *   lt-mutator-stats [-n MUTATIONS] [--seed S] SEED_FILE...
 *
 * Starting from the seeds, it mutates (half the calls a crossover with
 * another pool entry, as libFuzzer does) and feeds one output in eight back
 * into the pool, so later inputs are themselves mutants. For every output it
 * records whether it decodes and how many of its events the kernel-policy
 * model accepts (lt_mutator_check). The byte-level baseline flips 1-4 bits of
 * a pool entry. Prints one JSON object.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifetrace/mutator.h"

#define POOL 512
#define MAXLEN 65536

struct tally {
  unsigned long outputs, decoded, events, accepted, whole;
};

static uint8_t *pool[POOL];
static size_t pool_len[POOL], npool;

static void pool_add(const uint8_t *b, size_t n, unsigned long slot) {
  size_t i = npool < POOL ? npool++ : slot % POOL;
  free(pool[i]);
  pool[i] = malloc(n ? n : 1);
  memcpy(pool[i], b, n);
  pool_len[i] = n;
}

static void judge(lt_mutator *check, struct tally *t, const uint8_t *b, size_t n) {
  size_t ev = 0, acc = 0;
  t->outputs++;
  if (!lt_mutator_check(check, b, n, &ev, &acc))
    return;
  t->decoded++;
  t->events += ev;
  t->accepted += acc;
  t->whole += ev == acc;
}

static void print_tally(const char *name, const struct tally *t, int last) {
  double o = t->outputs ? (double)t->outputs : 1, e = t->events ? (double)t->events : 1;
  printf("  \"%s\": {\"outputs\": %lu, \"decode\": %.4f, \"events_accepted\": %.4f, "
         "\"fully_well_formed\": %.4f, \"mean_events\": %.1f}%s\n",
         name, t->outputs, t->decoded / o, t->accepted / e, t->whole / o,
         t->decoded ? (double)t->events / (double)t->decoded : 0.0, last ? "" : ",");
}

static int load_file(const char *path) {
  FILE *f = fopen(path, "rb");
  static uint8_t buf[MAXLEN];
  if (f == NULL)
    return -1;
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  pool_add(buf, n, 0);
  return 0;
}

/* lt-mutator-stats: mutates the seed files n times and prints one JSON
 * object comparing the decode and acceptance rates of the structure-aware
 * outputs with plain bit flips; exits 2 for usage or an unreadable seed. */
int main(int argc, char **argv) {
  unsigned long n = 100000, seed = 1;
  int ch;
  static const struct option opts[] = {{"seed", required_argument, 0, 's'}, {0, 0, 0, 0}};
  while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
    if (ch == 'n')
      n = strtoul(optarg, NULL, 10);
    else if (ch == 's')
      seed = strtoul(optarg, NULL, 10);
    else
      return 2;
  }
  for (int i = optind; i < argc; i++)
    if (load_file(argv[i]))
      fprintf(stderr, "lt-mutator-stats: cannot read %s\n", argv[i]);
  if (npool == 0) {
    fprintf(stderr, "usage: lt-mutator-stats [-n N] [--seed S] SEED_FILE...\n");
    return 2;
  }
  size_t nseeds = npool;
  lt_mutator *m = NULL, *check = NULL;
  if (lt_mutator_new(&m) || lt_mutator_new(&check))
    return 4;
  static uint8_t out[MAXLEN];
  struct tally sa = {0}, bytes = {0}, seeds = {0};
  for (size_t i = 0; i < nseeds; i++)
    judge(check, &seeds, pool[i], pool_len[i]);
  srand((unsigned)seed);
  clock_t t0 = clock();
  for (unsigned long i = 0; i < n; i++) {
    size_t a = (size_t)rand() % npool, b = (size_t)rand() % npool, len;
    if (i & 1)
      len = lt_mutator_crossover(m, pool[a], pool_len[a], pool[b], pool_len[b], out, MAXLEN,
                                 (uint32_t)rand());
    else
      len = lt_mutator_mutate(m, pool[a], pool_len[a], out, MAXLEN, (uint32_t)rand());
    judge(check, &sa, out, len);
    if (rand() % 8 == 0)
      pool_add(out, len, (unsigned long)rand());
  }
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  for (unsigned long i = 0; i < n; i++) {
    size_t a = (size_t)rand() % npool, len = pool_len[a];
    memcpy(out, pool[a], len);
    for (int k = 0, flips = 1 + rand() % 4; k < flips && len; k++)
      out[(size_t)rand() % len] ^= (uint8_t)(1u << (rand() % 8));
    judge(check, &bytes, out, len);
  }
  printf("{\n  \"mutations\": %lu, \"mutations_per_second\": %.0f,\n", n, secs > 0 ? n / secs : 0);
  print_tally("seeds", &seeds, 0);
  print_tally("structure_aware", &sa, 0);
  print_tally("byte_flips", &bytes, 1);
  printf("}\n");
  lt_mutator_free(m);
  lt_mutator_free(check);
  for (size_t i = 0; i < npool; i++)
    free(pool[i]);
  return 0;
}
