/* lifetrace — parsing a command's options from its one table (lt__opt), its
 * help text, and the messages of a wrong option: which one, and the closest
 * option the command has (edit distance). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const lt__opt help_opt = {"help", 'h', 'h', NULL, "show this help"};

static size_t n_opts(const lt__cmd *cmd) {
  size_t n = 0;
  while (cmd->opts && cmd->opts[n].name)
    n++;
  return n;
}

/* Builds the getopt tables: every option of the table, then --help/-h. The
 * short string starts with ':' so that a missing argument is told apart. */
static int build(lt__getopt *g) {
  size_t n = n_opts(g->cmd), k = 1;
  if (n > LT__MAX_OPTS)
    return -1;
  g->so[0] = ':';
  for (size_t i = 0; i <= n; i++) {
    const lt__opt *o = i < n ? &g->cmd->opts[i] : &help_opt;
    g->lo[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
    if (o->short_name && k + 3 < sizeof g->so) {
      g->so[k++] = o->short_name;
      if (o->arg)
        g->so[k++] = ':';
    }
  }
  g->so[k] = 0;
  return 0;
}

/* Starts parsing with cmd's table; getopt's own messages are replaced by
 * lt__getopt_next's. See commands.h. */
void lt__getopt_init(lt__getopt *g, const lt__cmd *cmd) {
  memset(g, 0, sizeof *g);
  g->cmd = cmd;
  optind = 1;
  opterr = 0;
}

/* Levenshtein distance of a and b (each at most 63 characters are
 * compared), one row at a time. See commands.h. */
size_t lt__edit_distance(const char *a, const char *b) {
  size_t la = strnlen(a, 63), lb = strnlen(b, 63), row[64];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* The option of the table nearest to the word given (without its dashes
 * and any "=value"), when it is near enough to be a typo. */
static const lt__opt *closest(const lt__cmd *cmd, const char *given) {
  char word[64];
  const lt__opt *best = NULL;
  size_t bd = (size_t)-1, n = n_opts(cmd);
  while (*given == '-')
    given++;
  snprintf(word, sizeof word, "%.*s", (int)strcspn(given, "="), given);
  for (size_t i = 0; i <= n; i++) {
    const lt__opt *o = i < n ? &cmd->opts[i] : &help_opt;
    size_t d = lt__edit_distance(word, o->name);
    if (d < bd)
      bd = d, best = o;
  }
  return bd <= 2 + strlen(word) / 4 ? best : NULL;
}

static const lt__opt *by_key(const lt__cmd *cmd, int key) {
  for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++)
    if (cmd->opts[i].key == key)
      return &cmd->opts[i];
  return NULL;
}

/* Says what is wrong with the option just read and what was meant. */
static int bad_option(lt__getopt *g, int c, char **argv) {
  const char *given = argv[optind - 1], *name = g->cmd->name;
  const lt__opt *o;
  if (c == ':' && (o = by_key(g->cmd, optopt)) != NULL) {
    fprintf(stderr, "lifetrace %s: option --%s needs an argument (%s)\n", name, o->name, o->arg);
  } else if (optopt && strncmp(given, "--", 2)) {
    fprintf(stderr, "lifetrace %s: unknown option '-%c'\n", name, optopt);
  } else {
    fprintf(stderr, "lifetrace %s: unknown option '%s'", name, given);
    if ((o = closest(g->cmd, given)) != NULL)
      fprintf(stderr, "; did you mean '--%s'?", o->name);
    fputc('\n', stderr);
  }
  fprintf(stderr, "Run 'lifetrace help %s' for its options.\n", name);
  return LT__OPT_BAD;
}

/* The next option of argv by the command's table; see commands.h. */
int lt__getopt_next(lt__getopt *g, int argc, char **argv) {
  int c;
  if (!g->built && build(g)) {
    fprintf(stderr, "lifetrace %s: more than %d options\n", g->cmd->name, LT__MAX_OPTS);
    return LT__OPT_BAD;
  }
  g->built = 1;
  c = getopt_long(argc, argv, g->so, g->lo, NULL);
  if (c == 'h') {
    lt__cmd_help(g->cmd, stdout);
    return LT__OPT_HELP;
  }
  if (c == '?' || c == ':')
    return bad_option(g, c, argv);
  return c;
}

/* 0 after --help, 2 after a wrong option. See commands.h. */
int lt__getopt_exit(int c) { return c == LT__OPT_HELP ? LT_EXIT_OK : LT_EXIT_USAGE; }

static void wrapped(FILE *out, const char *text, int indent) {
  for (const char *p = text; *p; p++) {
    fputc(*p, out);
    if (*p == '\n' && p[1])
      fprintf(out, "%*s", indent, "");
  }
}

static void opt_line(FILE *out, const lt__opt *o) {
  char left[64];
  char sh[5] = "    ";
  if (o->short_name)
    snprintf(sh, sizeof sh, "-%c, ", o->short_name);
  int n = snprintf(left, sizeof left, "%s--%s%s%s", sh, o->name, o->arg ? " " : "",
                   o->arg ? o->arg : "");
  fprintf(out, "  %s", left);
  if (n >= 24)
    fprintf(out, "\n%*s", 26, "");
  else
    fprintf(out, "%*s", 24 - n, "");
  wrapped(out, o->help, 26);
  fputc('\n', out);
}

/* Writes the command's help, made from its table; see commands.h. */
void lt__cmd_help(const lt__cmd *cmd, FILE *out) {
  fprintf(out, "usage: lifetrace %s [OPTIONS]%s%s\n\n", cmd->name, cmd->args ? " " : "",
          cmd->args ? cmd->args : "");
  if (cmd->about)
    fprintf(out, "%s\n\n", cmd->about);
  fputs("options:\n", out);
  for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++)
    opt_line(out, &cmd->opts[i]);
  opt_line(out, &help_opt);
  if (cmd->exits)
    fprintf(out, "\nexit: %s\n", cmd->exits);
}

/* Prints a usage error in the one form every command uses; see commands.h. */
int lt__usage_error(const lt__cmd *cmd, const char *why) {
  fprintf(stderr, "lifetrace %s: %s\nusage: lifetrace %s [OPTIONS]%s%s\n"
                  "Run 'lifetrace help %s' for its options.\n",
          cmd->name, why, cmd->name, cmd->args ? " " : "", cmd->args ? cmd->args : "",
          cmd->name);
  return LT_EXIT_USAGE;
}

/* The one wording of a missing input file; see commands.h. */
int lt__no_such_file(const char *cmd, const char *path, const char *what) {
  fprintf(stderr, "lifetrace %s: %s: no such %s\n", cmd, path, what ? what : "file");
  return LT_EXIT_INPUT;
}
