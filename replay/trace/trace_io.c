/* Trace readers and writers for every form (see trace.h and
 * docs/trace-format.md).
 *
 * A reader turns a file descriptor into one byte stream (decompressing zstd
 * on the way), detects the form from the content, and decodes one record at
 * a time from a large buffer: memory stays constant however long the trace
 * is, and a record never costs a system call. Every length prefix is checked
 * against LT_TRACE_MAX_MESSAGE and against the bytes left before anything is
 * allocated for it, so no input makes the reader allocate more than about
 * that limit.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "trace_io.h"
#include "varint.h"

#define READ_BUFFER (1u << 20)
#define WRITE_BUFFER (1u << 20)
/* Largest zstd window a reader accepts (2^27 = 128 MiB, zstd's own default). */
#define ZSTD_WINDOW_LOG_MAX 27
/* How far the form detection looks for the first non-blank byte. */
#define DETECT_SCAN 4096

static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

/* Tripwires: set while a reader or writer is alive, checked at entry points
 * (assert, so debug builds only), cleared when it is freed. */
#define READER_MAGIC 0x4c545244u /* "LTRD" */
#define WRITER_MAGIC 0x4c545752u /* "LTWR" */
#define DEAD_MAGIC 0xdeadbeefu
#define READER_CHECK(r) assert((r) != NULL && (r)->magic == READER_MAGIC)
#define WRITER_CHECK(w) assert((w) != NULL && (w)->magic == WRITER_MAGIC)

/* Tags of the two fields of a Trace message (fuzz form). */
#define TRACE_TAG_HEADER 0x0a
#define TRACE_TAG_EVENT 0x12

/* Per-event memory of the binary reader. protobuf-c takes an event's parts
 * from one chunk by bumping an offset, and the next read drops the whole event
 * by resetting it: no malloc and free per part, no walk to free them. Parts
 * that do not fit come from lt_malloc and are freed at the reset. All of it is
 * lt_malloc memory, so tests still count and fail it. */
#define ARENA_CHUNK (64u * 1024u)

struct arena_big {
  struct arena_big *next;
  uint64_t pad; /* keeps what follows 16-byte aligned */
};

struct arena {
  uint8_t *chunk;
  size_t used;
  struct arena_big *big;
};

struct lt_reader {
  uint32_t magic;
  int fd, own_fd;
  uint64_t size;    /* of a regular file, else 0 */
  uint64_t raw;     /* bytes read from fd */
  int fd_eof;
  uint8_t *in;      /* raw bytes: the first peek, then zstd's input */
  size_t in_pos, in_len, in_cap;
  ZSTD_DStream *zs; /* non-NULL for zstd input */
  size_t zret;      /* last ZSTD_decompressStream result: 0 = frame complete */
  uint8_t *buf;     /* the (decompressed) byte stream: buf[pos..end) unread */
  size_t cap, pos, end, limit;
  uint64_t base;    /* stream offset of buf[0] */
  int eof;          /* no bytes after end */
  int format, strict;
  int generic;      /* LT_TRACE_GENERIC_UNPACK set: protobuf-c only */
  lt_header *hdr;
  int own_hdr;
  lt_event *ev;     /* the event last returned (binary: in the arena; JSONL) */
  struct arena arena;
  ProtobufCAllocator arena_allocator;
  lt_trace *fuzz;   /* the whole trace (fuzz form) */
  uint64_t count;   /* events returned */
  uint64_t line;    /* JSONL lines consumed */
  int err;          /* sticky: once failed, always failed */
  lt_diag diag;
};

/* ---- errors --------------------------------------------------------------- */

static int64_t cur_record(const lt_reader *r) { return r->hdr ? (int64_t)r->count : -1; }

static int rerr(lt_reader *r, int code, uint64_t off, const char *fmt, ...) LT_PRINTF(4, 5);

/* Records a read error at stream offset off for the record being read. */
static int rerr(lt_reader *r, int code, uint64_t off, const char *fmt, ...) {
  va_list ap;

  r->diag.offset = off;
  r->diag.line = r->format == LT_FORMAT_JSONL ? r->line : 0;
  r->diag.record = cur_record(r);
  va_start(ap, fmt);
  vsnprintf(r->diag.msg, sizeof r->diag.msg, fmt, ap);
  va_end(ap);
  r->err = code;
  return code;
}

/* ---- per-event memory ----------------------------------------------------- */

static void *arena_alloc(void *data, size_t size) {
  struct arena *a = data;
  size_t n = (size + 15) & ~(size_t)15;
  struct arena_big *b;

  if (n >= size && a->used + n <= ARENA_CHUNK) {
    void *p = a->chunk + a->used;
    a->used += n;
    return p;
  }
  b = lt_malloc(sizeof *b + size);
  if (b == NULL)
    return NULL;
  b->next = a->big;
  a->big = b;
  return b + 1;
}

