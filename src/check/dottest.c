/* dottest.c - the dot-product test: forward mode against reverse mode.
 *
 * For out = F(params) with Jacobian J, random u on every parameter leaf and random w on out:
 *   <w, J u>    from one forward-mode sweep (wg_jvp) with the leaves' tangents set to u
 *   <J^T w, u>  from one reverse sweep seeded with w (the leaf rows' adjoints dotted with u)
 * The two are the same number in exact arithmetic, whatever J is, so their relative
 * discrepancy |a - b| / max(|a|, |b|) is at rounding level (~1e-15) when every JVP is the
 * transpose of its VJP, and O(1) when one of them is wrong. Each leaf row is one variable: a
 * parameter used twice gets two independent directions, consistently on both sides. */
#include <math.h>
#include <string.h>

#include "check/check.h"
#include "ops/ops.h"
#include "tape/alloc.h"

/* Tangents of the leaves: u on those that need a gradient, 0 on the rest. */
static int seed_tangents(wg_tape *t, uint32_t top, uint64_t seed) {
  wg_gc_rng g = {seed};
  for (uint32_t i = 0; i <= top; i++) {
    wg_row *r = &t->rows[i];
    if (r->n_in > 0) continue;
    if (!wg_row_ensure_tan(t, r)) return 0;
    for (size_t e = 0, n = wg_row_size(r); e < n; e++)
      r->tan[e] = r->needs_grad ? wg_gc_uniform(&g) : 0;
  }
  return 1;
}

/* sum over leaves that need a gradient of <adj, u>, u regenerated as seed_tangents drew it */
static double leaves_dot(const wg_tape *t, uint32_t top, uint64_t seed) {
  wg_gc_rng g = {seed};
  double s = 0;
  for (uint32_t i = 0; i <= top; i++) {
    const wg_row *r = &t->rows[i];
    if (r->n_in > 0 || !r->needs_grad) continue;
    for (size_t e = 0, n = wg_row_size(r); e < n; e++) s += r->adj[e] * wg_gc_uniform(&g);
  }
  return s;
}

double wg_dot_test(wg_tape *t, wg_var out, unsigned seed) {
  if (wg_tape_busy(t, "wg_dot_test")) return -1;
  const wg_row *o = wg_row_of(t, out, "wg_dot_test");
  if (!o) return -1;
  if (!o->needs_grad) {
    char name[WG_NAME_MAX + 16];
    wg_fail(t, WG_ERR_ARG, "wg_dot_test: %s (row %u) depends on no parameter: nothing to test",
            wg_row_label(t, out.row, name, sizeof name), (unsigned)out.row);
    return -1;
  }
  uint32_t top = out.row;
  size_t n = wg_row_size(o), bytes = n * sizeof(wg_real);
  wg_real *w = wg_alloc(bytes);
  if (!w) {
    wg_fail(t, WG_ERR_NOMEM, "wg_dot_test: out of memory (cotangent of %zu elements)", n);
    return -1;
  }
  uint64_t su = 0x9E3779B9ull * (seed + 1ull), sw = su ^ 0xD1B54A32D192ED03ull;
  wg_gc_rng g = {sw};
  for (size_t e = 0; e < n; e++) w[e] = wg_gc_uniform(&g);
  double fwd = 0, rev = 0;
  if (seed_tangents(t, top, su) && wg_jvp(t) == WG_OK) {
    const wg_real *ty = t->rows[top].tan;
    for (size_t e = 0; e < n; e++) fwd += w[e] * ty[e];
    if (wg_backward_seeded(t, top, w, 0) == WG_OK) rev = leaves_dot(t, top, su);
  }
  wg_free(w, bytes);
  if (!wg_live(t)) return -1;
  double scale = fmax(fabs(fwd), fabs(rev));
  return scale > 0 ? fabs(fwd - rev) / scale : 0;
}
