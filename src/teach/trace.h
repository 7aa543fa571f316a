/* trace.h - one step of the reverse sweep as the trace sees it, shared by the text trace
 * (print.c) and the HTML page (teach/html.c), so both show the same numbers.
 *
 * wg_trace_step (print.c) snapshots what row r's VJP adds to, runs the VJP and fills a
 * wg_step_terms: one term per input (a parameter leaf: one term, its gradient), each with the
 * difference the VJP made (after - before) and the target's state after. It then hands the
 * step to t->trace_writer, or writes it as text to t->trace when no writer is set. */
#ifndef WG_TRACE_H
#define WG_TRACE_H
#include "tape/tape.h"

typedef struct {
  int k;                /* input index, or -1: a parameter leaf's own gradient */
  uint32_t target;      /* the row whose adjoint it adds to (k = -1: the leaf itself) */
  int rows, cols;       /* the target's shape */
  int dup;              /* >= 0: input k is input dup again (that term shows both) */
  const wg_real *delta; /* what the VJP added; NULL when skipped (no gradient) or dup */
  const wg_real *after; /* the target after the VJP (adjoint, or the parameter's gradient) */
  const char *rule;     /* this term of the op's VJP rule, rule_len bytes; NULL: the op's
                           rule has no term per input and a generic one is shown */
  size_t rule_len;
} wg_term;

typedef struct wg_step_terms {
  uint32_t row;
  int n_terms;
  char letters[WG_MAX_INPUTS]; /* the input letters of the VJP rule (x; a, b; p, t; ...) */
  wg_term *term;               /* n_terms of them (one per input: any number) */
} wg_step_terms;

/* Text of a term's rule into buf (n bytes, truncated): with_values = 0 substitutes the rows'
 * labels ("adj(Z) += adj(A) * A * (1 - A)", what the text trace prints); 1 puts on the right
 * of the first "=", "+=" or "-=" the values themselves (small matrices in full, "[A: 456x1]"
 * for larger ones). Returns buf. */
const char *wg_term_rule(char *buf, size_t n, const wg_tape *t, const wg_step_terms *s,
                         int term, int with_values);

/* A row's forward rule from the op table with labels (with_values = 0) or input values (1)
 * substituted, e.g. "Z = XW + b"; "" for leaves. */
const char *wg_forward_rule(char *buf, size_t n, const wg_tape *t, uint32_t row,
                            int with_values);

/* A matrix as the printers show it: "[1 2; 3 4]" up to WG_PRINT_FULL_MAX elements, else
 * "min .. mean .. max .."; "-" without a buffer. */
#define WG_PRINT_FULL_MAX 12
/* The summary of a large matrix (n elements): its least, mean and largest element. */
void wg_matrix_summary(const wg_real *x, size_t n, double *lo, double *mean, double *hi);
const char *wg_matrix_text(char *buf, size_t n, const wg_real *x, int rows, int cols);

#endif
