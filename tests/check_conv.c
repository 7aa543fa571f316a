/* check_conv.c - conv2d, maxpool2d and avgpool2d beyond the generic per-op tables: a
 * hand-computed case, direct (7-deep loop) convolution on random shapes, forward mode against
 * the direct loop, the dot test on shapes that cross the matrix kernel's blocks, PyTorch's
 * numbers, the pools' subgradient and NaN rules, bad arguments and the finite checks. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h"
#include "testutil.h"

/* direct convolution: out (B x O*Ho*Wo) from x (B x C*H*W) and w (C*kh*kw x O) */
static void direct_conv(const wg_conv2d_shape *c, int B, int O, const wg_real *x, const wg_real *w,
                        double *out) {
  int ho = (c->height + 2 * c->padding - c->kernel_h) / c->stride + 1;
  int wo = (c->width + 2 * c->padding - c->kernel_w) / c->stride + 1;
  int chw = c->channels * c->height * c->width;
  for (int b = 0; b < B; b++)
    for (int o = 0; o < O; o++)
      for (int p = 0; p < ho; p++)
        for (int q = 0; q < wo; q++) {
          double acc = 0;
          for (int ch = 0; ch < c->channels; ch++)
            for (int i = 0; i < c->kernel_h; i++)
              for (int j = 0; j < c->kernel_w; j++) {
                int y = p * c->stride - c->padding + i, z = q * c->stride - c->padding + j;
                if (y < 0 || y >= c->height || z < 0 || z >= c->width) continue;
                acc += x[(size_t)b * chw + (ch * c->height + y) * c->width + z] *
                       w[(size_t)((ch * c->kernel_h + i) * c->kernel_w + j) * O + o];
              }
          out[(size_t)b * O * ho * wo + (o * ho + p) * wo + q] = acc;
        }
}

static double *randoms(size_t n, unsigned long long *s) {
  double *v = malloc(n * sizeof *v);
  ck_assert_ptr_nonnull(v);
  for (size_t i = 0; i < n; i++) v[i] = tu_uniform(s, -1, 1);
  return v;
}

/* ---- a 1-channel 3x3 image by hand ------------------------------------------------------- */

/* x = [1 2 3; 4 5 6; 7 8 9], w = [1 0; 0 -1] (2x2, stride 1, no padding):
 *   y = [1-5 2-6; 4-8 5-9] = [-4 -4; -4 -4]
 * with padding 1 and stride 2 the 4x4 output grid of the 5x5 padded image keeps rows and
 * columns 0 and 2: y[p][q] = x[2p-1][2q-1] - x[2p][2q] (0 outside) = [0-1 0-3; 0-7 5-9].
 * L = sum(y) of the first: dw = [sum of x's top-left 2x2 windows ...] = [1+2+4+5, 2+3+5+6;
 * 4+5+7+8, 5+6+8+9] = [12 16; 24 28], dx_ij = (number of windows holding pixel ij with w = 1)
 * - (with w = -1) = [1 1 0; 1 0 -1; 0 -1 -1]. */
START_TEST(conv2d_by_hand_3x3) {
  const wg_real x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  wg_param *W = wg_param_new("W", 4, 1), *X = wg_param_new("X", 1, 9);
  memcpy(wg_param_value(X).data, x, sizeof x);
  const wg_real w[4] = {1, 0, 0, -1};
  memcpy(wg_param_value(W).data, w, sizeof w);
  wg_tape *t = wg_tape_new();
  wg_conv2d_shape s = {1, 3, 3, 2, 2, 1, 0};
  wg_var y = wg_conv2d(t, wg_use(t, X), wg_use(t, W), s);
  wg_mat v = wg_value(t, y);
  ck_assert_int_eq(v.rows, 1);
  ck_assert_int_eq(v.cols, 4);
  for (int i = 0; i < 4; i++) ck_assert_double_eq(v.data[i], -4);
  ck_assert_int_eq(wg_backward(t, wg_sum(t, y)), WG_OK);
  const double dw[4] = {12, 16, 24, 28}, dx[9] = {1, 1, 0, 1, 0, -1, 0, -1, -1};
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_param_grad(W).data[i], dw[i]);
  for (int i = 0; i < 9; i++) ck_assert_double_eq(wg_param_grad(X).data[i], dx[i]);
  wg_conv2d_shape s2 = {1, 3, 3, 2, 2, 2, 1};
  wg_var y2 = wg_conv2d(t, wg_use(t, X), wg_use(t, W), s2);
  v = wg_value(t, y2);
  const double e2[4] = {-1, -3, -7, -4};
  ck_assert_int_eq(v.cols, 4);
  for (int i = 0; i < 4; i++) ck_assert_double_eq(v.data[i], e2[i]);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  wg_tape_free(t);
  wg_param_free(W);
  wg_param_free(X);
}
END_TEST