static void arena_free(void *data, void *p) {
  (void)data;
  (void)p; /* everything goes at the next reset */
}

static void arena_reset(struct arena *a) {
  while (a->big) {
    struct arena_big *next = a->big->next;
    lt_free(a->big);
    a->big = next;
  }
  a->used = 0;
}

static int arena_init(lt_reader *r) {
  r->arena.chunk = lt_malloc(ARENA_CHUNK);
  r->arena_allocator = (ProtobufCAllocator){arena_alloc, arena_free, &r->arena};
  return r->arena.chunk ? 0 : LT_ENOMEM;
}

/* ---- the byte stream ------------------------------------------------------ */

static int fd_read(lt_reader *r, uint8_t *dst, size_t n, size_t *got) {
  ssize_t k;

  *got = 0;
  if (r->fd_eof || n == 0)
    return 0;
  do
    k = read(r->fd, dst, n);
  while (k < 0 && errno == EINTR);
  if (k < 0)
    return rerr(r, LT_EIO, r->base + r->end, "read failed: %s", strerror(errno));
  if (k == 0)
    r->fd_eof = 1;
  r->raw += (uint64_t)k;
  *got = (size_t)k;
  return 0;
}

/* Appends raw bytes: the peeked ones first, then straight from the fd. */
static int produce_raw(lt_reader *r) {
  size_t room = r->cap - r->end, got;
  int rc;

  if (r->in_pos < r->in_len) {
    got = r->in_len - r->in_pos < room ? r->in_len - r->in_pos : room;
    memcpy(r->buf + r->end, r->in + r->in_pos, got);
    r->in_pos += got;
    r->end += got;
    return 0;
  }
  rc = fd_read(r, r->buf + r->end, room, &got);
  r->end += got;
  if (rc == 0 && got == 0)
    r->eof = 1;
  return rc;
}

/* Appends decompressed bytes (at least one, or reaches the end). */
static int produce_zstd(lt_reader *r) {
  ZSTD_outBuffer out = {r->buf + r->end, r->cap - r->end, 0};
  int rc;

  for (;;) {
    if (r->in_pos == r->in_len && !r->fd_eof) {
      rc = fd_read(r, r->in, r->in_cap, &r->in_len);
      r->in_pos = 0;
      if (rc)
        return rc;
    }
    ZSTD_inBuffer in = {r->in, r->in_len, r->in_pos};
    size_t ret = ZSTD_decompressStream(r->zs, &out, &in);
    if (ZSTD_isError(ret))
      return rerr(r, LT_ECORRUPT, r->base + r->end + out.pos, "zstd: %s",
                  ZSTD_getErrorName(ret));
    if (in.pos > r->in_pos || out.pos > 0)
      r->zret = ret; /* an idle call after a frame hints at the next one */
    r->in_pos = in.pos;
    if (out.pos > 0)
      break;
    if (r->in_pos == r->in_len && r->fd_eof) {
      if (r->zret != 0)
        return rerr(r, LT_ECORRUPT, r->base + r->end, "truncated zstd stream");
      r->eof = 1;
      break;
    }
  }
  r->end += out.pos;
  return 0;
}

static void compact(lt_reader *r) {
  if (r->pos == 0)
    return;
  memmove(r->buf, r->buf + r->pos, r->end - r->pos);
  r->base += r->pos;
  r->end -= r->pos;
  r->pos = 0;
}

/* Doubles the buffer, up to the reader's limit. */
static int grow(lt_reader *r) {
  size_t cap = r->cap * 2 < r->limit ? r->cap * 2 : r->limit;
  uint8_t *p;

  if (cap <= r->cap)
    return rerr(r, LT_EINTERNAL, r->base + r->pos, "read buffer limit exceeded");
  p = lt_realloc(r->buf, cap);
  if (p == NULL)
    return rerr(r, LT_ENOMEM, r->base + r->pos, "out of memory");
  r->buf = p;
  r->cap = cap;
  return 0;
}

/* Makes at least need bytes available at buf[pos], unless the stream ends
 * first (callers check end - pos). The buffer grows only when it is full of
 * unread bytes, so a record that claims more than the input holds costs no
 * more memory than the input. */
static int fill(lt_reader *r, size_t need) {
  int rc = 0;

  while (rc == 0 && r->end - r->pos < need && !r->eof) {
    if (r->end == r->cap) {
      compact(r);
      if (r->end == r->cap)
        rc = grow(r);
    }
    if (rc == 0)
      rc = r->zs ? produce_zstd(r) : produce_raw(r);
  }
  return rc;
}

