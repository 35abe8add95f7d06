/* Reader for `tracerpt x.etl -of XML` exports, on expat.
 *
 * <Events><Event xmlns="…"><System><Provider Name=… Guid=…/><EventID>…
 * <Version>…<Task>…<Opcode>…<TimeCreated SystemTime=…/><Execution
 * ProcessID=… ThreadID=…/>…</System><EventData><Data Name="f">v</Data>…
 * </EventData><RenderingInfo>…</RenderingInfo></Event>…</Events>
 *
 * Each <Event> is one record; its line is the line of its start tag. Only the
 * text of the elements used is collected, into one arena reused per record,
 * so the parse runs near expat's own speed in constant memory. Under
 * keep-going a well-formedness error skips to the next "<Event" and parsing
 * restarts there with a fresh parser.
 */
#include <expat.h>
#include <string.h>

#include "import_internal.h"

#define MAX_RECORD_TEXT (16u * 1024u * 1024u)

enum { T_NONE, T_ID, T_VERSION, T_TASK, T_OPCODE, T_DATA };
enum { SEC_NONE, SEC_SYSTEM, SEC_DATA, SEC_USERDATA, SEC_OTHER };

struct span {
  size_t off, len;
};

struct xml {
  lt_import *imp;
  XML_Parser p;
  lt_diag *diag;
  int err; /* error raised inside a handler */
  uint64_t records, line_base, byte_base, chunk_start;
  /* the record being parsed */
  int in_event, section, collect, ev_depth, depth, too_big;
  lt__buf arena;
  struct span prov, num[4], cur;
  int is_dxg, has_ts;
  uint64_t ts_ns, tid, line, offset;
  const char *bad; /* a System attribute that does not parse, or NULL */
  char badval[64];
  struct span *fname, *fval;
  size_t nf, capf;
  const char **names, **vals;
  size_t *nlens, *vlens;
  size_t capp;
  /* keep-going resynchronization */
  int resync, match;
  uint64_t resync_line;
};

static const char *arena_at(struct xml *x, struct span s) { return x->arena.s + s.off; }

static int arena_add(struct xml *x, const char *s, size_t n, struct span *out) {
  if (x->arena.n + n > MAX_RECORD_TEXT) {
    x->too_big = 1;
    out->off = x->arena.n;
    out->len = 0;
    return 0;
  }
  out->off = x->arena.n;
  out->len = n;
  return lt__buf_append(&x->arena, s, n);
}

static void fail(struct xml *x, int rc) {
  if (!x->err)
    x->err = rc;
  XML_StopParser(x->p, XML_FALSE);
}

static const char *attr(const XML_Char **atts, const char *name) {
  for (; atts[0]; atts += 2)
    if (!strcmp(atts[0], name))
      return atts[1];
  return NULL;
}

static void begin_event(struct xml *x) {
  x->in_event = 1;
  x->ev_depth = x->depth;
  x->section = SEC_NONE;
  x->collect = T_NONE;
  x->arena.n = 0;
  x->too_big = 0;
  x->nf = 0;
  x->is_dxg = 0;
  x->has_ts = 0;
  x->tid = 0;
  x->bad = NULL;
  memset(&x->prov, 0, sizeof x->prov);
  memset(x->num, 0, sizeof x->num);
  x->line = XML_GetCurrentLineNumber(x->p) + x->line_base;
  x->offset = (uint64_t)XML_GetCurrentByteIndex(x->p) + x->byte_base;
  x->records++;
}

/* Notes the first System attribute of the record that does not parse: the
 * record is malformed rather than imported without its time or thread. */
static void bad_attr(struct xml *x, const char *what, const char *v) {
  if (x->bad)
    return;
  x->bad = what;
  snprintf(x->badval, sizeof x->badval, "%s", v);
}

