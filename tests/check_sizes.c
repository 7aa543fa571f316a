/* check_sizes.c - element and byte counts never wrap (src/tape/size.h).
 *
 * A shape is two ints; its buffer has rows * cols * 8 bytes. Where size_t has 32 bits, a
 * product of valid dimensions can pass 2^32: (65536x1)(1x65537) makes 65536 * 65537 =
 * 2^32 + 65536 elements, which wrapped to 65536 (a 512 KiB buffer) that the kernel then wrote
 * in full. Such a shape must fail the tape with WG_ERR_SHAPE and a message. Where size_t has
 * 64 bits the same shape is a real request of 34360262656 bytes (65536 * 65537 * 8, by hand),
 * which must fail cleanly with WG_ERR_NOMEM when the memory is not there. INT_MAX x INT_MAX
 * elements of 8 bytes (about 2^65) are more than any size_t counts.
 *
 * Every test runs under an allocator that refuses requests above LIMIT bytes, so no test
 * allocates more than a few MiB on either width (the suite also runs under valgrind), and
 * that checks at the end that everything allocated was freed with its size. */
#include <limits.h>
#include <string.h>

#include "countalloc.h"
#include "testutil.h"

#define LIMIT ((size_t)1 << 28) /* 256 MiB: more than any test needs, less than any huge shape */
#define BIG 65536                 /* BIG * (BIG + 1) = 2^32 + 2^16 */
#define WIDE64 (sizeof(size_t) == 8)

#define ck_assert_has(hay, needle) \
  ck_assert_msg(strstr((hay), (needle)) != NULL, "message \"%s\" lacks \"%s\"", (hay), (needle))

static ca_state heap;

static void limit_heap(void) {
  memset(&heap, 0, sizeof heap);
  heap.limit = LIMIT;
  wg_set_allocator(ca_alloc, &heap);
}

/* Everything the library allocated came back, with the sizes it was allocated with. */
static void check_heap(void) {
  wg_set_allocator(NULL, NULL);
  ck_assert_uint_eq(heap.live, 0);
  ck_assert_int_eq(heap.bad_size, 0);
}

/* (BIG x 1) and (1 x BIG+1) inputs over zeroed buffers the test owns. */
typedef struct {
  wg_real *col, *row;
} outer_data;

static outer_data outer_new(void) {
  outer_data d = {calloc(BIG, sizeof(wg_real)), calloc(BIG + 1, sizeof(wg_real))};
  ck_assert_ptr_nonnull(d.col);
  ck_assert_ptr_nonnull(d.row);
  return d;
}

static void outer_free(outer_data d) {
  free(d.col);
  free(d.row);
}

/* The product of (65536x1) and (1x65537): 32-bit, a shape error naming the op, the shapes and
 * the row, before a row is added; 64-bit, out of memory (34 GB is over the limit). */
START_TEST(test_matmul_outer_product) {
  limit_heap();
  outer_data d = outer_new();
  wg_tape *t = wg_tape_new();
  wg_var a = wg_input(t, BIG, 1, d.col), b = wg_input(t, 1, BIG + 1, d.row);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  wg_var c = wg_matmul(t, a, b);
  ck_assert_uint_eq(c.gen, 0);
  if (WIDE64) {
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
  } else {
    ck_assert_int_eq(wg_tape_rows(t), 2);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
    ck_assert_str_eq(wg_tape_error(t), "matmul: (65536x1), (1x65537) -> (65536x65537): "
                     "4295032832 elements of " TU_REAL_BYTES " bytes are more than a 32-bit size_t counts "
                     "(row 2)");
  }
  wg_tape_free(t);
  outer_free(d);
  check_heap();
}
END_TEST

/* The same shapes broadcast by add, sub, mul and div: (65536x1) op (1x65537) is 65536x65537. */
START_TEST(test_broadcast_outer) {
  wg_var (*const ops[])(wg_tape *, wg_var, wg_var) = {wg_add, wg_sub, wg_mul, wg_div};
  const char *names[] = {"add", "sub", "mul", "div"};
  limit_heap();
  outer_data d = outer_new();
  wg_tape *t = wg_tape_new();
  for (int k = 0; k < 4; k++) {
    wg_tape_reset(t);
    wg_var a = wg_input(t, BIG, 1, d.col), b = wg_input(t, 1, BIG + 1, d.row);
    ck_assert_uint_eq(ops[k](t, a, b).gen, 0);
    if (WIDE64) {
      ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
    } else {
      char want[160];
      snprintf(want, sizeof want, "%s: (65536x1), (1x65537) -> (65536x65537): 4295032832 "
               "elements of " TU_REAL_BYTES " bytes are more than a 32-bit size_t counts (row 2)", names[k]);
      ck_assert_int_eq(wg_tape_rows(t), 2);
      ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
      ck_assert_str_eq(wg_tape_error(t), want);
    }
  }
  /* either order of the operands */
  wg_tape_reset(t);
  wg_var a = wg_input(t, BIG, 1, d.col), b = wg_input(t, 1, BIG + 1, d.row);
  wg_add(t, b, a);
  ck_assert_int_eq(wg_tape_status(t), WIDE64 ? WG_ERR_NOMEM : WG_ERR_SHAPE);
  wg_tape_free(t);
  outer_free(d);
  check_heap();
}
END_TEST