/* ---- binary records ------------------------------------------------------- */

/* Decodes the varint at buf[pos] without consuming it. */
static int get_varint(lt_reader *r, uint64_t off, const char *what, uint64_t *v, size_t *n) {
  int rc = fill(r, LT__VARINT_MAX);

  if (rc)
    return rc;
  int len = lt__varint_get(r->buf + r->pos, r->end - r->pos, v);
  if (len > 0) {
    *n = (size_t)len;
    return 0;
  }
  return rerr(r, LT_ECORRUPT, off,
              len == LT__VARINT_SHORT      ? "truncated %s"
              : len == LT__VARINT_OVERFLOW ? "%s overflows 64 bits"
                                           : "%s is longer than 10 bytes",
              what);
}

/* Reads one length-delimited message. LT_EEOF at a clean end. */
static int read_message(lt_reader *r, const ProtobufCMessageDescriptor *desc,
                        ProtobufCAllocator *alloc, void **msg) {
  uint64_t off = r->base + r->pos, len;
  size_t n;
  int rc = fill(r, 1);

  if (rc)
    return rc;
  if (r->end == r->pos)
    return r->hdr ? LT_EEOF : rerr(r, LT_ECORRUPT, off, "truncated: no trace header");
  rc = get_varint(r, off, "length prefix", &len, &n);
  if (rc)
    return rc;
  if (len > LT_TRACE_MAX_MESSAGE)
    return rerr(r, LT_ECORRUPT, off, "record length %llu exceeds the limit of %u bytes",
                (unsigned long long)len, LT_TRACE_MAX_MESSAGE);
  if (r->size && !r->zs && off + n <= r->size && len > r->size - (off + n))
    return rerr(r, LT_ECORRUPT, off, "record length %llu exceeds the %llu bytes left in the file",
                (unsigned long long)len, (unsigned long long)(r->size - (off + n)));
  rc = fill(r, n + (size_t)len);
  if (rc)
    return rc;
  if (r->end - r->pos < n + len)
    return rerr(r, LT_ECORRUPT, off, "truncated: the record needs %llu bytes, only %zu are left",
                (unsigned long long)(n + len), r->end - r->pos);
  *msg = NULL;
  if (desc == &lifetrace__event__descriptor && !r->generic)
    *msg = lt__event_decode(r->buf + r->pos + n, (size_t)len, alloc);
  if (*msg == NULL)
    *msg = protobuf_c_message_unpack(desc, alloc, (size_t)len, r->buf + r->pos + n);
  if (*msg == NULL)
    return rerr(r, LT_ECORRUPT, off, "not a valid %s message", desc->short_name);
  r->pos += n + (size_t)len;
  return 0;
}

static int open_binary(lt_reader *r, uint64_t *hdr_off) {
  uint64_t version;
  size_t n;
  int rc;

  r->pos += 4;
  rc = get_varint(r, 4, "format version", &version, &n);
  if (rc)
    return rc;
  if (version != LT_TRACE_FORMAT_VERSION)
    return rerr(r, LT_EFORMAT, 4, "unsupported format version %llu (this build reads version %u)",
                (unsigned long long)version, LT_TRACE_FORMAT_VERSION);
  r->pos += n;
  *hdr_off = r->base + r->pos;
  if (arena_init(r))
    return rerr(r, LT_ENOMEM, *hdr_off, "out of memory");
  return read_message(r, &lifetrace__trace_header__descriptor, &lt_protobuf_allocator,
                      (void **)&r->hdr);
}

/* ---- JSONL ---------------------------------------------------------------- */

/* Returns the next line (without "\n" or "\r\n"); valid until the next fill. */
static int next_line(lt_reader *r, const char **line, size_t *len, uint64_t *off) {
  size_t scanned = 0;
  int rc;

  for (;;) {
    const uint8_t *start = r->buf + r->pos, *nl;
    size_t avail = r->end - r->pos, n;

    nl = memchr(start + scanned, '\n', avail - scanned);
    if (nl || r->eof) {
      if (!nl && avail == 0)
        return LT_EEOF;
      n = nl ? (size_t)(nl - start) : avail;
      *line = (const char *)start;
      *off = r->base + r->pos;
      r->pos += nl ? n + 1 : n;
      r->line++;
      *len = n > 0 && start[n - 1] == '\r' ? n - 1 : n;
      if (*len > LT__JSONL_MAX_LINE)
        return rerr(r, LT_ECORRUPT, *off, "line longer than %u bytes", LT__JSONL_MAX_LINE);
      return 0;
    }
    if (avail > LT__JSONL_MAX_LINE + 1 && ++r->line) /* over even if it ends in "\r" */
      return rerr(r, LT_ECORRUPT, r->base + r->pos, "line longer than %u bytes",
                  LT__JSONL_MAX_LINE);
    scanned = avail;
    rc = fill(r, avail + 1);
    if (rc)
      return rc;
  }
}

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
      return 0;
  return 1;
}