static void system_attrs(struct xml *x, const char *el, const XML_Char **atts) {
  const char *v;
  if (!strcmp(el, "Provider")) {
    const char *name = attr(atts, "Name"), *guid = attr(atts, "Guid");
    if (name && lt__eq_ci(name, strlen(name), LT__DXGKRNL_NAME))
      x->is_dxg = 1;
    if (guid && lt__eq_ci(guid, strlen(guid), LT__DXGKRNL_GUID))
      x->is_dxg = 1;
    const char *show = name ? name : guid;
    if (show && arena_add(x, show, strlen(show), &x->prov))
      fail(x, LT_ENOMEM);
  } else if (!strcmp(el, "TimeCreated")) {
    if ((v = attr(atts, "SystemTime")) && *v && lt__parse_iso_time(v, strlen(v), &x->ts_ns))
      bad_attr(x, "TimeCreated SystemTime", v);
    else if (v && *v)
      x->has_ts = 1;
  } else if (!strcmp(el, "Execution")) {
    if ((v = attr(atts, "ThreadID")) && *v && lt__parse_u64(v, strlen(v), &x->tid))
      bad_attr(x, "Execution ThreadID", v);
  } else if (!strcmp(el, "EventID")) {
    x->collect = T_ID;
  } else if (!strcmp(el, "Version")) {
    x->collect = T_VERSION;
  } else if (!strcmp(el, "Task")) {
    x->collect = T_TASK;
  } else if (!strcmp(el, "Opcode")) {
    x->collect = T_OPCODE;
  }
  if (x->collect != T_NONE)
    x->cur.off = x->arena.n, x->cur.len = 0;
}

static void begin_field(struct xml *x, const char *name) {
  if (x->nf == x->capf) {
    size_t cap = x->capf ? x->capf * 2 : 64;
    struct span *fn = lt_realloc(x->fname, cap * sizeof *fn);
    if (!fn)
      return fail(x, LT_ENOMEM);
    x->fname = fn;
    struct span *fv = lt_realloc(x->fval, cap * sizeof *fv);
    if (!fv)
      return fail(x, LT_ENOMEM);
    x->fval = fv;
    x->capf = cap;
  }
  if (arena_add(x, name, strlen(name), &x->fname[x->nf]))
    return fail(x, LT_ENOMEM);
  x->fval[x->nf].off = x->arena.n;
  x->fval[x->nf].len = 0;
  x->nf++;
  x->collect = T_DATA;
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **atts) {
  struct xml *x = ud;
  x->depth++;
  if (!x->in_event) {
    if (!strcmp(el, "Event"))
      begin_event(x);
    return;
  }
  int rel = x->depth - x->ev_depth;
  if (rel == 1) {
    x->section = !strcmp(el, "System")      ? SEC_SYSTEM
                 : !strcmp(el, "EventData") ? SEC_DATA
                 : !strcmp(el, "UserData")  ? SEC_USERDATA
                                            : SEC_OTHER;
  } else if (rel == 2 && x->section == SEC_SYSTEM) {
    system_attrs(x, el, atts);
  } else if (rel == 2 && x->section == SEC_DATA && !strcmp(el, "Data")) {
    const char *name = attr(atts, "Name");
    begin_field(x, name ? name : "");
  } else if (rel >= 3 && x->section == SEC_USERDATA) {
    begin_field(x, el); /* <UserData><Wrapper><Field>v</Field>… */
  }
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len) {
  struct xml *x = ud;
  if (x->collect == T_NONE)
    return;
  struct span tmp;
  if (arena_add(x, s, (size_t)len, &tmp))
    return fail(x, LT_ENOMEM);
  if (x->collect == T_DATA)
    x->fval[x->nf - 1].len += tmp.len;
  else
    x->cur.len += tmp.len;
}

static int num(struct xml *x, int which) {
  uint64_t v;
  if (x->num[which].len == 0 || lt__parse_u64(arena_at(x, x->num[which]), x->num[which].len, &v) ||
      v > 0xffff)
    return -1;
  return (int)v;
}

static int pointers(struct xml *x) {
  if (x->nf <= x->capp)
    return 0;
  size_t cap = x->nf;
  const char **n = lt_realloc(x->names, cap * sizeof *n);
  if (!n)
    return LT_ENOMEM;
  x->names = n;
  const char **v = lt_realloc(x->vals, cap * sizeof *v);
  if (!v)
    return LT_ENOMEM;
  x->vals = v;
  size_t *nl = lt_realloc(x->nlens, cap * sizeof *nl);
  if (!nl)
    return LT_ENOMEM;
  x->nlens = nl;
  size_t *vl = lt_realloc(x->vlens, cap * sizeof *vl);
  if (!vl)
    return LT_ENOMEM;
  x->vlens = vl;
  x->capp = cap;
  return 0;
}