/* ---- random shapes against the direct loop, forward and forward mode ------------------------ */

/* y against direct_conv; then with tangents tx, tw on the leaves, ty against
 * direct(tx, w) + direct(x, tw) (the JVP is linear in the tangents, exact up to rounding); then
 * the dot test <ty, u> = <tx, dx> + <tw, dw> for a random cotangent u (wg_dot_test). */
static void conv_case(int B, int C, int H, int W, int kh, int kw, int stride, int pad, int O,
                      unsigned long long seed) {
  wg_conv2d_shape s = {C, H, W, kh, kw, stride, pad};
  int ho = (H + 2 * pad - kh) / stride + 1, wo = (W + 2 * pad - kw) / stride + 1;
  size_t nx = (size_t)B * C * H * W, nw = (size_t)C * kh * kw * O, ny = (size_t)B * O * ho * wo;
  unsigned long long r = seed;
  wg_param *PX = wg_param_new("X", B, C * H * W), *PW = wg_param_new("W", C * kh * kw, O);
  wg_real *x = wg_param_value(PX).data, *w = wg_param_value(PW).data;
  double *v = randoms(nx, &r), *u = randoms(nw, &r);
  tu_to_real(x, v, nx);
  tu_to_real(w, u, nw);
  free(v), free(u);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_use(t, PX), Wv = wg_use(t, PW), y = wg_conv2d(t, X, Wv, s);
  ck_assert_msg(wg_tape_status(t) == WG_OK, "%s", wg_tape_error(t));
  double *ref = malloc(ny * sizeof *ref), *ref2 = malloc(ny * sizeof *ref2);
  direct_conv(&s, B, O, x, w, ref);
  wg_mat yv = wg_value(t, y);
  ck_assert_int_eq(yv.rows, B);
  ck_assert_int_eq(yv.cols, O * ho * wo);
  double d = tu_max_rel_diff(yv.data, ref, ny, 1.0);
  ck_assert_msg(d <= TU_TOL(1e-12), "B%d C%d %dx%d k%dx%d s%d p%d O%d: forward off by %g", B, C, H, W, kh,
                kw, stride, pad, O, d);
  /* forward mode */
  wg_real *tx = wg_tangent(t, X).data, *tw = wg_tangent(t, Wv).data;
  for (size_t i = 0; i < nx; i++) tx[i] = tu_uniform(&r, -1, 1);
  for (size_t i = 0; i < nw; i++) tw[i] = tu_uniform(&r, -1, 1);
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  direct_conv(&s, B, O, tx, w, ref);
  direct_conv(&s, B, O, x, tw, ref2);
  for (size_t i = 0; i < ny; i++) ref[i] += ref2[i];
  d = tu_max_rel_diff(wg_tangent(t, y).data, ref, ny, 1.0);
  ck_assert_msg(d <= TU_TOL(1e-12), "B%d C%d %dx%d: JVP off by %g", B, C, H, W, d);
  /* reverse mode against forward mode on the non-scalar output */
  d = wg_dot_test(t, y, (unsigned)seed);
  ck_assert_msg(d >= 0 && d < TU_TOL(1e-12), "B%d C%d %dx%d k%dx%d s%d p%d O%d: dot test %g", B, C, H, W,
                kh, kw, stride, pad, O, d);
  wg_tape_free(t);
  wg_param_free(PX);
  wg_param_free(PW);
  free(ref), free(ref2);
}

