/* lifetrace — a standalone driver for the fuzz targets: runs each file given
 * on the command line, and each regular file under each directory given
 * (recursively, in name order), through LLVMFuzzerTestOneInput once. No
 * fuzzing: it replays a seed corpus and the saved crash reproducers, so a
 * fixed crash stays fixed in CI (the dev build links every target with it;
 * docs/fuzzing.md).
 *
 *   fuzz_read_jsonl [-suffix=.jsonl] DIR... [-suffix=] FILE-OR-DIR...
 *
 * -suffix=S keeps only the files named *S in the directories that follow it
 * (files named on the command line always run; "-suffix=" clears it). Other
 * arguments starting with '-' are libFuzzer flags and are ignored. A crash
 * is the sanitizer's report and exit; the driver itself fails (exit 1) when
 * an input cannot be read or when no input was run at all.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char *suffix = "";
static unsigned long runs, failures;

static int wanted(const char *name) {
  size_t n = strlen(name), m = strlen(suffix);
  return name[0] != '.' && n >= m && !strcmp(name + n - m, suffix);
}

static void run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  long n = -1;
  if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
    buf = malloc((size_t)n + 1); /* an exact-size copy: ASan sees any overread */
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "standalone: cannot read %s\n", path);
    failures++;
  } else {
    fprintf(stderr, "standalone: %s (%ld bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    runs++;
  }
  free(buf);
  if (f)
    fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_path(const char *path, int top) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "standalone: no such file or directory: %s\n", path);
    failures++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (top || wanted(strrchr(path, '/') ? strrchr(path, '/') + 1 : path))
      run_file(path);
    return;
  }
  struct dirent **ents = NULL;
  int n = scandir(path, &ents, NULL, by_name);
  for (int i = 0; i < n; i++) {
    char *sub = NULL;
    if (ents[i]->d_name[0] != '.' && asprintf(&sub, "%s/%s", path, ents[i]->d_name) > 0)
      run_path(sub, 0);
    free(sub);
    free(ents[i]);
  }
  free(ents);
}

/* Runs every input named on the command line through LLVMFuzzerTestOneInput
 * once; exits 1 when an input cannot be read or none was run. */
int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "-suffix=", 8))
      suffix = argv[i] + 8;
    else if (argv[i][0] != '-')
      run_path(argv[i], 1);
  }
  printf("standalone: %lu inputs run, %lu unreadable\n", runs, failures);
  return failures || runs == 0 ? 1 : 0;
}
