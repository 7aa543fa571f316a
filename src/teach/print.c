/* print.c - showing the tape: the Wengert table, a Graphviz DOT graph, the backward trace.
 *
 * Everything here writes only to the FILE the caller passes. A NULL tape or FILE is safe.
 * Matrices of up to WG_PRINT_FULL_MAX elements are written in full, row by row
 * ("[1 2; 3 4]"); larger ones as "min .. mean .. max ..". The op rules come from the op
 * table (oplist.h): the table shows them as written there; the trace substitutes the rows'
 * labels into the VJP rule (x, a, b, p, t, z: the inputs, named by the letters the VJP rule
 * differentiates in order; y: the row itself, W: a parameter leaf itself; dv: v's adjoint;
 * c: the row's constant). */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/alloc.h"
#include "tape/tape.h"
#include "teach/trace.h"

#define CELL 512   /* bytes for one formatted cell (longer text is cut) */
#define LABEL (WG_NAME_MAX + 16)

/* ---- a bounded string builder (truncates, never overflows) ---------------------------- */

typedef struct {
  char *s;
  size_t cap, len;
} sbuf;

static sbuf sb_on(char *s, size_t cap) {
  sbuf b = {s, cap, 0};
  s[0] = '\0';
  return b;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...) {
  if (b->len + 1 >= b->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n > 0) b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

/* A matrix (rows x cols, row-major) as "[a b; c d]" when small, else "min .. mean .. max ..";
 * "-" when there is no buffer. */
static void sb_matrix(sbuf *b, const wg_real *x, int rows, int cols) {
  size_t n = (size_t)rows * (size_t)cols;
  if (!x || n == 0) {
    sb_printf(b, "-");
    return;
  }
  if (n <= WG_PRINT_FULL_MAX) {
    sb_printf(b, "[");
    for (size_t i = 0; i < n; i++)
      sb_printf(b, "%s%.4g", i == 0 ? "" : i % (size_t)cols == 0 ? "; " : " ",
                x[i] == 0 ? 0.0 : (double)x[i]); /* no "-0" */
    sb_printf(b, "]");
    return;
  }
  double lo, mean, hi;
  wg_matrix_summary(x, n, &lo, &mean, &hi);
  sb_printf(b, "min %.4g mean %.4g max %.4g", lo, mean, hi);
}

void wg_matrix_summary(const wg_real *x, size_t n, double *lo, double *mean, double *hi) {
  double sum = 0;
  *lo = *hi = n ? (double)x[0] : 0;
  for (size_t i = 0; i < n; i++) {
    if (x[i] < *lo) *lo = x[i];
    if (x[i] > *hi) *hi = x[i];
    sum += x[i];
  }
  *mean = n ? sum / (double)n : 0;
}

/* ---- rule strings with the rows' labels substituted ------------------------------------ */

/* The input letters of an op row: the k-th ';'-separated term of the VJP rule begins with
 * "d<letter>" naming input k ("da += ...;  db += ..." -> a, b). Returns the number of terms
 * that name an input; letters[k] is 0 where a term does not. */
static int rule_terms(const char *vjp, char letters[WG_MAX_INPUTS], const char *start[WG_MAX_INPUTS],
                      size_t len[WG_MAX_INPUTS]) {
  int k = 0;
  const char *p = vjp;
  while (*p && k < WG_MAX_INPUTS) {
    while (*p == ' ') p++;
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    while (n > 0 && p[n - 1] == ' ') n--;
    start[k] = p;
    len[k] = n;
    letters[k] = (p[0] == 'd' && isalpha((unsigned char)p[1]) &&
                  !isalnum((unsigned char)p[2])) ? p[1] : 0;
    k++;
    if (!end) break;
    p = end + 1;
  }
  return k;
}

/* Append a matrix as a value in a formula: in full when small, else "[label: rxc]". */
static void sb_operand(sbuf *b, const wg_tape *t, uint32_t row, const wg_real *x) {
  const wg_row *r = &t->rows[row];
  char lab[LABEL];
  if (x && wg_row_size(r) <= WG_PRINT_FULL_MAX) sb_matrix(b, x, r->rows, r->cols);
  else sb_printf(b, "[%s: %dx%d]", wg_row_label(t, row, lab, sizeof lab), r->rows, r->cols);
}

/* Append rule text (n bytes) with identifiers replaced: y -> the row's label, dy -> adj(label),
 * <letter> / d<letter> -> input k's label / adjoint, c -> the row's constant. Index suffixes
 * ("dx_ij") are kept. With values, the identifiers right of the first '=' ("=", "+=", "-=")
 * become the matrices themselves (sb_operand) and N the first input's element count. */
static void sb_rule(sbuf *b, const char *rule, size_t n, const wg_tape *t, const wg_row *r,
                    const char letters[WG_MAX_INPUTS], int with_values) {
  char self[LABEL], lab[LABEL];
  uint32_t i = (uint32_t)(r - t->rows);
  wg_row_label(t, i, self, sizeof self);
  const char *end = rule + n;
  int rhs = 0; /* past the first '=' */
  for (const char *p = rule; p < end;) {
    if (!isalpha((unsigned char)*p)) {
      size_t run = 1; /* a non-identifier character, or a number with its letters ("1e5") */
      if (isdigit((unsigned char)*p))
        while (p + run < end && isalnum((unsigned char)p[run])) run++;
      if (*p == '=') rhs = 1;
      sb_printf(b, "%.*s", (int)run, p);
      p += run;
      continue;
    }
    const char *q = p;
    while (q < end && isalnum((unsigned char)*q)) q++;
    size_t w = (size_t)(q - p);
    int adj = w == 2 && p[0] == 'd';
    char v = w == 1 ? p[0] : adj ? p[1] : 0;
    const char *sub = NULL;
    int src = -2; /* the row substituted: -1 this row, k >= 0 input k */
    if (v == 'y' || (r->n_in == 0 && w == 1 && p[0] == 'W')) sub = self, src = -1; /* W: a leaf */
    for (int k = 0; !sub && v && k < (int)r->n_in && k < WG_MAX_INPUTS; k++) /* letters[] */
      if (letters[k] == v) sub = wg_row_label(t, r->in[k], lab, sizeof lab), src = k;
    int plain = 1; /* a label with operators in it ("1-t") is parenthesised in a formula */
    for (const char *c = sub; sub && *c; c++)
      if (strchr("+-*/^ ", *c)) plain = 0;
    if (sub && with_values && rhs) {
      uint32_t row = src < 0 ? i : r->in[src];
      sb_operand(b, t, row, adj ? t->rows[row].adj : t->rows[row].val);
    } else if (sub) {
      sb_printf(b, adj ? "adj(%s)" : plain ? "%s" : "(%s)", sub);
    } else if (w == 1 && v == 'c') {
      sb_printf(b, "%g", (double)r->c);
    } else if (w == 1 && v == 'N' && with_values && rhs && r->n_in > 0) {
      sb_printf(b, "%zu", wg_row_size(&t->rows[r->in[0]]));
    } else {
      sb_printf(b, "%.*s", (int)w, p);
    }
    p = q;
    if (p < end && *p == '_') /* an index suffix, kept as written: dx_ij, sum_i */
      for (sb_printf(b, "_"), p++; p < end && isalnum((unsigned char)*p); p++) sb_printf(b, "%c", *p);
  }
}

const char *wg_matrix_text(char *buf, size_t n, const wg_real *x, int rows, int cols) {
  if (!buf || n == 0) return "";
  sbuf b = sb_on(buf, n);
  sb_matrix(&b, x, rows, cols);
  return buf;
}

const char *wg_forward_rule(char *buf, size_t n, const wg_tape *t, uint32_t row,
                            int with_values) {
  if (!buf || n == 0) return "";
  sbuf b = sb_on(buf, n);
  const wg_row *r = &t->rows[row];
  if (r->n_in == 0 || r->op >= WG_OP_COUNT) return buf;
  char letters[WG_MAX_INPUTS] = {0};
  const char *start[WG_MAX_INPUTS];
  size_t len[WG_MAX_INPUTS];
  rule_terms(wg_ops[r->op].vjp_rule, letters, start, len);
  const char *rule = wg_ops[r->op].forward_rule;
  sb_rule(&b, rule, strlen(rule), t, r, letters, with_values);
  return buf;
}

/* ---- the Wengert table ------------------------------------------------------------------ */

enum { C_ROW, C_NAME, C_OP, C_IN, C_SHAPE, C_VAL, C_ADJ, N_COLS };

/* Format cell `c` of row i into b. */
static void table_cell(sbuf *b, const wg_tape *t, uint32_t i, int c) {
  const wg_row *r = &t->rows[i];
  char lab[LABEL];
  switch (c) {
  case C_ROW: sb_printf(b, "v%u", (unsigned)i); break;
  case C_NAME: sb_printf(b, "%s", r->name ? r->name : ""); break;
  case C_OP: sb_printf(b, "%s", wg_row_op_name(r)); break;
  case C_IN:
    for (uint32_t k = 0; k < r->n_in; k++)
      sb_printf(b, "%s%s", k ? ", " : "", wg_row_label(t, r->in[k], lab, sizeof lab));
    break;
  case C_SHAPE: sb_printf(b, "%dx%d", r->rows, r->cols); break;
  case C_VAL: sb_matrix(b, r->val, r->rows, r->cols); break;
  case C_ADJ: sb_matrix(b, r->needs_grad ? r->adj : NULL, r->rows, r->cols); break;
  }
}

void wg_tape_print(wg_tape *t, FILE *f) {
  if (!f) return;
  if (!t) {
    fprintf(f, "wengert tape: NULL (wg_tape_new failed)\n");
    return;
  }
  static const char *const head[N_COLS] = {"row", "name", "op", "inputs", "shape", "value",
                                           "adjoint"};
  int has_adj = 0;
  for (uint32_t i = 0; i < t->n_rows; i++)
    if (t->rows[i].needs_grad && t->rows[i].adj) has_adj = 1;
  int ncols = has_adj ? N_COLS : C_ADJ;
  size_t width[N_COLS];
  char cell[CELL];
  for (int c = 0; c < ncols; c++) width[c] = strlen(head[c]);
  for (uint32_t i = 0; i < t->n_rows; i++)
    for (int c = 0; c < ncols; c++) {
      sbuf b = sb_on(cell, sizeof cell);
      table_cell(&b, t, i, c);
      if (b.len > width[c]) width[c] = b.len;
    }
  fprintf(f, "wengert tape: %u rows, status %s%s%s\n", (unsigned)t->n_rows,
          wg_status_string(t->status), t->status ? ": " : "", t->error);
  for (int c = 0; c < ncols; c++)
    fprintf(f, "%-*s%s", c == ncols - 1 ? 0 : (int)width[c], head[c], c == ncols - 1 ? "\n" : "  ");
  size_t rule_indent = width[C_ROW] + width[C_NAME] + 4; /* the rules sit under the op column */
  for (uint32_t i = 0; i < t->n_rows; i++) {
    for (int c = 0; c < ncols; c++) {
      sbuf b = sb_on(cell, sizeof cell);
      table_cell(&b, t, i, c);
      if (c == ncols - 1) fprintf(f, "%s\n", cell);
      else fprintf(f, "%-*s  ", (int)width[c], cell);
    }
    const wg_row *r = &t->rows[i];
    if (r->n_in > 0 && r->op < WG_OP_COUNT)
      fprintf(f, "%*s%s   |   %s\n", (int)rule_indent, "", wg_ops[r->op].forward_rule,
              wg_ops[r->op].vjp_rule);
  }
}

/* ---- Graphviz DOT ----------------------------------------------------------------------- */

/* Write s inside a DOT double-quoted string: quotes and backslashes escaped. */
static void dot_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if (*s == '\n') fputs("\\n", f);
    else fputc(*s, f);
  }
}

