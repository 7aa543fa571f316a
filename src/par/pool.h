/* pool.h - a small pthread pool: the library's only threads.
 *
 * wg_par_run(fn, arg, n) calls fn(arg, task, slot) for task = 0..n-1, spread over the pool's
 * threads (the caller is slot 0, worker i is slot i). Tasks must write disjoint outputs and
 * must not depend on which slot runs them: then results are identical for every thread count.
 * The pool has 1 thread (no workers) unless WG_NUM_THREADS (read once) or wg_set_threads()
 * says otherwise; if a worker cannot be created the pool runs with the threads it has.
 *
 * Callers hold the pool lock around a run (wg_par_lock / wg_par_unlock): it serialises
 * library calls made from several user threads at once and protects the scratch buffers.
 * The pool starts at its first use (wg_par_lock or wg_par_threads), exactly once even when
 * several user threads get there at the same moment (pthread_once). Its configuration (the
 * thread count, the workers) changes only with the lock held, so the count a caller holding
 * the lock reads stays valid until it unlocks. */
#ifndef WG_POOL_H
#define WG_POOL_H
#include <stddef.h>

#define WG_MAX_THREADS 64
#define WG_MAX_TASKS 256 /* tasks of a run claimed in neighbourhood order (see pool.c) */

typedef void (*wg_task_fn)(void *arg, int task, int slot);

void wg_par_lock(void);
void wg_par_unlock(void);
/* Threads a run may use (>= 1). Callable without the lock (an atomic read; another thread's
 * wg_set_threads may change it right after); with the lock held it is the count of the runs
 * made before unlocking. */
int wg_par_threads(void);
/* Lock held (taken by wg_par_lock, which has started the pool); returns when all are done. */
void wg_par_run(wg_task_fn fn, void *arg, int n_tasks);

/* Scratch buffer of slot `id` of at least `bytes`, 64-byte aligned,
 * kept between calls (allocated through wg_alloc's hook the first time it is needed and
 * when it grows); NULL if the allocation fails. Lock held. */
void *wg_par_scratch(int id, size_t bytes);

/* Give every kept scratch buffer back (takes the lock). wg_set_allocator calls it before
 * switching, so a buffer is always freed by the allocator that made it; wg_free_buffers is
 * the public name. */
void wg_par_release(void);

/* Work shares for threads that are not equally fast. Two cores of a virtual machine, or a big
 * and a little core, can run the same kernel at quite different speeds, and equal shares then
 * leave the faster thread idle at the end of every run. A kernel that splits its output in
 * units (a product's panels) runs it as a split:
 *
 *   wg_par_split s;
 *   wg_par_split_share(&s, units, parts);   task t gets units [s.bound[t], s.bound[t + 1])
 *   wg_par_split_run(&s, fn, arg);          fn(arg, t, slot) for t < parts, timed
 *
 * wg_par_split_share cuts [0, units) into `parts` ranges (bound[0] = 0 <= bound[1] <= ... <=
 * bound[parts] = units, each non-empty when units >= parts): task t, which slot t runs first,
 * gets a share in proportion to the speed slot t showed so far (equal shares until something
 * was learned). wg_par_split_run runs the tasks as wg_par_run does and notes when each ended
 * and on which slot; from that the pool learns the slots' relative speeds (a running
 * average; a task another slot took over teaches nothing). Lock held for both. */
typedef struct wg_par_split {
  int parts;
  size_t bound[WG_MAX_THREADS + 1];
  /* the pool's own, filled by wg_par_split_run */
  wg_task_fn fn;
  void *arg;
  double started, ended[WG_MAX_THREADS];
  int ran_on[WG_MAX_THREADS];
} wg_par_split;
void wg_par_split_share(wg_par_split *s, size_t units, int parts);
void wg_par_split_run(wg_par_split *s, wg_task_fn fn, void *arg);

/* The two halves of a split, for tests that teach the pool chosen speeds: the shares of
 * [0, units) (as above), and the lesson of a run that started at `started` (seconds) whose
 * task t ended at ended[t] on slot ran_on[t]. Lock held. */
void wg_par_share(size_t units, int parts, size_t *bounds);
void wg_par_learn(int parts, const size_t *bounds, double started, const double *ended,
                  const int *ran_on);

/* fn(arg, lo, hi) over [0, n): in one call when n < 2 grain, else over parts of about `grain`
 * elements on the pool, shared as wg_par_share says, so that a product's rows and the
 * elementwise passes over them fall to the same thread (it takes the lock: do not call it
 * with the lock held). Each element must be computed by itself (no sum across elements of
 * [lo, hi) that crosses a part boundary), so that the results do not depend on the split. */
typedef void (*wg_range_fn)(void *arg, size_t lo, size_t hi);
void wg_par_for(size_t n, size_t grain, wg_range_fn fn, void *arg);

/* Elements per part for elementwise loops: below this a thread hand-off costs more than the
 * loop (the array math uses the same grain). */
#define WG_PAR_GRAIN 16384

/* The grain for wg_par_for over items of `per` elements each (rows of a matrix, columns
 * summed down its rows): about WG_PAR_GRAIN elements per part, at least one item. */
static inline size_t wg_par_grain_of(size_t per) {
  size_t g = WG_PAR_GRAIN / (per ? per : 1);
  return g ? g : 1;
}

#endif
