/* ops_md.c - writes docs/ops.md, the table of every op's forward, VJP and JVP, from
 * src/ops/oplist.h (the X-macro list is the single source: an op added there shows up here
 * on the next `make docs`). tests/check_print.c includes this file with OPS_MD_NO_MAIN and
 * checks docs/ops.md equals what it writes now.
 *
 *   build/tools/ops_md > docs/ops.md */
#include <stdio.h>

typedef struct {
  const char *name;
  int n_in;
  const char *forward, *vjp, *jvp;
} ops_md_op;

static const ops_md_op ops_md_list[] = {
#define WG_OP(E, name, n, w, f, v, j) {#name, n, f, v, j},
#include "ops/oplist.h"
#undef WG_OP
};

/* A rule as a Markdown code span: `|` would end the table cell, so it is escaped. */
static void ops_md_code(FILE *o, const char *s) {
  fputc('`', o);
  for (; *s; s++) {
    if (*s == '|') fputc('\\', o);
    fputc(*s, o);
  }
  fputc('`', o);
}

static void ops_md_write(FILE *o) {
  fputs("# Ops: forward, VJP and JVP\n"
        "\n"
        "<!-- Generated from src/ops/oplist.h by docs/tools/ops_md.c (`make docs`); do not edit.\n"
        "     tests/check_print.c fails when this file and oplist.h disagree. -->\n"
        "\n"
        "Every row of a wengert tape is one of these ops. The rules are the strings kept in\n"
        "`src/ops/oplist.h`, the same ones `wg_tape_print` shows under each row and the\n"
        "backward trace (`wg_tape_trace`) fills in with the rows' names. Each op's file,\n"
        "`src/ops/NAME.c` (`concat.c` for `concat_rows` and `concat_cols`), holds the same\n"
        "math in its opening comment, next to the code.\n"
        "\n"
        "Notation: `x`, `a`, `b` (and `p`, `t`, `z` for the losses: probabilities, targets,\n"
        "logits) are the inputs, `y` is the row's value, `dv` is the adjoint dLoss/dv of `v`\n"
        "and `tv` its tangent (forward mode). `N` is the number of elements of the first\n"
        "input, `c` the row's constant. Products `*` and quotients `/` are elementwise;\n"
        "`a b` with matrices is the matrix product. `unbcast(g)` sums `g` over the axes an\n"
        "input was broadcast along (a 1xN bias receives the column sums), which is how the\n"
        "bias gradient `(1/m) sum(A - t)` falls out of the generic sweep. A VJP always\n"
        "accumulates (`+=`, `-=`): an input used twice receives both terms. Ops with \"any\"\n"
        "inputs take a list (`wg_custom`: 1 to 4, `concat_*`: any n >= 1), `k` numbering its\n"
        "inputs; `idx` holds `gather_rows`' row indices and `(r0, c0)` is a slice's corner.\n"
        "\n"
        "| op | inputs | forward | VJP (reverse mode) | JVP (forward mode) |\n"
        "|----|--------|---------|--------------------|--------------------|\n",
        o);
  for (size_t i = 0; i < sizeof ops_md_list / sizeof ops_md_list[0]; i++) {
    const ops_md_op *op = &ops_md_list[i];
    fprintf(o, "| `%s` | ", op->name);
    if (op->n_in < 0) fputs("any", o);
    else fprintf(o, "%d", op->n_in);
    fputs(" | ", o);
    ops_md_code(o, op->forward);
    fputs(" | ", o);
    ops_md_code(o, op->vjp);
    fputs(" | ", o);
    ops_md_code(o, op->jvp);
    fputs(" |\n", o);
  }
  fprintf(o, "\n%zu ops.\n", sizeof ops_md_list / sizeof ops_md_list[0]);
  fputs("\n"
        "Axis reductions (`sum_axis`, `mean_axis`, `max_axis`, `logsumexp_axis`) take the axis\n"
        "as the row's constant `c`: axis 0 reduces over the rows of an (m x n) input to (1 x n),\n"
        "axis 1 over the columns to (m x 1); any other axis is refused. `max_axis` sends the\n"
        "gradient to the first maximum of each group. `wg_sum_rows` is its own op with the\n"
        "numbers of `wg_sum_axis(t, x, 0)`.\n"
        "\n"
        "Dropout's mask `m` is drawn from the caller's generator when the row is recorded and\n"
        "kept in the tape: `wg_forward` replays it, so `wg_gradcheck`, `wg_check_rows` and\n"
        "`wg_dot_test` see one fixed mask. A training loop gets a new mask each step by\n"
        "recording again, or, when it replays, by calling `wg_dropout_resample(t)` before\n"
        "`wg_forward`. `wg_tape_set_training(t, 0)` switches the tape to evaluation: dropout\n"
        "rows pass `x` through (forward, VJP and JVP) until it is switched back on, and the\n"
        "kept masks apply again from the next `wg_forward`.\n", o);
}

#ifndef OPS_MD_NO_MAIN
int main(void) {
  ops_md_write(stdout);
  return ferror(stdout) ? 1 : 0;
}
#endif