void wg_tape_dot(wg_tape *t, FILE *f) {
  if (!f) return;
  fprintf(f, "digraph wengert {\n  node [fontname=\"Helvetica\", fontsize=10];\n"
             "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n");
  if (!t) {
    fprintf(f, "  none [shape=plaintext, label=\"NULL tape\"];\n}\n");
    return;
  }
  char cell[CELL], lab[LABEL];
  /* used[i]: row i is an input of a later row. Rows nothing uses (the loss) get a double
   * border; without the scratch (out of memory) no row does. */
  unsigned char *used = t->n_rows ? wg_alloc_zero(t->n_rows) : NULL;
  if (t->n_rows && !used)
    wg_fail(t, WG_ERR_NOMEM, "dot: out of memory for %u bytes of scratch", (unsigned)t->n_rows);
  for (uint32_t i = 0; used && i < t->n_rows; i++)
    for (uint32_t k = 0; k < t->rows[i].n_in; k++) used[t->rows[i].in[k]] = 1;
  for (uint32_t i = 0; i < t->n_rows; i++) {
    const wg_row *r = &t->rows[i];
    const char *style = r->op == WG_OP_INPUT || r->op == WG_OP_SCALAR
                            ? "shape=box, style=filled, fillcolor=\"#e6e6e6\""
                        : r->op == WG_OP_PARAM ? "shape=box, style=\"filled,bold\", fillcolor=\"#ffd58a\""
                                               : "shape=ellipse, style=filled, fillcolor=\"#cfe3ff\"";
    fprintf(f, "  v%u [%s%s, label=\"", (unsigned)i, style,
            used && !used[i] ? ", peripheries=2" : "");
    sbuf b = sb_on(cell, sizeof cell);
    sb_printf(&b, "%s\n%s %dx%d", wg_row_label(t, i, lab, sizeof lab),
              wg_row_op_name(r), r->rows, r->cols);
    if (wg_row_size(r) <= WG_PRINT_FULL_MAX) {
      sb_printf(&b, "\nval ");
      sb_matrix(&b, r->val, r->rows, r->cols);
      if (r->needs_grad && r->adj) {
        sb_printf(&b, "\nadj ");
        sb_matrix(&b, r->adj, r->rows, r->cols);
      }
    }
    dot_text(f, cell);
    fprintf(f, "\"];\n");
  }
  wg_free(used, t->n_rows);
  for (uint32_t i = 0; i < t->n_rows; i++) {
    const wg_row *r = &t->rows[i];
    char letters[WG_MAX_INPUTS] = {0};
    const char *start[WG_MAX_INPUTS];
    size_t len[WG_MAX_INPUTS];
    if (r->op < WG_OP_COUNT) rule_terms(wg_ops[r->op].vjp_rule, letters, start, len);
    for (uint32_t k = 0; k < r->n_in; k++) {
      fprintf(f, "  v%u -> v%u", (unsigned)r->in[k], (unsigned)i);
      if (r->n_in > 1 && k < WG_MAX_INPUTS && letters[k]) fprintf(f, " [label=\" %c\"]", letters[k]);
      fprintf(f, ";\n");
    }
  }
  fprintf(f, "}\n");
}

