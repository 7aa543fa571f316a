/* checkpoint.c - the whole training state in one .npz (wg_checkpoint_save / _load).
 *
 * The archive is the one wg_model_save writes (src/io/npz.c: a stored zip of NAME.npy files in
 * wg_real's dtype, '<f8' or in the float build '<f4'), with more entries beside the
 * parameters; wengert.h lists their names. Both sides
 * first build the same table of "slots", one per entry: its name, its shape and where its
 * numbers live. Saving encodes every slot; loading decodes every entry of the archive into
 * its slot (an entry without a slot, a slot without an entry, another shape: refused, with the
 * name), checks the values (generator words are integers in [0, 2^32), the step count an
 * integer >= 0), and only then copies them all in, so a refused file changes nothing.
 *
 * A generator's state (four 64-bit words) is stored as a 4 x 2 array of its words' high and
 * low 32-bit halves: every half is an integer below 2^32, exact in a double. These, the step
 * count, the learning rate and the caller's values are float64 ('<f8') in both builds, so that
 * a float build resumes exactly too (a float holds integers only up to 2^24); they are read
 * as doubles whatever their dtype. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/npy.h"
#include "io/npz.h"
#include "model/model.h"
#include "tape/alloc.h"
#include "tape/error.h"

enum { S_PARAM, S_BUF, S_STEP, S_LR, S_WD, S_RNG, S_VALUE };

typedef struct {
  char name[WG_NPZ_NAME - 4]; /* the entry's name without ".npy" */
  int kind, rows, cols;
  wg_real *data;  /* S_PARAM, S_BUF: the values (rows x cols) */
  wg_rng *rng;    /* S_RNG */
  double *value;  /* S_VALUE */
  wg_mat got;     /* loading: the entry decoded (S_PARAM, S_BUF, S_WD) */
  double meta[8]; /* loading: the entry decoded (S_STEP, S_LR, S_RNG, S_VALUE: rows*cols <= 8) */
  int seen;       /* loading: the entry was found */
} slot;

/* kept as float64 in both builds (see the head of the file) */
static int is_meta(int kind) {
  return kind == S_STEP || kind == S_LR || kind == S_RNG || kind == S_VALUE;
}

typedef struct {
  wg_model *m;
  wg_optim *o;
  const char *path;
  slot *s;
  int n, cap;
} table;

#define MAX_USER_NAME 47

/* a caller's generator or value name: 1..47 of [A-Za-z0-9_-] */
static int user_name_ok(const char *s) {
  if (!s || !*s || strlen(s) > MAX_USER_NAME) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '-'))
      return 0;
  return 1;
}

static slot *add_slot(table *t, int kind, int rows, int cols, const char *fmt, const char *a,
                      const char *b) {
  slot *s = &t->s[t->n++];
  memset(s, 0, sizeof *s);
  s->kind = kind, s->rows = rows, s->cols = cols;
  snprintf(s->name, sizeof s->name, fmt, a, b);
  return s;
}

/* what a slot holds, for the messages */
static void describe(const table *t, const slot *s, char *out, size_t n) {
  switch (s->kind) {
  case S_PARAM: snprintf(out, n, "the model's parameter %s", s->name); break;
  case S_BUF: snprintf(out, n, "a buffer of the %s optimizer", t->o->cfg.kind == WG_SGD ?
                       "SGD (momentum)" : t->o->cfg.kind == WG_ADAM ? "Adam" : "AdamW"); break;
  case S_STEP: snprintf(out, n, "the optimizer's step count"); break;
  case S_LR: snprintf(out, n, "the optimizer's learning rate"); break;
  case S_WD: snprintf(out, n, "the optimizer's weight decay per parameter"); break;
  case S_RNG: snprintf(out, n, "the state of generator %s", s->name); break;
  default: snprintf(out, n, "the value %s", s->name + 6); break;
  }
}

static void free_table(table *t) {
  for (int i = 0; i < t->n; i++) wg_npy_free(&t->s[i].got);
  wg_free(t->s, (size_t)t->cap * sizeof *t->s);
  t->s = NULL, t->n = t->cap = 0;
}

/* The slots of m and c, in the archive's order: parameters, model.rng, optimizer, generators,
 * values. Checks the arguments; every message names the call (who). */
