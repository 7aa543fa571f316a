/* input.c - a data leaf.
 *   forward: y = data (the caller's buffer, referenced, not copied; read again on replay)
 *   VJP:     none (inputs never need a gradient: no dX for the data matrix)
 *   JVP:     ty is whatever the caller wrote with wg_tangent (zeros by default) */
#include "ops/ops.h"

wg_var wg_input(wg_tape *t, int rows, int cols, const wg_real *data) {
  if (!wg_live(t)) return wg_none();
  if (rows <= 0 || cols <= 0)
    return wg_fail(t, WG_ERR_ARG, "input: dimensions (%dx%d) must be positive (row %u)", rows,
                   cols, (unsigned)t->n_rows);
  if (!data)
    return wg_fail(t, WG_ERR_ARG, "input: data is NULL for a (%dx%d) input (row %u)", rows, cols,
                   (unsigned)t->n_rows);
  if (!wg_op_fits(t, "input", 0, NULL, rows, cols)) return wg_none();
  uint32_t i = wg_row_append(t, WG_OP_INPUT, rows, cols);
  if (i == UINT32_MAX) return wg_none();
  t->rows[i].val = (wg_real *)(uintptr_t)data; /* never written through: see the VJP */
  if (t->checks && !wg_finite_forward(t, i, "")) return wg_none();
  return wg_handle(t, i);
}

void wg_op_input_forward(wg_tape *t, wg_row *r) {
  (void)t, (void)r; /* the value is the caller's buffer */
}

void wg_op_input_vjp(wg_tape *t, wg_row *r) {
  (void)t, (void)r;
}

void wg_op_input_jvp(wg_tape *t, wg_row *r) {
  (void)t, (void)r;
}

/* recorded VJP: none */
void wg_op_input_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                            wg_var *dx) {
  (void)t, (void)row, (void)dy, (void)want, (void)dx; /* a leaf: no inputs, never called */
}
