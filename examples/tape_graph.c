/* tape_graph.c - the seed's network as a Graphviz picture.
 *
 *   build/examples/tape_graph [FILE.dot]      (stdout without an argument)
 *   dot -Tsvg FILE.dot -o seed_graph.svg      (`make graph` writes docs/img/seed_graph.svg)
 *
 * One sigmoid unit with binary cross-entropy on the four-sample data set of seed_tiny.h,
 * after one backward sweep, so every node shows its value and its adjoint. */
#include <stdio.h>

#include "seed_tiny.h"
#include "wengert.h"

int main(int argc, char **argv) {
  if (argc > 2) {
    fprintf(stderr, "usage: %s [FILE.dot]\n", argv[0]);
    return 2;
  }
  FILE *f = argc == 2 ? fopen(argv[1], "w") : stdout;
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  wg_backward(t, s.L);
  int rc = 0;
  if (wg_tape_status(t)) {
    fprintf(stderr, "tape_graph: %s\n", wg_tape_error(t));
    rc = 1;
  } else {
    wg_tape_dot(t, f);
  }
  wg_tape_free(t);
  wg_param_free(s.W);
  wg_param_free(s.b);
  if (f != stdout && fclose(f) != 0) {
    perror(argv[1]);
    rc = 1;
  }
  return rc;
}