/* ---- the backward trace ----------------------------------------------------------------- */

void wg_tape_trace(wg_tape *t, FILE *f) {
  if (t) t->trace = f;
}

/* What term k of row r's VJP adds to: input k's adjoint, or (k = -1) a parameter leaf's
 * gradient. delta is NULL when it needs no gradient; dup >= 0 when input k is input dup
 * again. */
static wg_term target_of(wg_tape *t, wg_row *r, int k) {
  wg_term g = {k, (uint32_t)(r - t->rows), r->rows, r->cols, -1, NULL, NULL, NULL, 0};
  if (k < 0) {
    if (r->op == WG_OP_PARAM && r->ptr) g.after = ((wg_param *)r->ptr)->grad;
    return g;
  }
  wg_row *x = wg_input_row(t, r, k);
  g.target = r->in[k];
  g.rows = x->rows, g.cols = x->cols;
  g.after = x->needs_grad ? x->adj : NULL;
  for (int j = 0; j < k && g.dup < 0; j++)
    if (r->in[j] == r->in[k]) g.dup = j;
  return g;
}

const char *wg_term_rule(char *buf, size_t n, const wg_tape *t, const wg_step_terms *s,
                         int term, int with_values) {
  if (!buf || n == 0) return "";
  sbuf b = sb_on(buf, n);
  const wg_row *r = &t->rows[s->row];
  const wg_term *g = &s->term[term];
  char self[LABEL], lab[LABEL];
  wg_row_label(t, s->row, self, sizeof self);
  if (g->rule) sb_rule(&b, g->rule, g->rule_len, t, r, s->letters, with_values);
  else if (g->k < 0) sb_printf(&b, "grad(%s) += adj(%s)", self, self);
  else sb_printf(&b, "adj(%s) += J^T adj(%s)", wg_row_label(t, g->target, lab, sizeof lab), self);
  return buf;
}