/* A kernel Process record (MSNT_SystemTrace) names a pid's image. */
static void sniff_process(struct xml *x) {
  int pid_i = -1, img_i = -1;
  for (size_t i = 0; i < x->nf; i++) {
    if (lt__eq_ci(x->names[i], x->nlens[i], "ProcessId"))
      pid_i = (int)i;
    else if (lt__eq_ci(x->names[i], x->nlens[i], "ImageFileName"))
      img_i = (int)i;
  }
  uint64_t pid;
  if (pid_i >= 0 && img_i >= 0 && !lt__parse_u64(x->vals[pid_i], x->vlens[pid_i], &pid)) {
    const char *s = x->vals[img_i];
    size_t n = x->vlens[img_i];
    lt__trim(&s, &n);
    lt__import_process_name(x->imp, pid, s, n);
  }
}

static void end_event(struct xml *x) {
  x->in_event = 0;
  int rc;
  uint64_t rec = x->records - 1;
  if (x->too_big) {
    rc = lt__import_malformed(x->imp, 1, rec, x->line, x->offset, x->diag,
                              "record text exceeds %u bytes", MAX_RECORD_TEXT);
    if (rc)
      fail(x, rc);
    return;
  }
  if ((rc = pointers(x)))
    return fail(x, rc);
  for (size_t i = 0; i < x->nf; i++) {
    x->names[i] = arena_at(x, x->fname[i]);
    x->nlens[i] = x->fname[i].len;
    x->vals[i] = arena_at(x, x->fval[i]);
    x->vlens[i] = x->fval[i].len;
  }
  struct lt__rec r = {0};
  r.record = rec;
  r.line = x->line;
  r.offset = x->offset;
  r.is_dxg = x->is_dxg;
  r.provider = x->prov.len ? arena_at(x, x->prov) : NULL;
  r.provider_len = x->prov.len;
  r.id = num(x, 0);
  r.version = num(x, 1);
  r.task = num(x, 2);
  r.opcode = num(x, 3);
  r.has_ts = x->has_ts;
  r.ts_ns = x->ts_ns;
  r.tid = x->tid;
  r.n = x->nf;
  r.names = x->names;
  r.name_lens = x->nlens;
  r.vals = x->vals;
  r.val_lens = x->vlens;
  if (x->bad) {
    rc = lt__import_malformed(x->imp, 1, rec, x->line, x->offset, x->diag,
                              "%s '%s' does not parse", x->bad, x->badval);
  } else if (x->is_dxg && (r.id < 0 || r.version < 0)) {
    rc = lt__import_malformed(x->imp, 1, rec, x->line, x->offset, x->diag,
                              "DxgKrnl record without a numeric EventID and Version");
  } else {
    if (!x->is_dxg)
      sniff_process(x);
    rc = lt__import_record(x->imp, &r, x->diag);
  }
  if (rc)
    fail(x, rc);
}

static void XMLCALL on_end(void *ud, const XML_Char *el) {
  struct xml *x = ud;
  (void)el;
  if (x->in_event) {
    int rel = x->depth - x->ev_depth;
    if (x->collect >= T_ID && x->collect <= T_OPCODE && rel == 2)
      x->num[x->collect - T_ID] = x->cur;
    if (x->collect != T_NONE && (rel == 2 || x->section == SEC_USERDATA))
      x->collect = T_NONE;
    if (rel == 1)
      x->section = SEC_NONE;
    if (rel == 0) {
      x->depth--;
      end_event(x);
      return;
    }
  }
  x->depth--;
}

static int make_parser(struct xml *x) {
  if (x->p)
    XML_ParserFree(x->p);
  x->p = XML_ParserCreate(NULL);
  if (!x->p)
    return LT_ENOMEM;
  XML_SetUserData(x->p, x);
  XML_SetElementHandler(x->p, on_start, on_end);
  XML_SetCharacterDataHandler(x->p, on_text);
  x->depth = 0;
  x->in_event = 0;
  return 0;
}

/* Makes the tracerpt XML reader (an expat parser) for imp; LT_ENOMEM. */
int lt__xml_new(void **st, lt_import *imp) {
  struct xml *x = lt_calloc(1, sizeof *x);
  if (!x)
    return LT_ENOMEM;
  x->imp = imp;
  int rc = make_parser(x);
  if (rc) {
    lt_free(x);
    return rc;
  }
  *st = x;
  return 0;
}

