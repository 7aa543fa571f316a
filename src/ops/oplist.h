/* oplist.h - THE list of ops: one line per op, from which the enum, the op table wg_ops[],
 * the kernels' prototypes, docs/ops.md and the per-op test tables are generated.
 *
 *   WG_OP(ENUM, name, n_in, first, "forward rule", "vjp rule", "jvp rule")
 *
 *   ENUM     WG_OP_<ENUM> in ops.h (upper case of name)
 *   name     the op's name in prints, errors and docs; the op file is src/ops/<name>.c (or
 *            its family's: concat.c) and defines wg_op_<name>_forward, _vjp and _jvp
 *            (void (wg_tape *, wg_row *))
 *   n_in     inputs (0 for leaves, -1 for a list: wg_custom's 1..WG_MAX_INPUTS, concat's any n)
 *   first    1 if the VJP writes an input's adjoint itself when it is the first to reach it
 *            in a sweep: it calls wg_adj_first(x) once per input and then stores 0 + its term
 *            (same bits as adding into zeros; ops.h), so the sweep skips zeroing that adjoint.
 *            0: the sweep zeroes stale adjoints first and the VJP only adds (+=). When in doubt
 *            use 0. Ops built on binary.h (add, sub, mul, div) are 1: binary.c does it.
 *   rules    the op's math as text, shown by wg_tape_print, the backward trace, the teaching
 *            page and docs/ops.md. Letters: inputs are single letters (x; a, b; p, t; z, t);
 *            y is the row's value, c its constant, N the first input's element count; dv is
 *            v's adjoint, tv its tangent; "_ij" index suffixes are kept as written. The VJP
 *            rule has one term per input, separated by ";", each starting "d<letter> += "
 *            (or "-="): the trace splits it there, takes the inputs' letters from it in input
 *            order and substitutes the rows' labels for the letters (print.c, rule_terms and
 *            sb_rule). If the terms do not match the inputs one to one, the trace shows
 *            "adj(x) += J^T adj(y)" for each input instead.
 *
 * Adding an op (docs/design.md, "Adding an op", has the whole walk):
 *   1. a line here, at the end of its family (the order is the order of docs/ops.md);
 *   2. src/ops/<name>.c: math comment, constructor (wg_op_unary, wg_op_bcast, wg_op_reduce,
 *      wg_op_pair_loss or its own shape check, then wg_op_record), forward, VJP, JVP; a
 *      binary elementwise op gives only its per-element math (binary.h);
 *   3. its prototype in include/wengert.h, with its shapes;
 *   4. `make test`, then what it says: run_<name> in tests/check_ops.c, case_<name> in
 *      tests/check_gradcheck.c and fz_<name> in tests/fuzz/fuzz_graph.c (each table is
 *      generated from this list, so a missing one does not compile), and `make docs`. */