static wg_status build(table *t, wg_model *m, const wg_checkpoint *c, const char *path,
                       const char *who) {
  memset(t, 0, sizeof *t);
  t->m = m, t->path = path;
  if (!path) return wg_model_fail(m, WG_ERR_ARG, "%s: path is NULL", who);
  if (m->n == 0) return wg_model_fail(m, WG_ERR_STATE, "%s: the model is empty", who);
  wg_checkpoint none = {NULL, NULL, 0, NULL, 0};
  if (!c) c = &none;
  wg_optim *o = t->o = c->optim;
  if (o && (o->model != m || o->n != m->n))
    return wg_model_fail(m, WG_ERR_ARG, "%s: the optimizer was made for %s (%d parameters), "
                         "not for this model (%d)", who, o->model == m ? "this model" :
                         "another model", o->n, m->n);
  if (c->n_rngs < 0 || c->n_values < 0 || (c->n_rngs && !c->rngs) || (c->n_values && !c->values))
    return wg_model_fail(m, WG_ERR_ARG, "%s: %d generators at %p, %d values at %p: counts must "
                         "be >= 0 with arrays to match", who, c->n_rngs, (const void *)c->rngs,
                         c->n_values, (const void *)c->values);
  for (int i = 0; i < c->n_rngs + c->n_values; i++) {
    int is_rng = i < c->n_rngs;
    const char *name = is_rng ? c->rngs[i].name : c->values[i - c->n_rngs].name;
    const void *ptr = is_rng ? (const void *)c->rngs[i].rng
                             : (const void *)c->values[i - c->n_rngs].value;
    if (!user_name_ok(name) || !ptr)
      return wg_model_fail(m, WG_ERR_ARG, "%s: %s %d (%.*s): %s", who, is_rng ? "generator" :
                           "value", is_rng ? i : i - c->n_rngs, MAX_USER_NAME + 1,
                           name ? name : "NULL", !ptr ? "its pointer is NULL" : "a name of 1 to "
                           "47 letters, digits, '_' or '-' is needed");
  }
  int per = !o ? 0 : o->cfg.kind == WG_SGD ? (o->buf ? 1 : 0) : 2;
  t->cap = m->n * (1 + per) + 4 + c->n_rngs + c->n_values;
  if (!(t->s = wg_alloc_zero((size_t)t->cap * sizeof *t->s)))
    return wg_model_fail(m, WG_ERR_NOMEM, "%s: %s: out of memory", who, path);
  for (int k = 0; k < m->n; k++) {
    wg_param *p = m->params[k];
    add_slot(t, S_PARAM, p->rows, p->cols, "%s%s", p->name, "")->data = p->value;
  }
  add_slot(t, S_RNG, 4, 2, "%s%s", "model.rng", "")->rng = &m->rng;
  if (o) {
    add_slot(t, S_STEP, 1, 1, "%s%s", "optim.step", "");
    add_slot(t, S_LR, 1, 1, "%s%s", "optim.lr", "");
    add_slot(t, S_WD, m->n, 1, "%s%s", "optim.weight_decay", "")->data = o->wd;
    size_t off = 0;
    for (int k = 0; k < m->n; k++) {
      wg_param *p = m->params[k];
      if (per == 1) add_slot(t, S_BUF, p->rows, p->cols, "optim.%s.%s", p->name, "momentum")
                        ->data = o->buf + off;
      if (per == 2) {
        add_slot(t, S_BUF, p->rows, p->cols, "optim.%s.%s", p->name, "exp_avg")->data =
            o->buf + off;
        add_slot(t, S_BUF, p->rows, p->cols, "optim.%s.%s", p->name, "exp_avg_sq")->data =
            o->buf + o->total + off;
      }
      off += (size_t)p->rows * (size_t)p->cols;
    }
  }
  for (int i = 0; i < c->n_rngs; i++)
    add_slot(t, S_RNG, 4, 2, "rng.%s%s", c->rngs[i].name, "")->rng = c->rngs[i].rng;
  for (int i = 0; i < c->n_values; i++)
    add_slot(t, S_VALUE, 1, 1, "value.%s%s", c->values[i].name, "")->value = c->values[i].value;
  /* a parameter named like another entry (e.g. "model.rng") would make two entries one */
  for (int i = 0; i < t->n; i++)
    for (int j = i + 1; j < t->n; j++)
      if (strcmp(t->s[i].name, t->s[j].name) == 0) {
        char a[160], b[160];
        describe(t, &t->s[i], a, sizeof a), describe(t, &t->s[j], b, sizeof b);
        return wg_model_fail(m, WG_ERR_ARG, "%s: %s and %s would both be the entry %s.npy",
                             who, a, b, t->s[i].name);
      }
  return WG_OK;
}

