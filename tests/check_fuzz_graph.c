/* check_fuzz_graph.c - the graph fuzzer's program (tests/fuzz/fuzz_graph.c) in the ordinary
 * test run. fuzz_graph.c decodes bytes into ops of every kind (through fz_ctors[], one
 * constructor per op of src/ops/oplist.h), leaves with NaN/Inf/huge values, bad shapes and
 * handles, resets, injected allocation failures, sweeps and the derivative checks, and
 * abort()s when a contract breaks: a tape's status and message disagree, a check's result is
 * inconsistent, a byte is leaked or freed with the wrong size. Here it runs on its committed
 * seed corpus and on GEN_INPUTS generated inputs, so a new op's constructor is compiled and
 * run by `make test` (and under `make sanitize` and `make valgrind`), not only by `make fuzz`
 * (libFuzzer, which mutates inputs for as long as it is given). A crash or abort fails the
 * test that ran it. */
#include <dirent.h>
#include <stdio.h>

#include "fuzz/fuzz_graph.c"
#include "testutil.h"

#define SEEDS "tests/fuzz/seeds/fuzz_graph"
#define GEN_INPUTS 300

/* Every seed file, in full, through the program. */
START_TEST(the_seed_corpus_runs_clean) {
  DIR *d = opendir(SEEDS);
  ck_assert_msg(d != NULL, "cannot open %s (run the tests from the top directory)", SEEDS);
  int files = 0;
  static uint8_t buf[1 << 16];
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SEEDS, e->d_name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_int_eq(LLVMFuzzerTestOneInput(buf, n), 0);
    files++;
  }
  closedir(d);
  ck_assert_int_ge(files, 10); /* the corpus is there: 79 files when this was written */
}
END_TEST

/* Generated inputs (fixed seed), made to keep their tapes alive for a while: parameters of
 * one square shape (so that most ops' shape rules accept them), a parameter leaf first so that
 * later ops have a handle to take, then GEN_STEPS steps: an op of the table (7 in 8) or another
 * action (a reset only 1 in 64), each followed by argument bytes below 240 (recorded handles,
 * ordinary values, small dimensions, mostly). Every fourth input makes an allocation fail
 * part way (its first byte). */
#define GEN_STEPS 16
static size_t generate(uint8_t *buf, size_t size, int k, unsigned long long *rng) {
  size_t n = 0;
  int dim = 1 + (int)tu_uniform(rng, 0, 4), params = 1 + (int)tu_uniform(rng, 0, 4);
  buf[n++] = k % 4 ? 0 : (uint8_t)(192 + tu_uniform(rng, 0, 64)); /* allocation failures */
  buf[n++] = (uint8_t)(params - 1);
  for (int p = 0; p < params; p++) {
    buf[n++] = (uint8_t)(dim - 1), buf[n++] = (uint8_t)(dim - 1), buf[n++] = 0;
    for (int e = 0; e < dim * dim; e++) buf[n++] = (uint8_t)tu_uniform(rng, 0, 100);
  }
  buf[n++] = (uint8_t)tu_uniform(rng, 0, 2); /* finite checks on or off */
  buf[n++] = WG_OP_PARAM, buf[n++] = 0;      /* wg_use of the first parameter */
  for (int step = 0; step < GEN_STEPS && n + 8 < size; step++) {
    int act = tu_uniform(rng, 0, 8) < 1 ? (int)tu_uniform(rng, 0, ACT_COUNT) : -1;
    if (act == ACT_RESET && tu_uniform(rng, 0, 8) >= 1) act = ACT_FORWARD;
    buf[n++] = (uint8_t)(act < 0 ? tu_uniform(rng, 0, WG_OP_COUNT) : WG_OP_COUNT + act);
    for (int a = 0; a < 6; a++) buf[n++] = (uint8_t)tu_uniform(rng, 0, 240);
  }
  return n;
}

START_TEST(generated_graphs_run_clean) {
  unsigned long long rng = 20240613;
  static uint8_t buf[512];
  for (int k = 0; k < GEN_INPUTS; k++) {
    size_t n = generate(buf, sizeof buf, k, &rng);
    ck_assert_int_eq(LLVMFuzzerTestOneInput(buf, n), 0);
  }
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("fuzz_graph");
  TCase *tc = tcase_create("programs");
  tcase_set_timeout(tc, 300); /* valgrind runs them about 50 times slower */
  tcase_add_test(tc, the_seed_corpus_runs_clean);
  tcase_add_test(tc, generated_graphs_run_clean);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()