START_TEST(conv2d_matches_the_direct_loop_on_random_shapes) {
  unsigned long long r = 77;
  for (int n = 0; n < 40; n++) {
    int stride = 1 + n % 2, pad = (n / 2) % 2;
    int C = 1 + (int)tu_uniform(&r, 0, 4), H = 1 + (int)tu_uniform(&r, 0, 9),
        W = 1 + (int)tu_uniform(&r, 0, 9);
    int kh = 1 + (int)tu_uniform(&r, 0, H + 2 * pad), kw = 1 + (int)tu_uniform(&r, 0, W + 2 * pad);
    if (kh > 5) kh = 5;
    if (kw > 5) kw = 5;
    int B = 1 + (int)tu_uniform(&r, 0, 4), O = 1 + (int)tu_uniform(&r, 0, 5);
    conv_case(B, C, H, W, kh, kw, stride, pad, O, 1000 + (unsigned)n);
  }
}
END_TEST

/* The per-image products are (O x P) = (O x K)(K x P), (K x O) = (K x P)(P x O) and
 * (K x P) = (K x O)(O x P): with K = KC + 1, O = MC + MR + 2 and P past NR they take the
 * blocked path of wg_gemm and cross its K, M and N block edges. */
START_TEST(conv2d_crosses_the_matrix_kernel_blocks) {
  int C = (WG_GEMM_KC + 1 + 8) / 9; /* 3x3 kernels: K = 9 C > KC */
  conv_case(2, C, 7, 6, 3, 3, 1, 1, WG_GEMM_MC + WG_GEMM_MR + 2, 4242);
  ck_assert_int_eq(wg_gemm_path_of(WG_GEMM_MC + WG_GEMM_MR + 2, 42, 9 * C), WG_GEMM_BLOCKED);
  conv_case(1, 3, 50, 48, 3, 3, 1, 1, 8, 4343); /* P = 2400 > NC = 2040 (at the default) */
}
END_TEST

/* ---- PyTorch's numbers ---------------------------------------------------------------------
 * x[b][c][i][j] = sin(1 + b*50 + c*25 + i*5 + j) (2 images, 2 channels of 5x5),
 * w_torch[o][c][i][j] = cos(1 + o*18 + c*9 + i*3 + j) (3 x 2 x 3 x 3), stride 2, padding 1:
 *   python3 -c "import torch, math; x = torch.tensor([[[[math.sin(1+b*50+c*25+i*5+j) for j in
 *   range(5)] for i in range(5)] for c in range(2)] for b in range(2)], dtype=torch.float64);
 *   w = torch.tensor([[[[math.cos(1+o*18+c*9+i*3+j) for j in range(3)] for i in range(3)]
 *   for c in range(2)] for o in range(3)], dtype=torch.float64, requires_grad=True);
 *   y = torch.nn.functional.conv2d(x, w, stride=2, padding=1); (y*y).sum().backward();
 *   print(y.flatten().tolist()); print(w.grad.flatten().tolist())"
 * (torch 1.13.1, Debian bookworm's python3-torch). Our w is w_torch reshaped to (3, 18) and transposed. */
static const double torch_y[27] = {
    0.40684394867187218, -0.3499250594561984, -0.5136532926992563, -0.15988326581341944,
    0.035084888307460399, 0.24573295053706018, 0.55573383026905998, 0.052858991341192429,
    -0.65700146523650504, 0.48266037612150819, -0.46422461927196995, -0.16903698609817158,
    -0.24493078115772121, 0.053610190053334575, 0.11780167508357653, 0.68748142837897075,
    -0.27147764893126619, -0.24807680845237196, 0.23057347284893603, -0.26314548551085892,
    0.29041740023556673, -0.16358050851001582, 0.035714520141254896, -0.090160121903408497,
    0.35217711726322043, -0.41138144634946394, 0.32938294213857011
};
static const double torch_dw[54] = {
    0.078317380273161763, -2.9547812345440532, -2.4002647061825955, 3.7158048575184726,
    7.0028936503464099, 2.9000207874313846, -1.89471225057502, -0.14741540278895998,
    1.0560403036042487, 0.54079838982493711, -2.2949842817332278, -2.2360347283649431,
    3.5383459095472078, 7.2306694162096132, 3.1751461839335891, -2.1198457256970062,
    -0.80061874847903369, 0.66103991921023231, 1.0667269378732032, -0.13092059089390751,
    -2.9750116685512795, -0.17265971352255916, 6.4561256475098574, 5.1570601977345341,
    -1.4938341929817671, -2.0166188263388616, 1.1247934321954511, 1.163847566484987,
    0.51892691176316386, -2.5645451438729276, -0.41330034225000883, 6.2031793929793428,
    5.5015813465197887, -1.404506526476557, -2.5080402875908243, 0.60315405386910359,
    1.3304378601502813, 2.7818831273031872, -1.5286351177484208, -3.9438250448776411,
    1.5232816208013671, 3.9105652405378848, -0.078095103369325625, -2.5157988075932782,
    0.42939948959947416, 0.99621759817356326, 2.9802965021226675, -1.1507892867260794,
    -4.0841641525685661, 0.96145657862964506, 4.090425985808376, 0.26500747315635131,
    -2.5115830652119886, 0.13550547961960602
};