/* An input's own shape: (65536x65537) references a buffer no 32-bit process can have; INT_MAX
 * x INT_MAX elements of 8 bytes (4611686014132420609 elements, (2^31 - 1)^2 by hand) are
 * beyond any size_t. The one-element buffer is never read: the input fails, or (64-bit,
 * 65536x65537) is recorded without reading its data. */
START_TEST(test_input_shapes) {
  limit_heap();
  const wg_real one = 1;
  wg_tape *t = wg_tape_new();
  wg_var x = wg_input(t, BIG, BIG + 1, &one);
  if (WIDE64) {
    ck_assert_int_eq(wg_tape_status(t), WG_OK);
    ck_assert_int_eq(wg_value(t, x).rows, BIG);
  } else {
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
    ck_assert_str_eq(wg_tape_error(t), "input: (65536x65537): 4295032832 elements of " TU_REAL_BYTES " bytes "
                     "are more than a 32-bit size_t counts (row 0)");
  }
  wg_tape_reset(t);
  wg_input(t, INT_MAX, INT_MAX, &one);
  if (TU_F32 && WIDE64) { /* 2^62 floats are 2^64 - 2^34 bytes: a 64-bit size_t counts them */
    ck_assert_int_eq(wg_tape_status(t), WG_OK);
    ck_assert_int_eq(wg_tape_rows(t), 1);
  } else {
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
    ck_assert_has(wg_tape_error(t), "input: (2147483647x2147483647): 4611686014132420609 "
                  "elements of " TU_REAL_BYTES " bytes are more than a ");
    ck_assert_int_eq(wg_tape_rows(t), 0);
  }
  wg_tape_free(t);
  check_heap();
}
END_TEST

/* An op whose result overflows size_t on 64 bits too: (INT_MAX x 1)(1 x INT_MAX) is 2^62
 * elements, 2^65 bytes. On 32 bits the (INT_MAX x 1) input itself (2^34 bytes) fails first. */
START_TEST(test_op_beyond_64_bits) {
  limit_heap();
  const wg_real one = 1;
  wg_tape *t = wg_tape_new();
  wg_var a = wg_input(t, INT_MAX, 1, &one), b = wg_input(t, 1, INT_MAX, &one);
  wg_matmul(t, a, b);
  if (TU_F32 && WIDE64) { /* float: 2^64 - 2^34 bytes are counted, and refused by the heap */
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
    ck_assert_has(wg_tape_error(t), "matmul: out of memory");
  } else {
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
    if (WIDE64)
      ck_assert_str_eq(wg_tape_error(t), "matmul: (2147483647x1), (1x2147483647) -> "
                       "(2147483647x2147483647): 4611686014132420609 elements of " TU_REAL_BYTES " bytes are "
                       "more than a 64-bit size_t counts (row 2)");
    else
      ck_assert_str_eq(wg_tape_error(t), "input: (2147483647x1): 2147483647 elements of " TU_REAL_BYTES " bytes "
                       "are more than a 32-bit size_t counts (row 0)");
  }
  wg_tape_free(t);
  check_heap();
}
END_TEST

/* Parameters: value and gradient, 16 bytes per element. Each of these is refused (NULL), by
 * the size check or (64-bit, under the limit) by the heap, and allocates nothing that stays.
 * 16384 x 16385 elements of 16 bytes are 4295229440 bytes, just over 2^32. */
START_TEST(test_param_shapes) {
  limit_heap();
  const int shapes[][2] = {{BIG, BIG + 1}, {INT_MAX, INT_MAX}, {1 << 30, 1 << 30},
                           {16384, 16385}, {INT_MAX, 2}};
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    wg_param *p = wg_param_new("W", shapes[k][0], shapes[k][1]);
    ck_assert_msg(p == NULL, "wg_param_new(%d, %d) gave a parameter", shapes[k][0],
                  shapes[k][1]);
  }
  wg_param *p = wg_param_new("W", 3, 5); /* a sane one still works */
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(wg_param_value(p).rows * wg_param_value(p).cols, 15);
  wg_param_free(p);
  check_heap();
}
END_TEST