/* The text trace of one step: the row, then one line per term, its rule with labels and
 * what it added ("= [...]"). */
static void trace_write_text(wg_tape *t, const wg_step_terms *s) {
  char self[LABEL], lab[LABEL], line[CELL];
  int lead = fprintf(t->trace, "%s %s: ", wg_row_label(t, s->row, self, sizeof self),
                     wg_row_op_name(&t->rows[s->row]));
  for (int k = 0; k < s->n_terms; k++) {
    const wg_term *g = &s->term[k];
    sbuf b = sb_on(line, sizeof line);
    if (k > 0) sb_printf(&b, "%*s", lead > 0 ? lead : 0, "");
    wg_term_rule(line + b.len, sizeof line - b.len, t, s, k, 0);
    b.len += strlen(line + b.len);
    if (!g->after) {
      sb_printf(&b, "   (skipped: %s needs no gradient)", wg_row_label(t, g->target, lab, sizeof lab));
    } else if (g->dup >= 0) {
      sb_printf(&b, "   (same row as input %d: the line above shows both terms)", g->dup + 1);
    } else {
      sb_printf(&b, " = ");
      if ((size_t)g->rows * (size_t)g->cols > WG_PRINT_FULL_MAX) sb_printf(&b, "(%dx%d) ", g->rows, g->cols);
      sb_matrix(&b, g->delta, g->rows, g->cols);
    }
    fprintf(t->trace, "%s\n", line);
  }
}

