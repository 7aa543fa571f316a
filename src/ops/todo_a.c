/* todo_a.c - TEMPORARY: failing stand-ins for recorded VJPs not written yet; each is deleted when
 * its op file defines wg_op_<name>_record_vjp. This file must be gone before issue 16 closes. */
#include "ops/ops.h"












void wg_op_dropout_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                           wg_var *dx) {
  (void)dy, (void)want, (void)dx;
  wg_fail(t, WG_ERR_STATE, "wg_gradients: op 'dropout' (row %u) has no recorded VJP yet", (unsigned)row);
}