/* wg_model_add says what is wrong: a shape error naming the parameter, or out of memory. */
START_TEST(test_model_add_shapes) {
  limit_heap();
  wg_model *m = wg_model_new(1);
  wg_init zeros = {WG_INIT_ZEROS, 0, 0};
  wg_param *out = NULL;
  ck_assert_int_eq(wg_model_add(m, "W", INT_MAX, INT_MAX, zeros, &out), WG_ERR_SHAPE);
  ck_assert_ptr_null(out);
  ck_assert_has(wg_model_error(m), "wg_model_add: W: a (2147483647x2147483647) parameter");
  wg_status s = wg_model_add(m, "V", BIG, BIG + 1, zeros, &out);
  ck_assert_int_eq(s, WIDE64 ? WG_ERR_NOMEM : WG_ERR_SHAPE);
  if (!WIDE64)
    ck_assert_str_eq(wg_model_error(m), "wg_model_add: V: a (65536x65537) parameter (value "
                     "and gradient, " TU_PARAM_BYTES " bytes per element) is more than a 32-bit size_t counts");
  ck_assert_int_eq(wg_model_count(m), 0);
  ck_assert_int_eq(wg_model_add(m, "b", 1, 3, zeros, &out), WG_OK);
  ck_assert_int_eq(wg_model_count(m), 1);
  wg_model_free(m);
  check_heap();
}
END_TEST

/* A custom op whose shape rule answers a huge shape (from ctx): refused before any buffer. */
static int huge_shape(int n_in, const wg_mat *in, int *rows, int *cols, void *ctx) {
  (void)n_in, (void)in;
  const int *want = ctx;
  *rows = want[0], *cols = want[1];
  return 0;
}

static int forward_calls;

static void fill_forward(int n_in, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n_in, (void)in, (void)ctx;
  forward_calls++;
  for (size_t i = 0, n = (size_t)out.rows * (size_t)out.cols; i < n; i++) out.data[i] = 1;
}

static void no_vjp(int n_in, const wg_mat *in, wg_mat out, wg_mat out_adj, wg_mat *in_adj,
                   void *ctx) {
  (void)n_in, (void)in, (void)out, (void)out_adj, (void)in_adj, (void)ctx;
}

START_TEST(test_custom_huge_shape) {
  limit_heap();
  const wg_custom_op op = {"huge", huge_shape, fill_forward, no_vjp, NULL, NULL};
  const wg_real x[4] = {1, 2, 3, 4};
  wg_tape *t = wg_tape_new();
  forward_calls = 0;
  int beyond[2] = {INT_MAX, INT_MAX}, edge[2] = {BIG, BIG + 1}, fine[2] = {3, 2};
  wg_var in = wg_input(t, 2, 2, x);
  wg_custom(t, &op, beyond, 1, &in);
  if (TU_F32 && WIDE64) { /* float: counted (2^64 - 2^34 bytes), then refused by the heap */
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
  } else {
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
    ck_assert_has(wg_tape_error(t), "custom op 'huge': (2x2) -> (2147483647x2147483647): "
                  "4611686014132420609 elements of " TU_REAL_BYTES " bytes are more than a ");
  }
  ck_assert_has(wg_tape_error(t), "(row 1)");
  wg_tape_reset(t);
  in = wg_input(t, 2, 2, x);
  wg_custom(t, &op, edge, 1, &in);
  ck_assert_int_eq(wg_tape_status(t), WIDE64 ? WG_ERR_NOMEM : WG_ERR_SHAPE);
  if (!WIDE64)
    ck_assert_str_eq(wg_tape_error(t), "custom op 'huge': (2x2) -> (65536x65537): 4295032832 "
                     "elements of " TU_REAL_BYTES " bytes are more than a 32-bit size_t counts (row 1)");
  ck_assert_int_eq(forward_calls, 0);
  wg_tape_reset(t);
  in = wg_input(t, 2, 2, x);
  wg_var y = wg_custom(t, &op, fine, 1, &in);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_int_eq(wg_value(t, y).rows, 3);
  ck_assert_double_eq(wg_value(t, y).data[5], 1);
  ck_assert_int_eq(forward_calls, 1);
  wg_tape_free(t);
  check_heap();
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("sizes");
  TCase *tc = tcase_create("overflow");
  tcase_add_test(tc, test_matmul_outer_product);
  tcase_add_test(tc, test_broadcast_outer);
  tcase_add_test(tc, test_input_shapes);
  tcase_add_test(tc, test_op_beyond_64_bits);
  tcase_add_test(tc, test_param_shapes);
  tcase_add_test(tc, test_model_add_shapes);
  tcase_add_test(tc, test_custom_huge_shape);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()
