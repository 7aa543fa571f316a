/* stop_options.h - the stop-and-resume flags of the examples that train long (digits,
 * cnn_digits, char_gru): --stop-after STEPS --checkpoint PATH.npz, --resume PATH.npz. */
#ifndef WG_EXAMPLES_STOP_OPTIONS_H
#define WG_EXAMPLES_STOP_OPTIONS_H
#include "common.h"

typedef struct {
  long stop_after;                /* 0: no stop */
  const char *checkpoint, *resume; /* NULL: none */
} stop_options;

/* Takes --stop-after (1..max_steps), --checkpoint and --resume out of argv, so that
 * parse_options sees the rest; returns the new argc. */
static int take_stop_options(int argc, char **argv, long max_steps, const char *usage,
                             stop_options *so) {
  int k = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ours = strcmp(a, "--stop-after") == 0 || strcmp(a, "--checkpoint") == 0 ||
               strcmp(a, "--resume") == 0;
    if (!ours) {
      argv[k++] = argv[i];
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s: %s needs a value\nusage: %s %s\n", argv[0], a, argv[0], usage);
      exit(2);
    }
    const char *v = argv[++i];
    if (strcmp(a, "--stop-after") == 0) so->stop_after = parse_long(argv[0], a, v, 1, max_steps);
    else if (strcmp(a, "--checkpoint") == 0) so->checkpoint = v;
    else so->resume = v;
  }
  if (!so->stop_after != !so->checkpoint) {
    fprintf(stderr, "%s: --stop-after and --checkpoint go together\n", argv[0]);
    exit(2);
  }
  return k;
}

#endif
