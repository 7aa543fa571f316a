/* A program outside the tree, built against an installed wengert (tests/consumer/run.sh):
 * L = sum(x^2) at x = (1, 2, 3) has the gradient 2x = (2, 4, 6). Exit 0 when it does.
 * Built against the float64 library and the float32 one (whose pkg-config Cflags or CMake
 * target define WG_REAL_FLOAT); WANT_REAL_BYTES, given by the build, is the wg_real size that
 * build must see (8 or 4): a float header on a double library would also break the values. */
#include <stdio.h>

#include <wengert.h>

#ifndef WANT_REAL_BYTES
#error "build with -DWANT_REAL_BYTES=8 (float64) or 4 (float32)"
#endif

int main(void) {
  wg_param *x = wg_param_new("x", 1, 3);
  wg_tape *t = wg_tape_new();
  if (!x || !t) return 1;
  wg_mat v = wg_param_value(x);
  for (int i = 0; i < 3; i++) v.data[i] = i + 1;
  wg_var L = wg_sum(t, wg_square(t, wg_use(t, x)));
  wg_backward(t, L);
  wg_mat g = wg_param_grad(x);
  int ok = sizeof(wg_real) == WANT_REAL_BYTES && !wg_tape_status(t) && g.data[0] == 2 && g.data[1] == 4 && g.data[2] == 6;
  printf("consumer: sizeof(wg_real) %d, L = %g, dL/dx = (%g, %g, %g): %s\n", (int)sizeof(wg_real),
         (double)wg_value(t, L).data[0], (double)g.data[0], (double)g.data[1], (double)g.data[2],
         ok ? "ok" : "WRONG");
  wg_tape_free(t);
  wg_param_free(x);
  return ok ? 0 : 1;
}
