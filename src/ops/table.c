/* table.c - wg_ops[], generated from oplist.h, and the op name of a row. */
#include "ops/ops.h"

const wg_op_info wg_ops[WG_OP_COUNT] = {
#define WG_OP(E, name, n, w, f, v, j) \
  [WG_OP_##E] = {#name, n, w, f, v, j, wg_op_##name##_forward, wg_op_##name##_vjp, wg_op_##name##_jvp, \
                  wg_op_##name##_record_vjp},
#include "ops/oplist.h"
#undef WG_OP
};

_Static_assert(sizeof wg_ops / sizeof wg_ops[0] == WG_OP_COUNT, "one table entry per op");

const char *wg_row_op_name(const wg_row *r) {
  if (r->op == WG_OP_CUSTOM) return wg_op_custom_name(r);
  return r->op < WG_OP_COUNT ? wg_ops[r->op].name : "?";
}