wg_status wg_checkpoint_save(wg_model *m, const wg_checkpoint *c, const char *path) {
  if (!m) {
    wg_set_last_error("wg_checkpoint_save: the model is NULL");
    return WG_ERR_ARG;
  }
  table t;
  wg_status st = build(&t, m, c, path, "wg_checkpoint_save");
  wg_npz_entry *e = st ? NULL : wg_alloc_zero((size_t)t.n * sizeof *e);
  if (!st && !e) st = wg_model_fail(m, WG_ERR_NOMEM, "%s: out of memory", path);
  for (int i = 0; !st && i < t.n; i++) {
    slot *s = &t.s[i];
    double small[8];
    if (s->kind == S_STEP) small[0] = (double)t.o->t;
    if (s->kind == S_LR) small[0] = t.o->cfg.lr;
    if (s->kind == S_VALUE) small[0] = *s->value;
    for (int w = 0; s->kind == S_RNG && w < 4; w++) /* [high, low] halves of word w */
      small[2 * w] = (double)(s->rng->s[w] >> 32), small[2 * w + 1] =
          (double)(s->rng->s[w] & 0xFFFFFFFFu);
    snprintf(e[i].name, sizeof e[i].name, "%s.npy", s->name);
    char msg[200];
    st = is_meta(s->kind)
             ? wg_npy_encode_f64(small, s->rows, s->cols, &e[i].npy, &e[i].len, msg, sizeof msg)
             : wg_npy_encode((wg_mat){s->rows, s->cols, s->data}, 2, 0, &e[i].npy, &e[i].len, msg,
                             sizeof msg);
    if (st) wg_model_fail(m, st, "%s: %s: %s", path, e[i].name, msg);
  }
  if (!st) st = wg_npz_write(m, path, e, t.n);
  wg_npz_free_entries(e, e ? t.n : 0);
  free_table(&t);
  if (!st) m->error[0] = 0;
  return st;
}

