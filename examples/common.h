/* common.h - command-line options and error exits shared by the model examples.
 * (Examples may print and exit; the library never does.) */
#ifndef WG_EXAMPLES_COMMON_H
#define WG_EXAMPLES_COMMON_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wengert.h"

typedef struct {
  const char *data, *save, *load, *model;
  long epochs;
  unsigned long long seed;
} options;

_Noreturn static void die(const char *prog, const char *msg) {
  fprintf(stderr, "%s: %s\n", prog, msg);
  exit(1);
}

static long parse_long(const char *prog, const char *opt, const char *s, long lo, long hi) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < lo || v > hi) {
    fprintf(stderr, "%s: %s expects an integer in %ld..%ld, got '%s'\n", prog, opt, lo, hi, s);
    exit(2);
  }
  return v;
}

/* --data PATH --epochs N --seed S --save PATH.npz --load PATH.npz [--model NAME] */
static options parse_options(int argc, char **argv, options o, const char *usage) {
  const char *prog = argv[0];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      printf("usage: %s %s\n", prog, usage);
      exit(0);
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s: %s: unknown option or missing value\nusage: %s %s\n", prog, a, prog,
              usage);
      exit(2);
    }
    const char *v = argv[++i];
    if (strcmp(a, "--data") == 0) o.data = v;
    else if (strcmp(a, "--epochs") == 0) o.epochs = parse_long(prog, a, v, 0, 1000000);
    else if (strcmp(a, "--seed") == 0) o.seed = (unsigned long long)parse_long(prog, a, v, 0, 2147483647);
    else if (strcmp(a, "--save") == 0) o.save = v;
    else if (strcmp(a, "--load") == 0) o.load = v;
    else if (strcmp(a, "--model") == 0 && o.model) o.model = v;
    else {
      fprintf(stderr, "%s: unknown option %s\nusage: %s %s\n", prog, a, prog, usage);
      exit(2);
    }
  }
  return o;
}

/* A tape error ends the example with its message. */
static void check_tape(const char *prog, wg_tape *t) {
  if (wg_tape_status(t)) die(prog, wg_tape_error(t));
}

#endif