/* Frees the XML reader and its parser; NULL is a no-op. */
void lt__xml_free(void *st) {
  struct xml *x = st;
  if (!x)
    return;
  if (x->p)
    XML_ParserFree(x->p);
  lt__buf_reset(&x->arena);
  lt_free(x->fname);
  lt_free(x->fval);
  lt_free(x->names);
  lt_free(x->vals);
  lt_free(x->nlens);
  lt_free(x->vlens);
  lt_free(x);
}

/* A well-formedness error: fail, or (keep-going) count the record and look
 * for the next "<Event" after the error. Returns the bytes of buf consumed
 * before the resync point is searched from. */
static int xml_error(struct xml *x, const char *buf, size_t len, size_t *resume) {
  uint64_t line = XML_GetCurrentLineNumber(x->p) + x->line_base;
  uint64_t at = (uint64_t)XML_GetCurrentByteIndex(x->p) + x->byte_base;
  uint64_t rec = x->in_event ? x->records - 1 : x->records;
  int rc = lt__import_malformed(x->imp, x->in_event, rec, line, at, x->diag, "XML: %s",
                                XML_ErrorString(XML_GetErrorCode(x->p)));
  if (rc)
    return rc;
  x->resync = 1;
  x->match = 0;
  x->resync_line = line;
  *resume = at + 1 > x->chunk_start ? (size_t)(at + 1 - x->chunk_start) : 0;
  if (*resume > len)
    *resume = len;
  (void)buf;
  return 0;
}

static int parse(struct xml *x, const char *buf, size_t len, int final, lt_diag *diag);

/* Scans for "<Event" + blank/'>' and restarts the parser there. */
static int resync(struct xml *x, const char *buf, size_t len, int final, lt_diag *diag) {
  static const char pat[] = "<Event";
  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    if (x->match == 6) {
      if (c == ' ' || c == '>' || c == '\t' || c == '\r' || c == '\n' || c == '/') {
        int rc = make_parser(x);
        if (rc)
          return rc;
        x->resync = 0;
        x->line_base = x->resync_line - 1;
        x->byte_base = x->chunk_start + i - 6 - 8;
        if (XML_Parse(x->p, "<Events><Event", 14, 0) == XML_STATUS_ERROR)
          return LT_EINTERNAL;
        x->chunk_start += i;
        return parse(x, buf + i, len - i, final, diag);
      }
      x->match = 0;
    }
    if (c == '\n')
      x->resync_line++;
    x->match = c == pat[x->match] ? x->match + 1 : (c == '<' ? 1 : 0);
  }
  x->chunk_start += len;
  return 0;
}

static int parse(struct xml *x, const char *buf, size_t len, int final, lt_diag *diag) {
  x->diag = diag;
  if (x->resync)
    return final && len == 0 ? 0 : resync(x, buf, len, final, diag);
  uint64_t start = x->chunk_start;
  if (XML_Parse(x->p, buf, (int)len, final) != XML_STATUS_ERROR) {
    x->chunk_start = start + len;
    return 0;
  }
  if (x->err)
    return x->err;
  size_t resume = 0;
  int rc = xml_error(x, buf, len, &resume);
  if (rc)
    return rc;
  x->chunk_start = start + resume;
  return resync(x, buf + resume, len - resume, final, diag);
}

/* Feeds XML bytes to the parser in pieces of at most 1 GiB, since XML_Parse
 * takes an int length; each complete Event element becomes one record. */
int lt__xml_feed(void *st, const char *buf, size_t len, lt_diag *diag) {
  struct xml *x = st;
  /* XML_Parse takes an int length. */
  while (len > (1u << 30)) {
    int rc = parse(x, buf, 1u << 30, 0, diag);
    if (rc)
      return rc;
    buf += 1u << 30;
    len -= 1u << 30;
  }
  return parse(x, buf, len, 0, diag);
}

/* Ends the XML input; LT_ECORRUPT when the document is not complete. */
int lt__xml_finish(void *st, lt_diag *diag) {
  struct xml *x = st;
  return parse(x, "", 0, 1, diag);
}
