/* tape.c - rows, handles, generations and the sticky status. */
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/alloc.h"
#include "tape/error.h"
#include "tape/size.h"
#include "tape/tape.h"

/* Every tape and every reset takes a fresh generation, so a handle from another tape or from
 * before a reset never matches. Generation 0 is never issued: {0,0} is the none handle. The
 * 2^32 - 1 generations of a wg_var's 32 bits are handed out once each and never again: after
 * the last one next_gen stays 0 and fresh_gen returns 0 ("used up"), since wrapping around
 * would make a handle from 2^32 - 1 resets ago valid again. */
static atomic_uint_least32_t next_gen = 1;

static uint32_t fresh_gen(void) {
  uint_least32_t g = atomic_load(&next_gen);
  do
    if (g == 0) return 0;
  while (!atomic_compare_exchange_weak(&next_gen, &g, (uint32_t)(g + 1u))); /* last: 0 */
  return (uint32_t)g;
}

void wg_tape_set_next_gen(uint32_t next) {
  atomic_store(&next_gen, next);
}

/* Give t a fresh generation, or fail it (WG_ERR_STATE) when they are used up; who: the call. */
static void take_gen(wg_tape *t, const char *who) {
  t->gen = fresh_gen();
  if (t->gen == 0)
    wg_fail(t, WG_ERR_STATE, "%s: the %lu tape generations are used up (each wg_tape_new and "
            "wg_tape_reset in the process takes one): handles from before could no longer be "
            "told from new ones; replay with wg_forward instead of resetting and recording",
            who, (unsigned long)UINT32_MAX);
}

static const char *const status_names[WG_STATUS_COUNT] = {
    [WG_OK] = "ok",
    [WG_ERR_SHAPE] = "shape mismatch",
    [WG_ERR_HANDLE] = "invalid handle",
    [WG_ERR_ARG] = "invalid argument",
    [WG_ERR_NOMEM] = "out of memory",
    [WG_ERR_STATE] = "invalid state",
    [WG_ERR_NONFINITE] = "non-finite value",
    [WG_ERR_IO] = "input/output error",
    [WG_ERR_FORMAT] = "malformed data",
};

const char *wg_status_string(wg_status s) {
  if ((unsigned)s >= WG_STATUS_COUNT) return "unknown status";
  return status_names[s];
}

wg_var wg_fail(wg_tape *t, wg_status s, const char *fmt, ...) {
  if (t && t->status == WG_OK) {
    t->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->error, sizeof t->error, fmt, ap);
    va_end(ap);
    wg_set_last_error("%s", t->error);
  }
  return wg_none();
}

int wg_live(const wg_tape *t) {
  return t && t->status == WG_OK;
}

int wg_tape_busy(wg_tape *t, const char *call) {
  if (!t || !t->busy.op) return 0;
  wg_fail(t, WG_ERR_STATE, "%s: refused: custom op '%s' (row %u) is running its %s on this "
          "tape; a custom op's callbacks may not record on, sweep, check, reset or free their "
          "own tape (another tape is fine)", call, t->busy.op, (unsigned)t->busy.row,
          t->busy.callback);
  return 1;
}

wg_tape *wg_tape_new(void) {
  wg_tape *t = wg_alloc_zero(sizeof *t);
  if (!t) {
    wg_set_last_error("wg_tape_new: out of memory (%zu bytes for the tape)", sizeof *t);
    return NULL;
  }
  take_gen(t, "wg_tape_new");
  return t;
}

void wg_tape_free(wg_tape *t) {
  if (!t || wg_tape_busy(t, "wg_tape_free")) return;
  wg_arena_free(&t->arena);
  wg_free(t->rows, (size_t)t->cap_rows * sizeof *t->rows);
  wg_free(t, sizeof *t);
}

void wg_tape_reset(wg_tape *t) {
  if (!t || wg_tape_busy(t, "wg_tape_reset")) return;
  wg_arena_reset(&t->arena);
  t->n_rows = 0;
  t->status = WG_OK;
  t->error[0] = '\0';
  take_gen(t, "wg_tape_reset");
}

wg_status wg_tape_status(const wg_tape *t) {
  return t ? t->status : WG_ERR_NOMEM;
}

const char *wg_tape_error(const wg_tape *t) {
  if (!t) return "tape is NULL (wg_tape_new failed: out of memory)";
  return t->error;
}

int wg_tape_rows(const wg_tape *t) {
  return t ? (int)t->n_rows : 0;
}

size_t wg_tape_bytes(const wg_tape *t) {
  return t ? t->arena.in_use : 0;
}

const char *wg_row_label(const wg_tape *t, uint32_t row, char *buf, size_t n) {
  if (row < t->n_rows && t->rows[row].name) snprintf(buf, n, "%s", t->rows[row].name);
  else snprintf(buf, n, "v%u", (unsigned)row);
  return buf;
}

const char *wg_row_shape(const wg_tape *t, uint32_t row, char *buf, size_t n) {
  const wg_row *r = &t->rows[row];
  if (r->name) snprintf(buf, n, "%s (%dx%d)", r->name, r->rows, r->cols);
  else snprintf(buf, n, "(%dx%d)", r->rows, r->cols);
  return buf;
}