/* The next non-blank line; LT_EEOF at the end. */
static int next_content_line(lt_reader *r, const char **line, size_t *len, uint64_t *off) {
  int rc;

  do
    rc = next_line(r, line, len, off);
  while (rc == 0 && blank(*line, *len));
  return rc;
}

static int open_jsonl(lt_reader *r, uint64_t *hdr_off) {
  char msg[sizeof r->diag.msg];
  const char *line;
  size_t len;
  uint64_t off;
  int rc = next_content_line(r, &line, &len, &off);

  if (rc == LT_EEOF)
    return rerr(r, LT_ECORRUPT, 0, "empty trace: no header line");
  if (rc)
    return rc;
  *hdr_off = off;
  rc = lt_jsonl_parse_header(line, len, r->strict, &r->hdr, msg, sizeof msg);
  if (rc)
    return rerr(r, rc, off, "%s", msg);
  return 0;
}

static int next_jsonl(lt_reader *r) {
  char msg[sizeof r->diag.msg];
  const char *line;
  size_t len;
  uint64_t off;
  int rc = next_content_line(r, &line, &len, &off);

  if (rc)
    return rc;
  rc = lt_jsonl_parse_event(line, len, r->strict, &r->ev, msg, sizeof msg);
  if (rc)
    return rerr(r, rc, off, "%s", msg);
  return 0;
}

/* ---- fuzz form ------------------------------------------------------------ */

static int open_fuzz(lt_reader *r) {
  int rc;

  r->limit = LT_TRACE_MAX_FUZZ_INPUT + 1;
  rc = fill(r, LT_TRACE_MAX_FUZZ_INPUT + 1);
  if (rc)
    return rc;
  if (r->end - r->pos > LT_TRACE_MAX_FUZZ_INPUT)
    return rerr(r, LT_ETOOBIG, 0, "a one-message (fuzz form) trace is limited to %u bytes",
                LT_TRACE_MAX_FUZZ_INPUT);
  r->fuzz = lt_trace_unpack(r->buf + r->pos, r->end - r->pos);
  if (r->fuzz == NULL)
    return rerr(r, LT_ECORRUPT, 0, "does not decode as a Trace message (fuzz form)");
  r->pos = r->end;
  if (r->fuzz->header) {
    r->hdr = r->fuzz->header;
    return 0;
  }
  r->hdr = lt_malloc(sizeof *r->hdr);
  if (r->hdr == NULL)
    return rerr(r, LT_ENOMEM, 0, "out of memory");
  lifetrace__trace_header__init(r->hdr);
  r->own_hdr = 1;
  return 0;
}

/* ---- opening and detection ------------------------------------------------ */

static int open_fd(lt_reader *r, const char *path) {
  struct stat st;

  if (!strcmp(path, "-")) {
    r->fd = STDIN_FILENO;
  } else {
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
      int e = errno;
      if (e == ENOENT) /* the one wording of a missing file, whatever the command */
        lt__diag_set(&r->diag, NULL, 0, 0, LT__DIAG_NOPOS, "no such file");
      else
        lt__diag_set(&r->diag, NULL, 0, 0, LT__DIAG_NOPOS, "cannot open: %s", strerror(e));
      return r->err = e == ENOENT ? LT_ENOENT : LT_EIO;
    }
    r->own_fd = 1;
  }
  if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    lt__diag_set(&r->diag, NULL, 0, 0, LT__DIAG_NOPOS, "is a directory");
    return r->err = LT_EIO;
  }
  if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t at = lseek(r->fd, 0, SEEK_CUR); /* stdin may start mid-file */
    r->size = at >= 0 && at < st.st_size ? (uint64_t)(st.st_size - at) : 0;
    (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  return 0;
}

/* Switches to decompression: zstd's input buffer, the stream, a full-size
 * output buffer (the decompressed size is unknown). */
