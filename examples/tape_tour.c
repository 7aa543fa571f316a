/* tape_tour.c - the tape's machinery, shown by running it: the sticky error model with its
 * real messages, handles and generations, the arena's memory reuse (counted through the
 * allocator hook), needs_grad, and broadcasting's reduction in the VJP.
 * docs/design.md quotes this program's output.  usage: tape_tour */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wengert.h"

/* ---- an allocator hook that counts the library's heap calls ---- */

static long heap_calls;
static size_t heap_bytes;

static void *counting_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
  (void)ud;
  heap_calls++;
  if (new_size == 0) {
    heap_bytes -= old_size;
    free(ptr);
    return NULL;
  }
  void *p = realloc(ptr, new_size);
  if (p) heap_bytes += new_size - old_size;
  return p;
}

static void show_error(const char *what, const wg_tape *t) {
  printf("  %-34s status %d (%s)\n    \"%s\"\n", what, (int)wg_tape_status(t),
         wg_status_string(wg_tape_status(t)), wg_tape_error(t));
}

static void errors(void) {
  printf("1. The sticky status: the first error wins, later calls return at once\n");
  wg_real a[12] = {0}, b[6] = {0};
  wg_tape *t = wg_tape_new();
  wg_var A = wg_input(t, 4, 3, a), B = wg_input(t, 2, 3, b);
  wg_var C = wg_matmul(t, A, B); /* (4x3) @ (2x3): inner dimensions differ */
  show_error("wg_matmul(A 4x3, B 2x3):", t);
  wg_var D = wg_sigmoid(t, C); /* harmless: the tape is already in error */
  printf("  a later wg_sigmoid returns the none handle {gen %u, row %u}; rows recorded: %d\n",
         (unsigned)D.gen, (unsigned)D.row, wg_tape_rows(t));

  wg_tape_reset(t);
  printf("  after wg_tape_reset: status %d, error \"%s\"\n", (int)wg_tape_status(t),
         wg_tape_error(t));
  wg_sigmoid(t, A); /* A is from before the reset */
  show_error("wg_sigmoid(A from before reset):", t);

  wg_tape_reset(t);
  wg_tape *other = wg_tape_new();
  wg_var O = wg_input(other, 2, 3, b);
  wg_var A2 = wg_input(t, 4, 3, a);
  wg_add(t, A2, O);
  show_error("wg_add(x, handle of another tape):", t);

  wg_tape_reset(t);
  wg_var none = {0, 0};
  wg_exp(t, none);
  show_error("wg_exp(none handle):", t);

  wg_tape_reset(t);
  wg_var X = wg_input(t, 4, 3, a), bias = wg_input(t, 1, 2, b);
  wg_add(t, X, bias);
  show_error("wg_add(X 4x3, bias 1x2):", t);

  wg_tape_reset(t);
  wg_param *W = wg_param_new("W", 3, 1);
  wg_var Z = wg_matmul(t, wg_input(t, 4, 3, a), wg_use(t, W));
  wg_name(t, Z, "Z");
  wg_backward(t, Z);
  show_error("wg_backward(Z 4x1):", t);

  wg_tape_reset(t);
  wg_input(t, 0, 3, a);
  show_error("wg_input(0 x 3):", t);

  wg_tape_reset(t);
  wg_input(t, 2, 2, NULL);
  show_error("wg_input(data NULL):", t);

  show_error("a NULL tape:", NULL);
  printf("\n");
  wg_param_free(W);
  wg_tape_free(other);
  wg_tape_free(t);
}

/* One training step of a small two-layer network, recorded anew on a reset tape; returns the
 * loss. */
static wg_var record_step(wg_tape *t, const wg_real *x, const wg_real *y, wg_param *W1,
                        wg_param *b1, wg_param *W2, wg_param *b2) {
  wg_tape_reset(t);
  wg_var X = wg_input(t, 64, 16, x), Y = wg_input(t, 64, 1, y);
  wg_var H = wg_tanh(t, wg_add(t, wg_matmul(t, X, wg_use(t, W1)), wg_use(t, b1)));
  wg_var Z = wg_add(t, wg_matmul(t, H, wg_use(t, W2)), wg_use(t, b2));
  wg_var L = wg_bce_logits(t, Z, Y);
  wg_backward(t, L);
  return L;
}