/* clang-format off */
WG_OP(INPUT,      input,      0, 0, "y = data (caller's buffer)",          "none: inputs need no gradient",               "ty set by the caller")
WG_OP(SCALAR,     scalar,     0, 0, "y = c",                               "none: constants need no gradient",            "ty = 0")
WG_OP(PARAM,      param,      0, 0, "y = W (parameter value)",             "grad(W) += dy",                               "ty set by the caller")
WG_OP(MATMUL,     matmul,     2, 1, "y = a b",                             "da += dy b^T;  db += a^T dy",                 "ty = ta b + a tb")
WG_OP(TRANSPOSE,  transpose,  1, 0, "y = x^T",                             "dx += dy^T",                                  "ty = tx^T")
WG_OP(ADD,        add,        2, 1, "y = a + b",                           "da += unbcast(dy);  db += unbcast(dy)",       "ty = ta + tb")
WG_OP(SUB,        sub,        2, 1, "y = a - b",                           "da += unbcast(dy);  db -= unbcast(dy)",       "ty = ta - tb")
WG_OP(MUL,        mul,        2, 1, "y = a * b",                           "da += unbcast(dy * b);  db += unbcast(dy * a)", "ty = ta * b + a * tb")
WG_OP(DIV,        div,        2, 1, "y = a / b",                           "da += unbcast(dy / b);  db -= unbcast(dy * y / b)", "ty = ta / b - tb / b * y")
WG_OP(NEG,        neg,        1, 0, "y = -x",                              "dx -= dy",                                    "ty = -tx")
WG_OP(SCALE,      scale,      1, 0, "y = c x",                             "dx += c dy",                                  "ty = c tx")
WG_OP(EXP,        exp,        1, 0, "y = exp(x)",                          "dx += dy * y",                                "ty = tx * y")
WG_OP(LOG,        log,        1, 0, "y = log(x)",                          "dx += dy / x",                                "ty = tx / x")
WG_OP(SIGMOID,    sigmoid,    1, 1, "y = 1 / (1 + exp(-x))",               "dx += dy * y * (1 - y)",                      "ty = tx * y * (1 - y)")
WG_OP(TANH,       tanh,       1, 1, "y = tanh(x)",                         "dx += dy * (1 - y^2)",                        "ty = tx * (1 - y^2)")
WG_OP(RELU,       relu,       1, 1, "y = max(x, 0)",                       "dx += dy * [x > 0]",                          "ty = tx * [x > 0]")
WG_OP(SQUARE,     square,     1, 0, "y = x^2",                             "dx += 2 x dy",                                "ty = 2 x tx")
WG_OP(SUM,        sum,        1, 0, "y = sum(x)",                          "dx += dy",                                    "ty = sum(tx)")
WG_OP(MEAN,       mean,       1, 0, "y = sum(x) / N",                      "dx += dy / N",                                "ty = sum(tx) / N")
WG_OP(SUM_ROWS,   sum_rows,   1, 0, "y_j = sum_i x_ij",                    "dx_ij += dy_j",                               "ty_j = sum_i tx_ij")
WG_OP(BCE,        bce,        2, 0, "y = -mean(t log p + (1-t) log(1-p)), logs >= -100", "dp += dy (-t/p + (1-t)/(1-p)) / N;  dt += dy (log(1-p) - log p) / N", "ty = sum(dy/dp tp + dy/dt tt)")
WG_OP(BCE_LOGITS, bce_logits, 2, 0, "y = mean(max(z,0) - z t + log1p(exp(-|z|)))", "dz += dy (sigmoid(z) - t) / N;  dt -= dy z / N", "ty = sum((sigmoid(z) - t) tz - z tt) / N")
WG_OP(MSE,        mse,        2, 0, "y = mean((a - b)^2)",                 "da += dy 2 (a - b) / N;  db -= dy 2 (a - b) / N", "ty = sum(2 (a - b)(ta - tb)) / N")
WG_OP(SOFTMAX,    softmax,    1, 0, "y_ij = exp(x_ij - max_k x_ik) / sum_k exp(x_ik - max_k x_ik)", "dx_ij += y_ij (dy_ij - sum_k dy_ik y_ik)", "ty_ij = y_ij (tx_ij - sum_k tx_ik y_ik)")
WG_OP(SOFTMAX_CE, softmax_ce, 2, 0, "y = mean_i(logsumexp(z_i) - z_i,c_i), c: class labels (m x 1)", "dz += dy (softmax(z) - onehot(c)) / m;  labels: none", "ty = sum((softmax(z) - onehot(c)) tz) / m")
WG_OP(SUM_AXIS,   sum_axis,   1, 0, "y = sum of x along axis c: y_j = sum_i x_ij (axis 0, 1 x n), y_i = sum_j x_ij (axis 1, m x 1)", "dx_ij += dy_j (axis 0) or dy_i (axis 1)", "ty = sum of tx along axis c")
WG_OP(MEAN_AXIS,  mean_axis,  1, 0, "y = mean of x along axis c: sum_i x_ij / m (axis 0), sum_j x_ij / n (axis 1)", "dx_ij += dy_j / m (axis 0) or dy_i / n (axis 1)", "ty = mean of tx along axis c")
WG_OP(MAX_AXIS,   max_axis,   1, 0, "y = max of x along axis c (k* the first maximum; NaN wins)", "dx_ij += dy at the first maximum of x_ij's group, 0 elsewhere", "ty = tx at the first maximum")
WG_OP(LOGSUMEXP_AXIS, logsumexp_axis, 1, 0, "y = M + log sum exp(x - M) along axis c, M = max along axis c", "dx_ij += dy_g exp(x_ij - y_g), g the group of x_ij", "ty_g = sum over the group of exp(x - y_g) tx")
WG_OP(LOG_SOFTMAX, log_softmax, 1, 0, "y_ij = x_ij - logsumexp_k x_ik", "dx_ij += dy_ij - exp(y_ij) sum_k dy_ik", "ty_ij = tx_ij - sum_k exp(y_ik) tx_ik")
WG_OP(LAYERNORM,  layernorm,  1, 0, "y_ij = (x_ij - mu_i) s_i, mu_i = mean_j x_ij, s_i = 1 / sqrt(mean_j (x_ij - mu_i)^2 + c)", "dx_ij += s_i (dy_ij - mean_k dy_ik - y_ij mean_k dy_ik y_ik)", "ty_ij = s_i (tx_ij - mean_k tx_ik - y_ij mean_k tx_ik y_ik)")
WG_OP(DROPOUT,    dropout,    1, 0, "y = x * m, m = [u >= c] / (1 - c) drawn at record (training), m = 1 (evaluation)", "dx += dy * m", "ty = tx * m")
WG_OP(POW,        pow,        1, 0, "y = x^c (c a constant)",              "dx += dy * c * x^(c-1), 0 when c = 0, +inf at 0 when 0 < c < 1", "ty = tx * c * x^(c-1)")
WG_OP(SQRT,       sqrt,       1, 0, "y = sqrt(x)",                         "dx += dy / (2 y), +inf at 0",                  "ty = tx / (2 y)")
WG_OP(ABS,        abs,        1, 0, "y = |x|",                             "dx += dy * sign(x), sign(0) = 0",              "ty = tx * sign(x)")
WG_OP(SIN,        sin,        1, 0, "y = sin(x)",                          "dx += dy * cos(x)",                           "ty = tx * cos(x)")
WG_OP(COS,        cos,        1, 0, "y = cos(x)",                          "dx -= dy * sin(x)",                           "ty = -tx * sin(x)")
WG_OP(SOFTPLUS,   softplus,   1, 0, "y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))", "dx += dy * sigmoid(x)",         "ty = tx * sigmoid(x)")
WG_OP(GELU,       gelu,       1, 0, "y = x Phi(x) = x/2 (1 + erf(x / sqrt(2)))", "dx += dy * (Phi(x) + x phi(x)), phi(x) = exp(-x^2/2) / sqrt(2 pi)", "ty = tx * (Phi(x) + x phi(x))")
WG_OP(LEAKY_RELU, leaky_relu, 1, 0, "y = x [x > 0] + c x [x <= 0]",        "dx += dy * ([x > 0] + c [x <= 0])",           "ty = tx * ([x > 0] + c [x <= 0])")
WG_OP(CLAMP,      clamp,      1, 0, "y = min(max(x, lo), hi)",             "dx += dy * [lo <= x <= hi]",                  "ty = tx * [lo <= x <= hi]")
WG_OP(MAXIMUM,    maximum,    2, 1, "y = max(a, b)",                       "da += unbcast(dy * ([a > b] + [a == b] / 2));  db += unbcast(dy * ([b > a] + [a == b] / 2))", "ty = ta * ([a > b] + [a == b] / 2) + tb * ([b > a] + [a == b] / 2)")
WG_OP(MINIMUM,    minimum,    2, 1, "y = min(a, b)",                       "da += unbcast(dy * ([a < b] + [a == b] / 2));  db += unbcast(dy * ([b < a] + [a == b] / 2))", "ty = ta * ([a < b] + [a == b] / 2) + tb * ([b < a] + [a == b] / 2)")
WG_OP(CONV2D,     conv2d,     2, 0, "y_b = w^T im2col(x_b), image b of x in row b, channel-major", "dx_b += col2im(w dy_b);  dw += sum_b im2col(x_b) dy_b^T", "ty_b = tw^T im2col(x_b) + w^T im2col(tx_b)")
WG_OP(MAXPOOL2D,  maxpool2d,  1, 0, "y = max of x over each window, per image and channel", "dx_m += dy, m: the window's first maximum",     "ty = tx_m")
WG_OP(AVGPOOL2D,  avgpool2d,  1, 0, "y = mean of x over each window of n = kernel^2 values", "dx += dy / n over the window",                 "ty = mean of tx over the window")
WG_OP(RESHAPE,    reshape,    1, 0, "y = x reshaped, the same elements in row-major order", "dx += dy reshaped to x's shape", "ty = tx reshaped to y's shape")
WG_OP(SLICE,      slice,      1, 0, "y_ij = x_(r0+i)(c0+j), the block at (r0, c0)", "dx_(r0+i)(c0+j) += dy_ij",           "ty_ij = tx_(r0+i)(c0+j)")
WG_OP(CONCAT_ROWS, concat_rows, -1, 0, "y = the inputs stacked top to bottom", "dx_k += dy's rows of input k",             "ty = the inputs' tangents stacked")
WG_OP(CONCAT_COLS, concat_cols, -1, 0, "y = the inputs side by side, left to right", "dx_k += dy's columns of input k",   "ty = the inputs' tangents side by side")
WG_OP(GATHER_ROWS, gather_rows, 2, 0, "y_i = x_(idx_i), the rows of x that idx names", "dx_(idx_i) += dy_i;  indices: none", "ty_i = tx_(idx_i)")
WG_OP(BROADCAST,  broadcast,  1, 0, "y = x repeated to the row's shape along x's axes of size 1", "dx += unbcast(dy)", "ty = tx repeated")
WG_OP(STEP,       step,       1, 0, "y = [x > 0], 1 or 0 (a NaN gives 0)", "dx += 0: the slope is 0 (undefined at 0)", "ty = 0")
WG_OP(NORMAL_CDF, normal_cdf, 1, 0, "y = Phi(x) = erfc(-x / sqrt(2)) / 2, the standard normal CDF", "dx += dy * phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)", "ty = tx * phi(x)")
WG_OP(ONEHOT,     onehot,     1, 0, "y_ij = [j == c_i], c: class labels (m x 1), n = y's columns", "none: labels need no gradient", "ty = 0")
WG_OP(ARGMAX_MASK, argmax_mask, 1, 0, "y = 1 at the first maximum of each group of x along axis c (the first NaN if any), 0 elsewhere", "dx += 0: the slope is 0 (undefined where the maximum moves)", "ty = 0")
WG_OP(DROPOUT_APPLY, dropout_apply, 1, 0, "y = x * m, m the mask of a dropout row as its last forward used it (1 in evaluation)", "dx += dy * m", "ty = tx * m")
WG_OP(CUSTOM,     custom,    -1, 0, "y = f(x_1..x_n) (the user's forward)", "dx_i += J_i^T dy (the user's vjp)",         "ty = sum_i J_i tx_i (the user's jvp)")
/* clang-format on */