/* One step of the reverse sweep, traced: snapshot what the row's VJP adds to (scratch from
 * wg_alloc), run the VJP, turn each snapshot into the difference it made, and hand the step
 * to the tape's trace writer (the text trace when none is set). */
void wg_trace_step(wg_tape *t, wg_row *r) {
  uint32_t i = (uint32_t)(r - t->rows);
  wg_step_terms s;
  memset(&s, 0, sizeof s);
  s.row = i;
  int n_in = (int)r->n_in;
  s.n_terms = n_in ? n_in : 1; /* a leaf: one term, its gradient */
  size_t n_terms = (size_t)s.n_terms, total = 0;
  size_t *off = wg_alloc(n_terms * (sizeof *off + sizeof *s.term));
  if (!off) {
    wg_fail(t, WG_ERR_NOMEM, "trace: out of memory for %zu terms (row %u)", n_terms, (unsigned)i);
    wg_ops[r->op].vjp(t, r);
    return;
  }
  s.term = (wg_term *)(void *)(off + n_terms); /* size_t then wg_term: both 8-aligned */
  for (int k = 0; k < s.n_terms; k++) {
    s.term[k] = target_of(t, r, n_in ? k : -1);
    off[k] = total;
    if (s.term[k].after && s.term[k].dup < 0)
      total += (size_t)s.term[k].rows * (size_t)s.term[k].cols;
  }
  wg_real *scratch = total ? wg_alloc(total * sizeof *scratch) : NULL;
  if (total && !scratch) {
    wg_fail(t, WG_ERR_NOMEM, "trace: out of memory for %zu bytes of scratch (row %u)",
            total * sizeof *scratch, (unsigned)i);
    wg_free(off, n_terms * (sizeof *off + sizeof *s.term));
    wg_ops[r->op].vjp(t, r);
    return;
  }
  for (int k = 0; k < s.n_terms; k++) {
    wg_term *g = &s.term[k];
    if (g->after && g->dup < 0)
      memcpy(scratch + off[k], g->after, (size_t)g->rows * (size_t)g->cols * sizeof *scratch);
  }
  wg_ops[r->op].vjp(t, r);

  const char *start[WG_MAX_INPUTS];
  size_t len[WG_MAX_INPUTS];
  int terms = rule_terms(wg_ops[r->op].vjp_rule, s.letters, start, len);
  int one_per_term = terms == s.n_terms; /* else the rule is shown generically */
  for (int k = 0; k < s.n_terms; k++) {
    wg_term *g = &s.term[k];
    if (one_per_term) g->rule = start[k], g->rule_len = len[k];
    if (!g->after || g->dup >= 0) continue;
    wg_real *delta = scratch + off[k];
    for (size_t e = 0, n = (size_t)g->rows * (size_t)g->cols; e < n; e++)
      delta[e] = g->after[e] - delta[e];
    g->delta = delta;
  }
  if (t->trace_writer) t->trace_writer(t, &s);
  else trace_write_text(t, &s);
  wg_free(scratch, total * sizeof *scratch);
  wg_free(off, n_terms * (sizeof *off + sizeof *s.term));
}
