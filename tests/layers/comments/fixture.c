/* A header comment on line 1 belongs to the file, not to the function below. */
int header_only(void) { return 0; }

#include <stddef.h>

/* A commented one-line definition. */
int one_liner(void) { return 1; }
int one_liner_next(void) { return 2; }

/* A multi-line signature with the return type on its own line. */
const char *
multi_line_ok(int a,
              int b)
{
  return a > b ? "{" : "}"; /* braces in literals and comments: { */
}

const char *
multi_line_missing(int a,
                   int b) {
  return a < b ? "{" : "}";
}

/* The comment goes above the LT_MUST_CHECK line. */
LT_MUST_CHECK
int must_check_ok(void **out) {
  *out = NULL;
  return 0;
}

LT_MUST_CHECK int must_check_missing(void **out) {
  *out = NULL;
  return 0;
}

/* DxgkDdiDestroyAllocation in WDK style: annotations, the calling
 * convention and the name on their own lines. */
_Use_decl_annotations_
NTSTATUS
APIENTRY
RdDestroyAllocation(
    CONST HANDLE hAdapter,
    CONST DXGKARG_DESTROYALLOCATION *pDestroy)
{
  UNREFERENCED_PARAMETER(hAdapter);
  UNREFERENCED_PARAMETER(pDestroy);
  return STATUS_SUCCESS;
}

_IRQL_requires_max_(PASSIVE_LEVEL)
NTSTATUS APIENTRY RdCloseAllocation(CONST HANDLE hDevice, CONST DXGKARG_CLOSEALLOCATION *pClose)
{
  return STATUS_SUCCESS;
}

_Use_decl_annotations_
static NTSTATUS APIENTRY RdStaticHelper(HANDLE h) { return STATUS_SUCCESS; }

static inline int static_inline_helper(void) { return 0; }

static int table[] = {1, 2, 3}; /* a trailing comment belongs to the table */
int after_trailing_comment(void) { return table[0]; }

/* The comment of a table, not of the function that follows it. */
static const struct { int a; } pairs[] = {{1}, {2}};
int after_table(void) { return pairs[0].a; }

/* A comment separated by a blank line heads a section, not a function. */

int after_blank(void) { return 0; }

/* ---------------------------------------------------------------------- */
int after_divider(void) { return 0; }

int x; /* a comment that starts after code
        * and ends on the line above */
int after_code_comment(void) { return x; }

struct point { int x, y; };
struct point *point_of(void) { return NULL; }

/* Returns a struct pointer; the leading `struct` does not hide it. */
struct point *point_ok(void) { return NULL; }

/* Conditional compilation may stand between a comment and its function. */
#ifdef LT_DEBUG
void debug_only(void) {}
#endif

#ifdef LT_DEBUG
/* Or the comment inside the conditional. */
void debug_only_inside(void) {}
#endif

/* Attributes after the parameter list. */
void attr_after(void) __attribute__((noreturn)) { for (;;) {} }

int (*returns_fn_missing(int k))(int) { return NULL; }

// A run of line comments
// is a comment too.
int line_comments_ok(void) { return 0; }

void calls_inside(void) {
  if (one_liner()) {
    (void)header_only();
  }
}

/* alloc_destroy: DxgkDdiDestroyAllocation for 0..N allocations; checks G1
 * before the call and M1/M2 after it. */
void lt__op_named(lt_replay *r, const lt_event *ev) { (void)r; (void)ev; }

/* An engine op whose comment names neither its DDI nor its rules. */
void lt__op_vague(lt_replay *r, const lt_event *ev) { (void)r; (void)ev; }
