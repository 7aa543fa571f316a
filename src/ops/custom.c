/* custom.c - a user-defined op (wg_custom): the user's forward, VJP and JVP behind the same row
 * interface as the built-in ops, so custom rows take part in replay, backward, forward mode,
 * prints and the checks.
 *   forward: y = f(x_1 .. x_n)          n = 1..WG_MAX_INPUTS; shape from the user's shape
 *                                       callback, or the shape of x_1
 *   VJP:     dx_i += J_i^T dy           the user's vjp, given a NULL view for inputs that need
 *                                       no gradient
 *   JVP:     ty = sum_i J_i tx_i        the user's jvp; without one wg_jvp fails naming the op
 * The descriptor and its name are copied into the tape's arena at record time; ctx is the
 * caller's and must outlive the row. */
#include <string.h>

#include "ops/ops.h"

typedef struct custom_info {
  wg_custom_op op; /* op.name points at name[] */
  void *ctx;
  char name[WG_NAME_MAX];
} custom_info;

const char *wg_op_custom_name(const wg_row *r) {
  const custom_info *ci = r->ptr;
  return ci ? ci->name : "custom";
}

/* "X (2x3), (3x1)" into buf: the inputs (names and shapes) for an error message */
static const char *shapes_text(const wg_tape *t, const wg_var *in, int n, char *buf,
                               size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < n && used < size; k++) {
    char one[WG_SHAPE_TEXT];
    int w = snprintf(buf + used, size - used, "%s%s", k ? ", " : "",
                     wg_row_shape(t, in[k].row, one, sizeof one));
    if (w < 0) break;
    used += (size_t)w;
  }
  return buf;
}

/* Mark t busy with this op's callback (wg_tape_busy refuses recording, sweeps, checks, reset
 * and free on t meanwhile); returns what to put back after the call. */
static wg_busy enter(wg_tape *t, const char *op, const char *callback, uint32_t row) {
  wg_busy was = t->busy;
  t->busy = (wg_busy){op, callback, row};
  return was;
}

wg_var wg_custom(wg_tape *t, const wg_custom_op *op, void *ctx, int n_in, const wg_var *in) {
  if (!wg_live(t)) return wg_none();
  unsigned row = (unsigned)t->n_rows;
  if (!op) return wg_fail(t, WG_ERR_ARG, "custom: the op descriptor is NULL (row %u)", row);
  char name[WG_NAME_MAX], who[WG_NAME_MAX + 16]; /* the name cut to fit, never the message */
  snprintf(name, sizeof name, "%.*s", WG_NAME_MAX - 1, op->name ? op->name : "custom");
  snprintf(who, sizeof who, "custom op '%s'", name);
  if (!op->forward || !op->vjp)
    return wg_fail(t, WG_ERR_ARG, "custom op '%s': forward and vjp are required, %s is NULL "
                   "(row %u)", name, op->forward ? "vjp" : "forward", row);
  if (n_in < 1 || n_in > WG_MAX_INPUTS)
    return wg_fail(t, WG_ERR_ARG, "custom op '%s': %d inputs, but a custom op takes 1 to %d "
                   "(WG_MAX_INPUTS) (row %u)", name, n_in, WG_MAX_INPUTS, row);
  if (!in) return wg_fail(t, WG_ERR_ARG, "custom op '%s': the input array is NULL (row %u)",
                          name, row);
  wg_mat x[WG_MAX_INPUTS];
  for (int k = 0; k < n_in; k++) {
    const wg_row *rk = wg_row_of(t, in[k], who);
    if (!rk) return wg_none();
    x[k] = (wg_mat){rk->rows, rk->cols, rk->val};
  }
  int rows = x[0].rows, cols = x[0].cols;
  if (op->shape) {
    char shapes[WG_MAX_INPUTS * WG_SHAPE_TEXT];
    wg_busy was = enter(t, name, "shape", row);
    int rejected = op->shape(n_in, x, &rows, &cols, ctx);
    t->busy = was;
    if (!wg_live(t)) return wg_none(); /* the callback broke the busy rule */
    if (rejected != 0)
      return wg_fail(t, WG_ERR_SHAPE, "%s: inputs %s: rejected by the op's shape rule (row %u)",
                     who, shapes_text(t, in, n_in, shapes, sizeof shapes), row);
    if (rows <= 0 || cols <= 0)
      return wg_fail(t, WG_ERR_SHAPE, "%s: inputs %s: the shape rule gave (%dx%d), dimensions "
                     "must be positive (row %u)", who, shapes_text(t, in, n_in, shapes, sizeof shapes),
                     rows, cols, row);
  }
  if (!wg_op_fits(t, who, n_in, in, rows, cols)) return wg_none();
  t->building = who; /* out-of-memory messages name the op */
  custom_info *ci = wg_tape_alloc(t, sizeof *ci);
  wg_var v = wg_none();
  if (ci) {
    ci->op = *op;
    snprintf(ci->name, sizeof ci->name, "%s", name);
    ci->op.name = ci->name;
    ci->ctx = ctx;
    v = wg_op_record_ptr(t, WG_OP_CUSTOM, n_in, in, rows, cols, 0, ci);
  }
  t->building = NULL;
  return v;
}