static int start_zstd(lt_reader *r) {
  size_t in_cap = ZSTD_DStreamInSize() > READ_BUFFER / 4 ? ZSTD_DStreamInSize() : READ_BUFFER / 4;
  uint8_t *in = lt_realloc(r->in, in_cap), *buf;

  if (in == NULL)
    return rerr(r, LT_ENOMEM, 0, "out of memory");
  r->in = in;
  r->in_cap = in_cap;
  buf = lt_realloc(r->buf, READ_BUFFER);
  if (buf == NULL)
    return rerr(r, LT_ENOMEM, 0, "out of memory");
  r->buf = buf;
  r->cap = READ_BUFFER;
  r->zs = ZSTD_createDStream();
  if (r->zs == NULL)
    return rerr(r, LT_ENOMEM, 0, "out of memory");
  if (ZSTD_isError(ZSTD_DCtx_setParameter(r->zs, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX)))
    return rerr(r, LT_EINTERNAL, 0, "zstd: cannot limit the window size");
  return 0;
}

/* Reads the first 4 raw bytes; switches to decompression on zstd's magic.
 * Small files get a small buffer (fuzzers open many). */
static int open_stream(lt_reader *r) {
  size_t got;
  int rc = 0;

  r->in_cap = 4;
  r->in = lt_malloc(r->in_cap);
  r->cap = r->size && r->size < READ_BUFFER ? (size_t)r->size + 64 : READ_BUFFER;
  r->limit = LT_TRACE_MAX_MESSAGE + 16 > LT__JSONL_MAX_LINE + 2 ? LT_TRACE_MAX_MESSAGE + 16
                                                                : LT__JSONL_MAX_LINE + 2;
  r->buf = lt_malloc(r->cap);
  if (r->in == NULL || r->buf == NULL)
    return rerr(r, LT_ENOMEM, 0, "out of memory");
  while (rc == 0 && r->in_len < 4 && !r->fd_eof) {
    rc = fd_read(r, r->in + r->in_len, 4 - r->in_len, &got);
    r->in_len += got;
  }
  if (rc || r->in_len < 4 || memcmp(r->in, zstd_magic, 4))
    return rc;
  return start_zstd(r);
}