static void arena(void) {
  printf("2. The arena: recording again after wg_tape_reset reuses the same memory\n");
  static wg_real x[64 * 16], y[64];
  for (int i = 0; i < 64 * 16; i++) x[i] = (wg_real)((i * 7) % 13) / 13 - 0.5;
  for (int i = 0; i < 64; i++) y[i] = i % 2;
  wg_set_allocator(counting_alloc, NULL);
  heap_calls = 0;
  wg_param *W1 = wg_param_new("W1", 16, 32), *b1 = wg_param_new("b1", 1, 32);
  wg_param *W2 = wg_param_new("W2", 32, 1), *b2 = wg_param_new("b2", 1, 1);
  wg_tape *t = wg_tape_new();
  printf("  4 parameters and a tape: %ld heap calls\n", heap_calls);
  wg_var L = {0, 0};
  for (int step = 1; step <= 5; step++) {
    heap_calls = 0;
    L = record_step(t, x, y, W1, b1, W2, b2);
    printf("  step %d (reset, record %d rows, backward): %ld heap calls, arena in use %zu bytes,"
           " library heap %zu bytes\n", step, wg_tape_rows(t), heap_calls, wg_tape_bytes(t),
           heap_bytes);
  }
  heap_calls = 0;
  for (int i = 0; i < 100; i++) { /* replay instead of recording: wg_forward + wg_backward */
    wg_forward(t);
    wg_backward(t, L);
  }
  printf("  100 replays (wg_forward + wg_backward): %ld heap calls, status \"%s\"\n", heap_calls,
         wg_status_string(wg_tape_status(t)));
  wg_tape_free(t);
  wg_param_free(W1), wg_param_free(b1), wg_param_free(W2), wg_param_free(b2);
  printf("  after freeing everything the library holds %zu heap bytes\n", heap_bytes);
  wg_set_allocator(NULL, NULL);

  /* alignment of row buffers */
  wg_tape *u = wg_tape_new();
  int misaligned = 0;
  wg_var v = wg_scalar(u, 1);
  for (int i = 0; i < 20; i++) {
    v = wg_add(u, v, wg_scalar(u, (wg_real)i));
    misaligned += ((uintptr_t)wg_value(u, v).data % 64) != 0;
  }
  printf("  20 rows of one element each: %d value buffers not 64-byte aligned, "
         "arena in use %zu bytes\n\n", misaligned, wg_tape_bytes(u));
  wg_tape_free(u);
}

static void broadcasting(void) {
  printf("3. needs_grad and broadcasting: Z = X W + b, L = sum(Z)\n");
  wg_real x[] = {1, 2, 3, 4, 5, 6, 7, 8}; /* X (4 x 2) */
  wg_param *W = wg_param_new("W", 2, 3), *b = wg_param_new("b", 1, 3);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 4, 2, x);
  wg_var XW = wg_matmul(t, X, wg_use(t, W));
  wg_var Z = wg_add(t, XW, wg_use(t, b)); /* b (1 x 3) repeated down 4 rows */
  wg_backward(t, wg_sum(t, Z));
  wg_mat gb = wg_param_grad(b);
  printf("  dL/db = [%g %g %g]: each entry sums dZ = 1 over the 4 rows b was repeated along\n",
         gb.data[0], gb.data[1], gb.data[2]);
  printf("  wg_grad(t, X).data is %s: X is an input, so the matmul VJP computes no dX\n\n",
         wg_grad(t, X).data ? "set" : "NULL");
  wg_tape_free(t);
  wg_param_free(W);
  wg_param_free(b);
}

int main(void) {
  errors();
  arena();
  broadcasting();
  return 0;
}