/* Views of the inputs' values (and tangents, when tan is non-NULL). */
static void input_views(wg_tape *t, const wg_row *r, wg_mat *val, wg_mat *tan) {
  for (int k = 0; k < (int)r->n_in; k++) {
    const wg_row *x = wg_input_row(t, r, k);
    val[k] = (wg_mat){x->rows, x->cols, x->val};
    if (tan) tan[k] = (wg_mat){x->rows, x->cols, x->tan};
  }
}

void wg_op_custom_forward(wg_tape *t, wg_row *r) {
  const custom_info *ci = r->ptr;
  wg_mat in[WG_MAX_INPUTS];
  input_views(t, r, in, NULL);
  wg_busy was = enter(t, ci->name, "forward", (uint32_t)(r - t->rows));
  ci->op.forward(r->n_in, in, (wg_mat){r->rows, r->cols, r->val}, ci->ctx);
  t->busy = was;
}

void wg_op_custom_vjp(wg_tape *t, wg_row *r) {
  const custom_info *ci = r->ptr;
  wg_mat in[WG_MAX_INPUTS], in_adj[WG_MAX_INPUTS];
  input_views(t, r, in, NULL);
  for (int k = 0; k < (int)r->n_in; k++) {
    const wg_row *x = wg_input_row(t, r, k);
    in_adj[k] = (wg_mat){x->rows, x->cols, x->needs_grad ? x->adj : NULL};
  }
  wg_busy was = enter(t, ci->name, "vjp", (uint32_t)(r - t->rows));
  ci->op.vjp(r->n_in, in, (wg_mat){r->rows, r->cols, r->val},
             (wg_mat){r->rows, r->cols, r->adj}, in_adj, ci->ctx);
  t->busy = was;
}

void wg_op_custom_jvp(wg_tape *t, wg_row *r) {
  const custom_info *ci = r->ptr;
  if (!ci->op.jvp) {
    wg_fail(t, WG_ERR_ARG, "wg_jvp: custom op '%s' (row %u) has no jvp; forward mode "
            "(wg_jvp, wg_dot_test) needs one", ci->name, (unsigned)(r - t->rows));
    return;
  }
  wg_mat in[WG_MAX_INPUTS], in_tan[WG_MAX_INPUTS];
  input_views(t, r, in, in_tan);
  wg_busy was = enter(t, ci->name, "jvp", (uint32_t)(r - t->rows));
  ci->op.jvp(r->n_in, in, in_tan, (wg_mat){r->rows, r->cols, r->val},
             (wg_mat){r->rows, r->cols, r->tan}, ci->ctx);
  t->busy = was;
}

/* The user's record_vjp, given handles: it records on t, so the tape is not busy meanwhile.
 * The terms it returns for inputs that are not wanted are dropped by the sweep. */
void wg_op_custom_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                             wg_var *dx) {
  const custom_info *ci = t->rows[row].ptr;
  (void)want;
  if (!ci->op.record_vjp) {
    wg_fail(t, WG_ERR_ARG, "wg_gradients: custom op '%s' (row %u) has no record_vjp; "
            "higher-order derivatives need one (wg_custom_op.record_vjp)", ci->name,
            (unsigned)row);
    return;
  }
  int n_in = (int)t->rows[row].n_in;
  wg_var in[WG_MAX_INPUTS];
  for (int k = 0; k < n_in; k++) in[k] = wg_in(t, row, (uint32_t)k);
  ci->op.record_vjp(t, n_in, in, wg_handle(t, row), dy, dx, ci->ctx);
}