wg_row *wg_row_of(wg_tape *t, wg_var v, const char *who) {
  if (!wg_live(t)) return NULL;
  if (v.gen == 0) {
    wg_fail(t, WG_ERR_HANDLE, "%s: input is the none handle (an earlier call failed?)", who);
    return NULL;
  }
  if (v.gen != t->gen || v.row >= t->n_rows) {
    wg_fail(t, WG_ERR_HANDLE,
            "%s: stale or foreign handle (row %u, generation %u; this tape is at generation %u "
            "with %u row(s)): it comes from another tape or from before wg_tape_reset",
            who, (unsigned)v.row, (unsigned)v.gen, (unsigned)t->gen, (unsigned)t->n_rows);
    return NULL;
  }
  return &t->rows[v.row];
}

void *wg_tape_alloc(wg_tape *t, size_t bytes) {
  void *p = wg_arena_alloc(&t->arena, bytes);
  if (p) return p;
  if (t->building)
    wg_fail(t, WG_ERR_NOMEM, "%s: out of memory: arena request of %zu bytes (row %u)",
            t->building, bytes, (unsigned)t->n_rows);
  else
    wg_fail(t, WG_ERR_NOMEM, "out of memory: arena request of %zu bytes (tape of %u rows)",
            bytes, (unsigned)t->n_rows);
  return NULL;
}

wg_real *wg_tape_reals(wg_tape *t, size_t n) {
  size_t bytes;
  if (!wg_mul_size(n, sizeof(wg_real), &bytes)) {
    wg_fail(t, WG_ERR_NOMEM, "out of memory: %zu elements overflow (row %u)", n,
            (unsigned)t->n_rows);
    return NULL;
  }
  return wg_tape_alloc(t, bytes);
}

/* Double the row list for a row of op `who` (named in the messages with the row it would be). */
static int grow_rows(wg_tape *t, const char *who) {
  uint32_t cap = t->cap_rows ? t->cap_rows * 2 : 64;
  if (cap <= t->cap_rows) {
    wg_fail(t, WG_ERR_NOMEM, "%s: out of memory: too many rows (row %u)", who,
            (unsigned)t->n_rows);
    return 0;
  }
  wg_row *rows = wg_realloc(t->rows, (size_t)t->cap_rows * sizeof *rows, (size_t)cap * sizeof *rows);
  if (!rows) {
    wg_fail(t, WG_ERR_NOMEM, "%s: out of memory: growing the row list to %u rows (row %u)", who,
            (unsigned)cap, (unsigned)t->n_rows);
    return 0;
  }
  t->rows = rows;
  t->cap_rows = cap;
  return 1;
}

uint32_t wg_row_append(wg_tape *t, int op, int rows, int cols) {
  if (wg_tape_busy(t, wg_ops[op].name)) return UINT32_MAX;
  if (t->n_rows == UINT32_MAX - 1) {
    wg_fail(t, WG_ERR_NOMEM, "out of memory: row limit reached");
    return UINT32_MAX;
  }
  if (t->n_rows == t->cap_rows && !grow_rows(t, t->building ? t->building : wg_ops[op].name))
    return UINT32_MAX;
  wg_row *r = &t->rows[t->n_rows];
  memset(r, 0, sizeof *r);
  r->op = (uint16_t)op;
  r->rows = rows;
  r->cols = cols;
  return t->n_rows++;
}

int wg_row_ensure_adj(wg_tape *t, wg_row *r) {
  if (!r->adj) r->adj = wg_tape_reals(t, wg_row_size(r));
  return r->adj != NULL;
}

int wg_row_ensure_tan(wg_tape *t, wg_row *r) {
  if (!r->tan) {
    r->tan = wg_tape_reals(t, wg_row_size(r));
    if (r->tan) memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
  }
  return r->tan != NULL;
}

wg_mat wg_value(wg_tape *t, wg_var v) {
  wg_mat m = {0, 0, NULL};
  wg_row *r = wg_row_of(t, v, "wg_value");
  if (r) m = (wg_mat){r->rows, r->cols, r->val};
  return m;
}

wg_mat wg_grad(wg_tape *t, wg_var v) {
  wg_mat m = {0, 0, NULL};
  wg_row *r = wg_row_of(t, v, "wg_grad");
  if (r) m = (wg_mat){r->rows, r->cols, r->needs_grad ? r->adj : NULL};
  return m;
}

wg_mat wg_tangent(wg_tape *t, wg_var v) {
  wg_mat m = {0, 0, NULL};
  wg_row *r = wg_row_of(t, v, "wg_tangent");
  if (r && wg_row_ensure_tan(t, r)) m = (wg_mat){r->rows, r->cols, r->tan};
  return m;
}

void wg_name(wg_tape *t, wg_var v, const char *name) {
  wg_row *r = wg_row_of(t, v, "wg_name");
  if (!r) return;
  if (!name) {
    r->name = NULL;
    return;
  }
  size_t n = strnlen(name, WG_NAME_MAX - 1);
  char *s = wg_tape_alloc(t, n + 1);
  if (!s) return;
  memcpy(s, name, n);
  s[n] = '\0';
  r->name = s;
}