/* loading: each archive entry into its slot */
static wg_status visit(void *arg, const char *name, const unsigned char *data, size_t size) {
  table *t = arg;
  int i = 0;
  while (i < t->n && strcmp(t->s[i].name, name) != 0) i++;
  if (i == t->n) {
    const char *why = strncmp(name, "optim.", 6) == 0
                          ? (t->o ? "this optimizer keeps no such state (saved with another "
                                    "optimizer or model?)"
                                  : "no optimizer was given to load it into")
                      : strncmp(name, "rng.", 4) == 0 ? "no generator of that name was given"
                      : strncmp(name, "value.", 6) == 0 ? "no value of that name was given"
                      : "the model has no parameter of that name (another model?)";
    return wg_model_fail(t->m, WG_ERR_FORMAT, "%s: %s.npy: %s", t->path, name, why);
  }
  slot *s = &t->s[i];
  if (s->seen)
    return wg_model_fail(t->m, WG_ERR_FORMAT, "%s: %s.npy appears twice", t->path, name);
  s->seen = 1;
  char what[WG_NPZ_NAME + 8], msg[300];
  snprintf(what, sizeof what, "%s.npy", name);
  int rows, cols;
  wg_status st =
      is_meta(s->kind) ? wg_npy_decode_f64(data, size, what, s->meta, 8, &rows, &cols, msg,
                                           sizeof msg)
                       : wg_npy_decode(data, size, what, &s->got, msg, sizeof msg);
  if (st) return wg_model_fail(t->m, st, "%s: %s", t->path, msg);
  if (!is_meta(s->kind)) rows = s->got.rows, cols = s->got.cols;
  char d[160];
  describe(t, s, d, sizeof d);
  if (rows != s->rows || cols != s->cols)
    return wg_model_fail(t->m, WG_ERR_SHAPE, "%s: %s.npy is (%dx%d), %s is (%dx%d)", t->path,
                         name, rows, cols, d, s->rows, s->cols);
  const double *g = s->meta;
  if (s->kind == S_RNG) {
    int zero = 1;
    for (int k = 0; k < 8; k++) {
      if (!(g[k] >= 0 && g[k] <= 4294967295.0 && g[k] == floor(g[k])))
        return wg_model_fail(t->m, WG_ERR_FORMAT, "%s: %s.npy: [%d, %d] = %g: expected a "
                             "32-bit half of a generator word, an integer in 0..4294967295",
                             t->path, name, k / 2, k % 2, (double)g[k]);
      zero &= g[k] == 0;
    }
    if (zero)
      return wg_model_fail(t->m, WG_ERR_FORMAT, "%s: %s.npy: an all-zero state, which "
                           "xoshiro256** never leaves", t->path, name);
  }
  if (s->kind == S_STEP && !(g[0] >= 0 && g[0] <= 9007199254740992.0 && g[0] == floor(g[0])))
    return wg_model_fail(t->m, WG_ERR_FORMAT, "%s: %s.npy: %g: expected a step count, an "
                         "integer in 0..2^53", t->path, name, (double)g[0]);
  if (s->kind == S_LR && !(g[0] >= 0 && isfinite(g[0])))
    return wg_model_fail(t->m, WG_ERR_FORMAT, "%s: %s.npy: %g: expected a finite learning "
                         "rate >= 0", t->path, name, (double)g[0]);
  for (int k = 0; s->kind == S_WD && k < s->rows; k++)
    if (!(s->got.data[k] >= 0 && isfinite(s->got.data[k])))
      return wg_model_fail(t->m, WG_ERR_FORMAT, "%s: %s.npy: [%d, 0] = %g (parameter %s): "
                           "expected a finite weight decay >= 0", t->path, name, k,
                           (double)s->got.data[k], t->m->params[k]->name);
  return WG_OK;
}

wg_status wg_checkpoint_load(wg_model *m, const wg_checkpoint *c, const char *path) {
  if (!m) {
    wg_set_last_error("wg_checkpoint_load: the model is NULL");
    return WG_ERR_ARG;
  }
  table t;
  wg_status st = build(&t, m, c, path, "wg_checkpoint_load");
  unsigned char *buf = NULL;
  size_t len = 0;
  if (!st) {
    char msg[300];
    st = wg_file_read(path, &buf, &len, msg, sizeof msg);
    if (st) wg_model_fail(m, st, "%s", msg);
  }
  if (!st) st = wg_npz_walk(m, path, buf, len, visit, &t);
  for (int i = 0; !st && i < t.n; i++)
    if (!t.s[i].seen) {
      char d[160];
      describe(&t, &t.s[i], d, sizeof d);
      st = wg_model_fail(m, WG_ERR_FORMAT, "%s: no %s.npy (%s)%s", path, t.s[i].name, d,
                         t.s[i].kind == S_PARAM ? "" : ": saved with another optimizer, or "
                         "without it, or without this generator or value?");
    }
  /* every entry is there and checked: now copy them in */
  for (int i = 0; !st && i < t.n; i++) {
    slot *s = &t.s[i];
    const double *g = s->meta;
    switch (s->kind) {
    case S_PARAM:
    case S_WD:
    case S_BUF:
      memcpy(s->data, s->got.data, (size_t)s->rows * (size_t)s->cols * sizeof *s->data);
      break;
    case S_STEP: t.o->t = (long)g[0]; break;
    case S_LR: t.o->cfg.lr = g[0]; break;
    case S_VALUE: *s->value = g[0]; break;
    default:
      for (int w = 0; w < 4; w++)
        s->rng->s[w] = (uint64_t)g[2 * w] << 32 | (uint64_t)g[2 * w + 1];
    }
  }
  if (buf) wg_free(buf, len + 1);
  free_table(&t);
  if (!st) m->error[0] = 0;
  return st;
}
