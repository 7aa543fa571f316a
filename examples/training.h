/* training.h - the epoch loop of examples/digits.c and examples/cnn_digits.c: mini-batches of
 * the training rows shuffled every epoch, a stop after --stop-after optimizer steps with a
 * checkpoint, an exact resume from it, and a progress bar on stderr. The example keeps its
 * model, its step and its report:
 *
 *   training tr;
 *   training_begin(&tr, prog, &o, &so, m, opt, &train, BATCH);
 *   for (long epoch = (long)tr.epoch_at; epoch <= o.epochs; epoch++) {
 *     wg_batches b = training_epoch(&tr, &train, epoch);
 *     while (training_batch(&tr, &b, &x, &y)) {
 *       ... record the loss of (x, y), backward, wg_optim_step(opt) ...
 *       wg_progress_update(&tr.bar, wg_optim_steps(opt));
 *     }
 *     if (tr.stopped) ...the checkpoint is written: free and exit...
 *     ...the epoch's report, after wg_progress_clear(&tr.bar)...
 *   }
 *   wg_progress_end(&tr.bar);
 *
 * The checkpoint (wg_checkpoint_save) holds the weights, the optimizer's state and step count,
 * the shuffling generator, the epoch, the batch and the seed. The order of the training rows
 * is not stored: it is the seeded split shuffled once per epoch, so a resumed run rebuilds it
 * by replaying the epochs' shuffles, and checks that this leaves the generator where the
 * checkpoint says. */
#ifndef WG_EXAMPLES_TRAINING_H
#define WG_EXAMPLES_TRAINING_H
#include "stop_options.h"

typedef struct {
  const char *prog;
  stop_options so;
  wg_model *m;
  wg_optim *opt;
  int batch_size;
  long per_epoch;        /* batches per epoch */
  wg_rng shuffle;        /* shuffles the training rows once per epoch */
  double epoch_at, batch_at, seed; /* saved: the epoch under way (1-based), its batches done */
  wg_checkpoint_rng ck_rngs[1];
  wg_checkpoint_value ck_values[3];
  wg_checkpoint ck;      /* points into this struct: a training is not copied */
  long epoch, batch;     /* the epoch under way, the batches of it taken */
  int resuming, stopped; /* in the epoch resumed; stopped at --stop-after */
  wg_progress bar;
} training;

/* Sets up the checkpoint, resumes from so->resume (weights, optimizer, generator, position;
 * the rows of train put back in the order of the stop) and starts the progress bar. */
static void training_begin(training *tr, const char *prog, const options *o,
                           const stop_options *so, wg_model *m, wg_optim *opt, wg_dataset *train,
                           int batch_size) {
  tr->prog = prog, tr->so = *so, tr->m = m, tr->opt = opt, tr->batch_size = batch_size;
  tr->per_epoch = (train->rows + batch_size - 1) / batch_size;
  wg_rng_seed(&tr->shuffle, o->seed + 2);
  tr->epoch_at = 1, tr->batch_at = 0, tr->seed = (double)o->seed;
  tr->ck_rngs[0] = (wg_checkpoint_rng){"shuffle", &tr->shuffle};
  tr->ck_values[0] = (wg_checkpoint_value){"epoch", &tr->epoch_at};
  tr->ck_values[1] = (wg_checkpoint_value){"batch", &tr->batch_at};
  tr->ck_values[2] = (wg_checkpoint_value){"seed", &tr->seed};
  tr->ck = (wg_checkpoint){opt, tr->ck_rngs, 1, tr->ck_values, 3};
  tr->epoch = 0, tr->batch = 0, tr->resuming = 0, tr->stopped = 0;
  if (so->resume) {
    if (wg_checkpoint_load(m, &tr->ck, so->resume)) die(prog, wg_model_error(m));
    if (tr->seed != (double)o->seed) {
      char err[512];
      snprintf(err, sizeof err, "%s was saved with --seed %.0f, not %llu", so->resume, tr->seed,
               o->seed);
      die(prog, err);
    }
    /* the rows' order at the stop: the seeded split shuffled once per epoch 1..epoch_at */
    wg_rng replay;
    wg_rng_seed(&replay, o->seed + 2);
    for (long e = 1; e <= (long)tr->epoch_at; e++) wg_dataset_shuffle(train, &replay);
    if (memcmp(&replay, &tr->shuffle, sizeof replay) != 0) die(prog, "the checkpoint's shuffling "
                                                               "generator does not match its epoch");
    printf("resumed from %s: epoch %.0f, batch %.0f, step %ld\n", so->resume, tr->epoch_at,
           tr->batch_at, wg_optim_steps(opt));
  }
  wg_progress_begin(&tr->bar, stderr, "training", o->epochs * tr->per_epoch);
}

/* Starts an epoch: the rows shuffled (in the epoch resumed they are already in place). */
static wg_batches training_epoch(training *tr, wg_dataset *train, long epoch) {
  tr->resuming = tr->so.resume && epoch == (long)tr->epoch_at;
  if (!tr->resuming) wg_dataset_shuffle(train, &tr->shuffle);
  tr->epoch = epoch, tr->batch = 0;
  return wg_batches_begin(train, tr->batch_size);
}

/* The next batch to train on in x, y; 0 at the end of the epoch, or at the --stop-after step:
 * then the checkpoint is written and tr->stopped set. The batches done before a resumed stop
 * are skipped. */
static int training_batch(training *tr, wg_batches *b, wg_mat *x, wg_mat *y) {
  while (wg_batches_next(b, x, y)) {
    long k = tr->batch++; /* the batch's index in the epoch */
    if (tr->resuming && k < (long)tr->batch_at) continue; /* done before the stop */
    long steps = wg_optim_steps(tr->opt);
    if (tr->so.stop_after && steps == tr->so.stop_after) {
      tr->epoch_at = (double)tr->epoch, tr->batch_at = (double)k;
      if (wg_checkpoint_save(tr->m, &tr->ck, tr->so.checkpoint))
        die(tr->prog, wg_model_error(tr->m));
      wg_progress_clear(&tr->bar);
      printf("stopped after %ld steps (epoch %ld, batch %ld of %ld): checkpoint %s\n", steps,
             tr->epoch, k, tr->per_epoch, tr->so.checkpoint);
      tr->stopped = 1;
      return 0;
    }
    return 1;
  }
  return 0;
}

#endif