static int is_blank(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Index of the first non-blank byte at or after i, or -1. */
static long skip_blank(lt_reader *r, size_t i) {
  for (; i < DETECT_SCAN; i++) {
    if (fill(r, i + 1) || r->end - r->pos <= i)
      return -1;
    if (!is_blank(r->buf[r->pos + i]))
      return (long)i;
  }
  return -1;
}

static int detect(lt_reader *r) {
  const uint8_t *p;
  size_t avail;
  long i, j;
  int rc = fill(r, 4);

  if (rc)
    return rc;
  p = r->buf + r->pos;
  avail = r->end - r->pos;
  if (avail >= 4 && !memcmp(p, LT_TRACE_MAGIC, 4)) {
    r->format = r->zs ? LT_FORMAT_BINARY_ZSTD : LT_FORMAT_BINARY;
    return 0;
  }
  if (avail >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
    r->pos += 3; /* a UTF-8 byte order mark before JSONL */
  i = skip_blank(r, 0);
  j = i >= 0 && r->buf[r->pos + (size_t)i] == '{' ? skip_blank(r, (size_t)i + 1) : -1;
  if (r->err)
    return r->err;
  p = r->buf + r->pos;
  avail = r->end - r->pos;
  if (j >= 0 && p[j] == '"') {
    r->format = LT_FORMAT_JSONL;
  } else if (i < 0 && r->eof && avail < DETECT_SCAN) {
    return rerr(r, LT_EFORMAT, 0, "empty input: not a lifetrace trace");
  } else if (avail > 0 && (p[0] == TRACE_TAG_HEADER || p[0] == TRACE_TAG_EVENT)) {
    r->format = LT_FORMAT_FUZZ;
  } else if (i >= 0 && p[i] == '{') {
    r->format = LT_FORMAT_JSONL;
  } else {
    char bytes[16] = "";
    for (size_t k = 0; k < avail && k < 4; k++)
      snprintf(bytes + 3 * k, sizeof bytes - 3 * k, " %02x", p[k]);
    return rerr(r, LT_EFORMAT, 0,
                "not a lifetrace trace: starts with bytes%s (expected \"LTRC\", zstd, or JSONL)",
                bytes);
  }
  return 0;
}

/* The content version, checked for every form once the header is read. */
static int check_header(lt_reader *r, uint64_t off) {
  if (r->hdr->lifetrace == 0)
    r->hdr->lifetrace = 1; /* unset by the producer: version 1 */
  if (r->hdr->lifetrace == 1)
    return 0;
  rerr(r, LT_EFORMAT, off, "unsupported trace version %u (this build reads version 1)",
       r->hdr->lifetrace);
  r->diag.record = -1;
  return LT_EFORMAT;
}

/* Opens a trace in any form; see trace.h. */
int lt_reader_open(lt_reader **out, const char *path, int strict, lt_diag *diag) {
  lt_reader *r = lt_calloc(1, sizeof *r);
  uint64_t hdr_off;
  int rc;

  *out = NULL;
  if (r == NULL) {
    if (diag)
      lt__diag_set(diag, path, 0, 0, LT__DIAG_NOPOS, "out of memory");
    return LT_ENOMEM;
  }
  r->magic = READER_MAGIC;
  r->fd = -1;
  r->strict = strict;
  r->generic = getenv("LT_TRACE_GENERIC_UNPACK") != NULL;
  snprintf(r->diag.file, sizeof r->diag.file, "%s", strcmp(path, "-") ? path : "<stdin>");
  rc = open_fd(r, path);
  if (rc == 0)
    rc = open_stream(r);
  if (rc == 0)
    rc = detect(r);
  hdr_off = r->base + r->pos;
  if (rc == 0 && (r->format == LT_FORMAT_BINARY || r->format == LT_FORMAT_BINARY_ZSTD))
    rc = open_binary(r, &hdr_off);
  else if (rc == 0 && r->format == LT_FORMAT_JSONL)
    rc = open_jsonl(r, &hdr_off);
  else if (rc == 0)
    rc = open_fuzz(r);
  if (rc == 0)
    rc = check_header(r, hdr_off);
  if (rc) {
    if (diag)
      *diag = r->diag;
    lt_reader_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

/* Accessors; see trace.h. */
const lt_header *lt_reader_header(const lt_reader *r) {
  READER_CHECK(r);
  return r->hdr;
}

/* The detected form of the trace (enum lt_format); see lifetrace/trace.h. */
int lt_reader_format(const lt_reader *r) {
  READER_CHECK(r);
  return r->format;
}

/* The 0-based index of the event last returned; see lifetrace/trace.h. */
uint64_t lt_reader_index(const lt_reader *r) {
  READER_CHECK(r);
  return r->count ? r->count - 1 : 0;
}

/* The bytes read from the file so far (before decompression), for progress;
 * see lifetrace/trace.h. */
uint64_t lt_reader_bytes(const lt_reader *r) {
  READER_CHECK(r);
  return r->raw;
}

/* The file's size, 0 when unknown (a pipe), for progress; see
 * lifetrace/trace.h. */
uint64_t lt_reader_size(const lt_reader *r) {
  READER_CHECK(r);
  return r->size;
}

/* Whether the reader decompresses zstd; see lifetrace/trace.h. */
int lt_reader_compressed(const lt_reader *r) {
  READER_CHECK(r);
  return r->zs != NULL;
}

/* Reads the next event; see trace.h. The previous event is freed here. */
int lt_reader_next(lt_reader *r, const lt_event **ev, lt_diag *diag) {
  int rc;

  READER_CHECK(r);
  *ev = NULL;
  if (r->err == 0) {
    if (r->arena.chunk)
      arena_reset(&r->arena);
    else
      lt_event_free(r->ev);
    r->ev = NULL;
    if (r->format == LT_FORMAT_JSONL)
      rc = next_jsonl(r);
    else if (r->format == LT_FORMAT_FUZZ)
      rc = r->count < r->fuzz->n_events ? 0 : LT_EEOF;
    else
      rc = read_message(r, &lifetrace__event__descriptor, &r->arena_allocator, (void **)&r->ev);
    if (rc == 0) {
      *ev = r->format == LT_FORMAT_FUZZ ? r->fuzz->events[r->count] : r->ev;
      r->count++;
      return 0;
    }
    r->err = rc;
  }
  if (r->err != LT_EEOF && diag)
    *diag = r->diag;
  return r->err;
}

/* Frees the reader, its current event and header, and closes its file. */
void lt_reader_free(lt_reader *r) {
  if (r == NULL)
    return;
  READER_CHECK(r);
  r->magic = DEAD_MAGIC;
  if (r->arena.chunk)
    arena_reset(&r->arena);
  else
    lt_event_free(r->ev);
  lt_free(r->arena.chunk);
  if (r->own_hdr || r->fuzz == NULL)
    lt_header_free(r->hdr);
  lt_trace_free(r->fuzz);
  ZSTD_freeDStream(r->zs);
  lt_free(r->in);
  lt_free(r->buf);
  if (r->own_fd)
    close(r->fd);
  lt_free(r);
}

/* ---- messages ------------------------------------------------------------- */

/* Frees an event from a reader's unpack or lt_jsonl_parse_event. */
void lt_event_free(lt_event *ev) {
  if (ev)
    protobuf_c_message_free_unpacked(&ev->base, &lt_protobuf_allocator);
}

/* Frees a header from lt_jsonl_parse_header (or an unpacked one). */
void lt_header_free(lt_header *h) {
  if (h)
    protobuf_c_message_free_unpacked(&h->base, &lt_protobuf_allocator);
}

/* A deep copy of any message, by packing and unpacking it: the one way the
 * tools copy events and headers (protobuf-c has no copy). */
static ProtobufCMessage *copy_message(const ProtobufCMessage *m) {
  size_t len = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = lt_malloc(len ? len : 1);
  if (buf == NULL)
    return NULL;
  protobuf_c_message_pack(m, buf);
  ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, &lt_protobuf_allocator, len, buf);
  lt_free(buf);
  return c;
}

/* Copies an event; see trace.h. */
lt_event *lt_event_copy(const lt_event *ev) { return (lt_event *)copy_message(&ev->base); }

/* Copies a header; see trace.h. */
lt_header *lt_header_copy(const lt_header *h) { return (lt_header *)copy_message(&h->base); }

/* Unpacks a fuzz input; see trace.h. */
lt_trace *lt_trace_unpack(const uint8_t *data, size_t len) {
  static const uint8_t empty[1];

  if (len > LT_TRACE_MAX_FUZZ_INPUT)
    return NULL;
  return (lt_trace *)protobuf_c_message_unpack(&lifetrace__trace__descriptor,
                                               &lt_protobuf_allocator, len,
                                               data ? data : empty);
}

/* Frees a fuzz-form trace from lt_trace_unpack. */
void lt_trace_free(lt_trace *t) {
  if (t)
    protobuf_c_message_free_unpacked(&t->base, &lt_protobuf_allocator);
}

/* ---- writer --------------------------------------------------------------- */

struct lt_writer {
  uint32_t magic;
  int fd, own_fd, format;
  uint8_t *out; /* staging: flushed to fd (or the compressor) when full */
  size_t len, cap;
  uint64_t total; /* bytes of the uncompressed stream */
  ZSTD_CStream *zc;
  uint8_t *zout;
  size_t zcap;
  lt__buf line;
  int err;
};

static int werr(lt_writer *w, int code) {
  if (w->err == 0)
    w->err = code;
  return w->err;
}

static int write_all(lt_writer *w, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(w->fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return werr(w, LT_EIO);
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static int compress(lt_writer *w, const uint8_t *p, size_t n, ZSTD_EndDirective mode) {
  ZSTD_inBuffer in = {p, n, 0};
  size_t left;

  do {
    ZSTD_outBuffer out = {w->zout, w->zcap, 0};
    left = ZSTD_compressStream2(w->zc, &out, &in, mode);
    if (ZSTD_isError(left))
      return werr(w, LT_EINTERNAL);
    if (out.pos && write_all(w, w->zout, out.pos))
      return w->err;
  } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
  return 0;
}

static int flush(lt_writer *w) {
  int rc = 0;

  if (w->len)
    rc = w->zc ? compress(w, w->out, w->len, ZSTD_e_continue) : write_all(w, w->out, w->len);
  w->len = 0;
  return rc;
}

/* Makes room for n more bytes in the staging buffer. */
static int reserve(lt_writer *w, size_t n) {
  uint8_t *p;

  if (w->cap - w->len >= n)
    return 0;
  if (flush(w))
    return w->err;
  if (w->cap >= n)
    return 0;
  p = lt_realloc(w->out, n);
  if (p == NULL)
    return werr(w, LT_ENOMEM);
  w->out = p;
  w->cap = n;
  return 0;
}

/* Appends a length-delimited message, preceded by a field tag in the fuzz form. */
static int put_message(lt_writer *w, int tag, const ProtobufCMessage *msg) {
  size_t size = protobuf_c_message_get_packed_size(msg);
  uint8_t *p;

  if (size > LT_TRACE_MAX_MESSAGE)
    return werr(w, LT_ETOOBIG);
  if (reserve(w, size + 11))
    return w->err;
  p = w->out + w->len;
  if (w->format == LT_FORMAT_FUZZ)
    *p++ = (uint8_t)tag;
  p += lt__varint_put(p, size);
  p += protobuf_c_message_pack(msg, p);
  w->total += (size_t)(p - (w->out + w->len));
  w->len = (size_t)(p - w->out);
  if (w->format == LT_FORMAT_FUZZ && w->total > LT_TRACE_MAX_FUZZ_INPUT)
    return werr(w, LT_ETOOBIG);
  return 0;
}

static int put_line(lt_writer *w) {
  if (w->line.err)
    return werr(w, w->line.err);
  if (reserve(w, w->line.n + 1))
    return w->err;
  memcpy(w->out + w->len, w->line.s, w->line.n);
  w->len += w->line.n;
  w->out[w->len++] = '\n';
  w->line.n = 0;
  return 0;
}

static int writer_prologue(lt_writer *w, const lt_header *h) {
  lt_header hdr;
  uint8_t *p;

  if (h)
    hdr = *h;
  else
    lifetrace__trace_header__init(&hdr);
  if (hdr.lifetrace == 0)
    hdr.lifetrace = 1;
  if (w->format == LT_FORMAT_JSONL) {
    lt__jsonl_header(&w->line, &hdr);
    return put_line(w);
  }
  if (w->format != LT_FORMAT_FUZZ) {
    if (reserve(w, 16))
      return w->err;
    p = w->out + w->len;
    memcpy(p, LT_TRACE_MAGIC, 4);
    w->len += 4 + lt__varint_put(p + 4, LT_TRACE_FORMAT_VERSION);
  }
  return put_message(w, TRACE_TAG_HEADER, &hdr.base);
}

static int writer_init(lt_writer *w, const char *path) {
  if (!strcmp(path, "-")) {
    w->fd = STDOUT_FILENO;
  } else {
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0)
      return errno == ENOENT ? LT_ENOENT : LT_EIO;
    w->own_fd = 1;
  }
  w->cap = WRITE_BUFFER;
  w->out = lt_malloc(w->cap);
  if (w->out == NULL)
    return LT_ENOMEM;
  if (w->format != LT_FORMAT_BINARY_ZSTD)
    return 0;
  w->zc = ZSTD_createCStream();
  w->zcap = ZSTD_CStreamOutSize();
  w->zout = lt_malloc(w->zcap);
  if (w->zc == NULL || w->zout == NULL)
    return LT_ENOMEM;
  if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1)))
    return LT_EINTERNAL;
  return 0;
}

static void writer_free(lt_writer *w) {
  int e = errno;

  w->magic = DEAD_MAGIC;
  if (w->own_fd)
    close(w->fd);
  ZSTD_freeCStream(w->zc);
  lt_free(w->zout);
  lt_free(w->out);
  lt__buf_reset(&w->line);
  lt_free(w);
  errno = e;
}

/* Creates a writer and writes the header; see trace.h. "-" with
 * LT_FORMAT_AUTO writes binary. On failure from open(2) errno tells why. */
int lt_writer_open(lt_writer **out, const char *path, int format, const lt_header *h) {
  lt_writer *w;
  int rc;

  *out = NULL;
  if (format == LT_FORMAT_AUTO)
    format = lt__ends_with(path, ".jsonl")                                 ? LT_FORMAT_JSONL
             : lt__ends_with(path, ".zst") || lt__ends_with(path, ".zstd") ? LT_FORMAT_BINARY_ZSTD
                                                                           : LT_FORMAT_BINARY;
  if (format < LT_FORMAT_BINARY || format > LT_FORMAT_FUZZ)
    return LT_EINVAL;
  w = lt_calloc(1, sizeof *w);
  if (w == NULL)
    return LT_ENOMEM;
  w->magic = WRITER_MAGIC;
  w->fd = -1;
  w->format = format;
  rc = writer_init(w, path);
  if (rc == 0)
    rc = writer_prologue(w, h);
  if (rc) {
    writer_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

/* Appends one event; errors are sticky and also returned by close. */
int lt_writer_put(lt_writer *w, const lt_event *ev) { return lt_writer_put_indexed(w, ev, -1); }

/* Appends one event, JSONL lines with its index in the source trace as "i"
 * when index >= 0 (dump --index); see trace.h. */
int lt_writer_put_indexed(lt_writer *w, const lt_event *ev, int64_t index) {
  WRITER_CHECK(w);
  if (w->err)
    return w->err;
  if (w->format == LT_FORMAT_JSONL) {
    lt__jsonl_event(&w->line, ev, index);
    return put_line(w);
  }
  return put_message(w, TRACE_TAG_EVENT, &ev->base);
}

/* Flushes, ends the zstd frame, closes and frees; see trace.h. */
int lt_writer_close(lt_writer *w) {
  int rc;

  if (w == NULL)
    return 0;
  WRITER_CHECK(w);
  if (w->err == 0 && flush(w) == 0 && w->zc)
    compress(w, NULL, 0, ZSTD_e_end);
  if (w->own_fd) {
    w->own_fd = 0;
    if (close(w->fd) != 0)
      werr(w, LT_EIO);
  }
  rc = w->err;
  writer_free(w);
  return rc;
}