START_TEST(conv2d_matches_pytorch) {
  wg_param *PX = wg_param_new("X", 2, 50), *PW = wg_param_new("W", 18, 3);
  for (int b = 0; b < 2; b++)
    for (int e = 0; e < 50; e++) wg_param_value(PX).data[b * 50 + e] = sin(1 + b * 50 + e);
  for (int o = 0; o < 3; o++)
    for (int k = 0; k < 18; k++) wg_param_value(PW).data[k * 3 + o] = cos(1 + o * 18 + k);
  wg_tape *t = wg_tape_new();
  wg_conv2d_shape s = {2, 5, 5, 3, 3, 2, 1};
  wg_var y = wg_conv2d(t, wg_use(t, PX), wg_use(t, PW), s);
  ck_assert_int_eq(wg_backward(t, wg_sum(t, wg_square(t, y))), WG_OK);
  wg_mat v = wg_value(t, y);
  ck_assert_int_eq(v.cols, 27);
  for (int i = 0; i < 27; i++)
    ck_assert_msg(fabs(v.data[i] - torch_y[i]) <= TU_TOL(1e-13), "y[%d] %.17g torch %.17g", i, v.data[i],
                  torch_y[i]);
  for (int i = 0; i < 54; i++) {
    /* w_torch.grad flat index o*18 + k is our dW[k][o] */
    int o = i / 18, k = i % 18;
    ck_assert_msg(fabs(wg_param_grad(PW).data[k * 3 + o] - torch_dw[i]) <= TU_TOL(1e-12),
                  "dw[%d] %.17g torch %.17g", i, wg_param_grad(PW).data[k * 3 + o], torch_dw[i]);
  }
  wg_tape_free(t);
  wg_param_free(PX);
  wg_param_free(PW);
}
END_TEST

/* ---- pools: the first maximum, NaN, averages near DBL_MAX, by hand ------------------------- */

