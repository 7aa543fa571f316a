/* higher_order.c - the seed's gradient recorded as tape rows, and its Hessian, for
 * docs/higher-order.md.
 *
 * The seed's network on its 4-sample data (seed_tiny.h), with the loss composed from
 * primitives as the derivation writes it:
 *   A = sigmoid(X W + b),   L = -mean(t * log(A) + (1 - t) * log(1 - A))
 * wg_gradients records dL/dW and dL/db as new rows of the same tape: the printed table shows
 * each adjoint as a row, adj(A) = dL/dyhat, adj(Z) = adj(A) * A * (1 - A), and
 * adj(W) = X^T adj(Z). Then the Hessian in theta = (W, b), column by column from wg_hvp
 * (forward mode over the gradient rows), against the closed form
 * (1/m) [X 1]^T diag(a (1 - a)) [X 1] computed here in plain C, the other Hessian-vector
 * product (wg_backward of sum(grad * v)), and wg_gradcheck on sum(grad * v).
 *
 *   build/examples/higher_order            readable output
 *   build/examples/higher_order --blocks   the same between "@@ begin NAME" / "@@ end NAME"
 *                                          lines, for make docs (docs/tools/splice.awk) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "seed_tiny.h"

static int markers;

static void begin(const char *name, const char *title) {
  if (markers) printf("@@ begin %s\n", name);
  else printf("\n== %s ==\n", title);
}
static void end(const char *name) {
  if (markers) printf("@@ end %s\n", name);
}

static int fail(wg_tape *t) {
  fprintf(stderr, "higher_order: %s\n", wg_tape_error(t));
  return 1;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--blocks") == 0) markers = 1;
    else {
      fprintf(stderr, "usage: %s [--blocks]\n", argv[0]);
      return 2;
    }
  }
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record_predictions(t, &s);
  /* the loss from primitives, each factor a named row */
  wg_var one = wg_scalar(t, 1);
  wg_var logA = wg_log(t, s.A), log1mA = wg_log(t, wg_sub(t, one, s.A));
  wg_name(t, logA, "logA");
  wg_name(t, log1mA, "log1mA");
  wg_var ll = wg_add(t, wg_mul(t, s.t, logA), wg_mul(t, wg_sub(t, one, s.t), log1mA));
  s.L = wg_neg(t, wg_mean(t, ll));
  wg_name(t, s.L, "L");
  int forward_rows = wg_tape_rows(t);
  /* a wg_use row stands for its parameter (its gradient sums over every use), so a fresh
   * use row of each, recorded after the loss, names what to differentiate */
  wg_var wrt[2] = {wg_use(t, s.W), wg_use(t, s.b)}, G[2];
  if (wg_gradients(t, s.L, 2, wrt, G) != WG_OK) return fail(t);
  int gradient_rows = wg_tape_rows(t);
  wg_name(t, G[0], "dL/dW");
  wg_name(t, G[1], "dL/db");

  begin("gradient-table", "the seed's tape with its gradient recorded as rows");
  wg_tape_print(t, stdout);
  end("gradient-table");

  /* the closed forms, in plain C from the values of A */
  const wg_real *a = wg_value(t, s.A).data;
  double g_ref[3] = {0}, H_ref[3][3] = {{0}};
  for (int i = 0; i < SEED_M; i++) {
    double xi[3] = {seed_x[i * SEED_N], seed_x[i * SEED_N + 1], 1}, w = a[i] * (1 - a[i]);
    for (int j = 0; j < 3; j++) {
      g_ref[j] += xi[j] * (a[i] - seed_t[i]) / SEED_M;
      for (int k = 0; k < 3; k++) H_ref[j][k] += xi[j] * w * xi[k] / SEED_M;
    }
  }
  begin("gradient-check", "the recorded gradient against (1/m) [X 1]^T (A - t)");
  const wg_real *gw = wg_value(t, G[0]).data, *gb = wg_value(t, G[1]).data;
  double got[3] = {gw[0], gw[1], gb[0]};
  for (int j = 0; j < 3; j++)
    printf("%-6s recorded %+.17f   closed form %+.17f   difference %.1e\n",
           j < 2 ? (j ? "dL/dW2" : "dL/dW1") : "dL/db", got[j], g_ref[j], fabs(got[j] - g_ref[j]));
  end("gradient-check");

  begin("hessian", "the Hessian, column by column from wg_hvp, against the closed form");
  double worst = 0;
  for (int j = 0; j < 3; j++) {
    wg_real e[3] = {0}, hw[2], hb[1];
    e[j] = 1;
    const wg_real *v[2] = {e, e + 2};
    wg_real *hv[2] = {hw, hb};
    if (wg_hvp(t, 2, wrt, G, v, hv) != WG_OK) return fail(t);
    double col[3] = {hw[0], hw[1], hb[0]};
    printf("H[:,%d] = [%+.15f %+.15f %+.15f]   closed form [%+.15f %+.15f %+.15f]\n", j, col[0],
           col[1], col[2], H_ref[0][j], H_ref[1][j], H_ref[2][j]);
    for (int k = 0; k < 3; k++) worst = fmax(worst, fabs(col[k] - H_ref[k][j]) / fabs(H_ref[k][j]));
  }
  printf("largest relative difference: %.1e\n", worst);
  end("hessian");

  /* reverse over reverse: S = sum(dL/dW * vW) + sum(dL/db * vb); wg_backward(S) gives H v */
  static const wg_real vw[2] = {0.3, -0.7}, vb[1] = {0.5};
  wg_var S = wg_add(t, wg_sum(t, wg_mul(t, G[0], wg_input(t, 2, 1, vw))),
                    wg_sum(t, wg_mul(t, G[1], wg_input(t, 1, 1, vb))));
  wg_name(t, S, "S");
  wg_param_zero_grad(s.W);
  wg_param_zero_grad(s.b);
  if (wg_backward(t, S) != WG_OK) return fail(t);
  wg_real hw[2], hb[1];
  const wg_real *v[2] = {vw, vb};
  wg_real *hv[2] = {hw, hb};
  if (wg_hvp(t, 2, wrt, G, v, hv) != WG_OK) return fail(t);
  begin("hvp-two-ways", "H v two ways, v = (0.3, -0.7, 0.5)");
  const wg_real *rw = wg_param_grad(s.W).data, *rb = wg_param_grad(s.b).data;
  printf("reverse over reverse (wg_backward of S): [%+.17f %+.17f %+.17f]\n", rw[0], rw[1], rb[0]);
  printf("forward over reverse (wg_hvp):           [%+.17f %+.17f %+.17f]\n", hw[0], hw[1], hb[0]);
  double c[3];
  for (int j = 0; j < 3; j++) c[j] = H_ref[j][0] * vw[0] + H_ref[j][1] * vw[1] + H_ref[j][2] * vb[0];
  printf("closed form H v:                         [%+.17f %+.17f %+.17f]\n", c[0], c[1], c[2]);
  end("hvp-two-ways");

  begin("gradgradcheck", "second derivatives against finite differences: wg_gradcheck on S");
  wg_gradcheck_result r;
  int failed = wg_gradcheck(t, S, NULL, &r);
  printf("wg_gradcheck(S): %d failed of %d checked, max abs error %.1e, max rel error %.1e\n",
         failed, r.checked, r.max_abs_err, r.max_rel_err);
  printf("rows: %d for the loss, %d after wg_gradients, %d with S\n", forward_rows,
         gradient_rows, wg_tape_rows(t));
  end("gradgradcheck");

  wg_tape_free(t);
  wg_param_free(s.W);
  wg_param_free(s.b);
  return failed != 0 || worst > 1e-12;
}