START_TEST(maxpool_subgradient_goes_to_the_first_maximum) {
  /* one 2x4 image, 2x2 windows, stride 2: [3 3 | 1 2; 3 0 | 2 1] -> [3, 2]; the first window
   * holds 3 three times (columns 0, 1, 4): the gradient goes to column 0 only; the second
   * window's 2 sits at columns 3 and 6: to column 3 */
  wg_param *P = wg_param_new("X", 1, 8);
  const wg_real x[8] = {3, 3, 1, 2, 3, 0, 2, 1};
  memcpy(wg_param_value(P).data, x, sizeof x);
  wg_tape *t = wg_tape_new();
  wg_pool2d_shape s = {1, 2, 4, 2, 2};
  wg_var y = wg_maxpool2d(t, wg_use(t, P), s);
  ck_assert_double_eq(wg_value(t, y).data[0], 3);
  ck_assert_double_eq(wg_value(t, y).data[1], 2);
  ck_assert_int_eq(wg_backward(t, wg_sum(t, y)), WG_OK);
  const double g[8] = {1, 0, 0, 1, 0, 0, 0, 0};
  for (int i = 0; i < 8; i++) ck_assert_double_eq(wg_param_grad(P).data[i], g[i]);
  /* avgpool of the same: [(3+3+3+0)/4, (1+2+2+1)/4], gradient 1/4 everywhere */
  wg_param_zero_grad(P);
  wg_var a = wg_avgpool2d(t, wg_use(t, P), s);
  ck_assert_double_eq(wg_value(t, a).data[0], 2.25);
  ck_assert_double_eq(wg_value(t, a).data[1], 1.5);
  ck_assert_int_eq(wg_backward(t, wg_sum(t, a)), WG_OK);
  for (int i = 0; i < 8; i++) ck_assert_double_eq(wg_param_grad(P).data[i], 0.25);
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

START_TEST(pools_propagate_nan_and_average_dbl_max) {
  wg_real x[8] = {1, NAN, 5, 2, 3, 4, 6, 7}; /* windows [1 NaN; 3 4] and [5 2; 6 7] */
  wg_tape *t = wg_tape_new();
  wg_pool2d_shape s = {1, 2, 4, 2, 2};
  wg_var X = wg_input(t, 1, 8, x);
  wg_mat m = wg_value(t, wg_maxpool2d(t, X, s)), a = wg_value(t, wg_avgpool2d(t, X, s));
  ck_assert(isnan(m.data[0]));
  ck_assert_double_eq(m.data[1], 7);
  ck_assert(isnan(a.data[0]));
  ck_assert_double_eq(a.data[1], 5);
  /* every value TU_MAX: the mean is TU_MAX, not inf (each term is divided first) */
  wg_tape_reset(t);
  wg_tape_set_checks(t, WG_CHECK_FINITE);
  for (int i = 0; i < 8; i++) x[i] = TU_MAX;
  wg_mat big = wg_value(t, wg_avgpool2d(t, wg_input(t, 1, 8, x), s));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_double_eq(big.data[0], TU_MAX);
  wg_tape_free(t);
}
END_TEST

/* With WG_CHECK_FINITE, the conv2d row that overflows is the one named; a NaN from a leaf is
 * blamed on the leaf before any of the three ops sees it. */
START_TEST(finite_checks_name_the_conv_row) {
  wg_tape *t = wg_tape_new();
  wg_tape_set_checks(t, WG_CHECK_FINITE);
  const double b = TU_F32 ? 1e30 : 1e300; /* b * b overflows */
  wg_real x[4] = {b, b, b, b}, w[4] = {b, 1, 1, 1};
  wg_conv2d_shape s = {1, 2, 2, 2, 2, 1, 0};
  wg_var X = wg_input(t, 1, 4, x), W = wg_input(t, 4, 1, w);
  wg_var y = wg_conv2d(t, X, W, s);
  ck_assert_uint_eq(y.gen, 0);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
  ck_assert_msg(strncmp(wg_tape_error(t), "conv2d: row 2", 13) == 0, "%s", wg_tape_error(t));
  wg_tape_reset(t);
  x[1] = NAN;
  X = wg_input(t, 1, 4, x);
  wg_pool2d_shape ps = {1, 2, 2, 2, 1};
  wg_maxpool2d(t, X, ps);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
  ck_assert_msg(strstr(wg_tape_error(t), "input") != NULL, "%s", wg_tape_error(t));
  wg_tape_free(t);
}
END_TEST

/* ---- bad arguments: a clear status naming the op, the shapes and the row ------------------ */

static void expect_error(wg_tape *t, wg_status st, const char *msg) {
  ck_assert_int_eq(wg_tape_status(t), st);
  ck_assert_str_eq(wg_tape_error(t), msg);
  wg_tape_reset(t);
}

START_TEST(bad_arguments_are_reported) {
  wg_tape *t = wg_tape_new();
  wg_real d[64] = {0};
  wg_var X, W;
#define LEAVES() (X = wg_input(t, 2, 9, d), wg_name(t, X, "X"), W = wg_input(t, 4, 3, d))
  LEAVES();
  wg_conv2d(t, X, W, (wg_conv2d_shape){1, 3, 4, 2, 2, 1, 0});
  expect_error(t, WG_ERR_SHAPE, "conv2d: x X (2x9) has 9 columns, not channels*height*width = "
               "1*3*4 = 12 (row 2)");
  LEAVES();
  wg_conv2d(t, X, W, (wg_conv2d_shape){1, 3, 3, 3, 2, 1, 0});
  expect_error(t, WG_ERR_SHAPE, "conv2d: w (4x3) has 4 rows, not channels*kernel_h*kernel_w = "
               "1*3*2 = 6 (x X (2x9)) (row 2)");
  LEAVES();
  wg_conv2d(t, X, wg_input(t, 16, 3, d), (wg_conv2d_shape){1, 3, 3, 4, 4, 1, 0});
  expect_error(t, WG_ERR_SHAPE, "conv2d: x X (2x9), w (16x3): kernel 4x4 is larger than the "
               "padded image 3x3 (3x3, padding 0) (row 3)");
  LEAVES();
  wg_conv2d(t, X, W, (wg_conv2d_shape){1, 3, 3, 2, 2, 0, 0});
  expect_error(t, WG_ERR_ARG, "conv2d: x X (2x9), w (4x3): channels 1, height 3, width 3, kernel "
               "2x2, stride 0, padding 0: sizes and stride must be >= 1, padding >= 0 (row 2)");
  LEAVES();
  wg_conv2d(t, X, W, (wg_conv2d_shape){1, 3, 3, 2, 2, 1, -1});
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  wg_tape_reset(t);
  LEAVES();
  wg_maxpool2d(t, X, (wg_pool2d_shape){2, 2, 2, 2, 1});
  expect_error(t, WG_ERR_SHAPE, "maxpool2d: x X (2x9) has 9 columns, not channels*height*width "
               "= 2*2*2 = 8 (row 2)");
  LEAVES();
  wg_avgpool2d(t, X, (wg_pool2d_shape){1, 3, 3, 4, 1});
  expect_error(t, WG_ERR_SHAPE, "avgpool2d: x X (2x9): kernel 4x4 is larger than the image 3x3 "
               "(row 2)");
  LEAVES();
  wg_avgpool2d(t, X, (wg_pool2d_shape){1, 3, 3, 2, -1});
  expect_error(t, WG_ERR_ARG, "avgpool2d: x X (2x9): channels 1, height 3, width 3, kernel 2, "
               "stride -1: each must be >= 1 (row 2)");
  /* the none handle, and a tape in error: no crash, the first error stays */
  wg_conv2d(t, (wg_var){0, 0}, W, (wg_conv2d_shape){1, 3, 3, 2, 2, 1, 0});
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ck_assert_str_eq(wg_tape_error(t), "conv2d: input is the none handle (an earlier call failed?)");
  wg_maxpool2d(t, X, (wg_pool2d_shape){1, 3, 3, 2, 1});
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  wg_maxpool2d(NULL, X, (wg_pool2d_shape){1, 3, 3, 2, 1});
#undef LEAVES
  wg_tape_free(t);
}
END_TEST

/* the helper ops of the recorded VJPs (issue 16): each shape and argument check, by message */
START_TEST(recorded_vjp_helpers_report_bad_arguments) {
  wg_tape *t = wg_tape_new();
  wg_real d[64] = {0}, idx[2] = {0, 3};
  wg_var X, W, Y;
#define LEAVES() (X = wg_input(t, 2, 9, d), wg_name(t, X, "X"), W = wg_input(t, 4, 3, d), \
                  Y = wg_input(t, 2, 5, d), wg_name(t, Y, "Y"))
  wg_conv2d_shape cs = {1, 3, 3, 2, 2, 1, 0}; /* K = 4, 2x2 outputs */
  wg_pool2d_shape ps = {1, 3, 3, 2, 1};       /* 2x2 outputs */
  LEAVES();
  wg_conv2d_transpose(t, Y, W, cs);
  expect_error(t, WG_ERR_SHAPE, "conv2d_transpose: y Y (2x5), w (4x3): w must have "
               "channels*kernel_h*kernel_w = 4 rows and y C_out*H_out*W_out = 3*2*2 columns "
               "(row 3)");
  LEAVES();
  wg_conv2d_transpose(t, Y, W, (wg_conv2d_shape){1, 3, 3, 2, 2, 0, 0});
  expect_error(t, WG_ERR_ARG, "conv2d_transpose: y Y (2x5), w (4x3): channels 1, height 3, width "
               "3, kernel 2x2, stride 0, padding 0: sizes and stride must be >= 1, padding >= 0 "
               "(row 3)");
  LEAVES();
  wg_conv2d_weight_grad(t, X, Y, (wg_conv2d_shape){1, 3, 3, 4, 2, 1, 0});
  expect_error(t, WG_ERR_SHAPE, "conv2d_weight_grad: x X (2x9), y Y (2x5): kernel 4x2 is larger "
               "than the padded image 3x3 (3x3, padding 0) (row 3)");
  LEAVES();
  wg_conv2d_weight_grad(t, X, Y, cs);
  expect_error(t, WG_ERR_SHAPE, "conv2d_weight_grad: x X (2x9), y Y (2x5): x must have "
               "channels*height*width = 1*3*3 columns and y x's 2 rows and C_out*H_out*W_out = "
               "C_out*2*2 columns (row 3)");
  LEAVES();
  wg_maxpool2d_scatter(t, X, Y, ps);
  expect_error(t, WG_ERR_SHAPE, "maxpool2d_scatter: x X (2x9), dy Y (2x5): the second input must "
               "be (2x4), the pooled shape of x (row 3)");
  LEAVES();
  wg_maxpool2d_gather(t, X, Y, ps);
  expect_error(t, WG_ERR_SHAPE, "maxpool2d_gather: x X (2x9), g Y (2x5): the second input must be "
               "(2x9), x's shape (row 3)");
  LEAVES();
  wg_maxpool2d_gather(t, Y, X, ps);
  expect_error(t, WG_ERR_SHAPE, "maxpool2d_gather: x Y (2x5) has 5 columns, not "
               "channels*height*width = 1*3*3 = 9 (row 3)");
  LEAVES();
  wg_avgpool2d_transpose(t, Y, ps);
  expect_error(t, WG_ERR_SHAPE, "avgpool2d_transpose: y Y (2x5) has 5 columns, not "
               "channels*out_height*out_width = 1*2*2 = 4 (row 3)");
  LEAVES();
  wg_pad(t, X, 3, 9, 2, 0);
  expect_error(t, WG_ERR_SHAPE, "pad: X (2x9) at [2,0] does not fit in a (3x9) result (it would "
               "span rows 2..3, columns 0..8) (row 3)");
  LEAVES();
  wg_scatter_rows(t, X, wg_input(t, 2, 1, idx), 3);
  expect_error(t, WG_ERR_ARG, "scatter_rows: index 3 at position 1 of the indices (2x1) is not a "
               "row of the (3x9) result (an integer 0..2) (row 4)");
  LEAVES();
  wg_scatter_rows(t, X, wg_input(t, 1, 2, idx), 3);
  expect_error(t, WG_ERR_SHAPE, "scatter_rows: rows X (2x9), indices (1x2): the indices must be "
               "one column with one row index per row of src (2x1) (row 4)");
  LEAVES();
  wg_scatter_rows(t, X, wg_input(t, 2, 1, idx), 0);
  expect_error(t, WG_ERR_ARG, "scatter_rows: rows X (2x9) into a table of 0 rows: it needs at "
               "least 1 (row 4)");
#undef LEAVES
  wg_tape_free(t);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("conv");
  TCase *c = tcase_create("conv2d");
  tcase_set_timeout(c, 120);
  tcase_add_test(c, conv2d_by_hand_3x3);
  tcase_add_test(c, conv2d_matches_the_direct_loop_on_random_shapes);
  tcase_add_test(c, conv2d_crosses_the_matrix_kernel_blocks);
  tcase_add_test(c, conv2d_matches_pytorch);
  suite_add_tcase(s, c);
  c = tcase_create("pools and errors");
  tcase_add_test(c, maxpool_subgradient_goes_to_the_first_maximum);
  tcase_add_test(c, recorded_vjp_helpers_report_bad_arguments);
  tcase_add_test(c, pools_propagate_nan_and_average_dbl_max);
  tcase_add_test(c, finite_checks_name_the_conv_row);
  tcase_add_test(c, bad_arguments_are_reported);
  suite_add_tcase(s, c);
  return s;
}

WG_TEST_MAIN()
