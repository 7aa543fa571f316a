/* pool.c - see pool.h. Workers sleep on a condition variable between runs; a run posts a job
 * (function, argument, task count), the caller and the awake workers take task indices from
 * an atomic counter, and the caller returns once every worker that joined the job is done. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "wengert.h"
#include "par/pool.h"
#include "tape/alloc.h"

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* held around a run */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;       /* job state below */
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;

/* The configuration: written only with run_lock held (start_pool, wg_set_threads, the exit
 * handler). workers, n_workers and wanted are read only with it held too; `limit` is atomic so
 * that wg_par_threads can read it without the lock (the backward sweep asks, unlocked). */
static pthread_t workers[WG_MAX_THREADS];
static int n_workers;               /* running workers (slots 1..n_workers) */
static int wanted;                  /* threads asked for; 0 until set or WG_NUM_THREADS read */
static atomic_int limit = 1;        /* threads runs use: 1 + the first limit - 1 workers; the
                                       others sleep (kept, so going back up costs nothing) */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT; /* start_pool has run */
static int job_limit;               /* limit of the posted job */
static atomic_ulong job_gen;        /* bumped for every posted job */
static unsigned long born_gen;      /* job_gen when the current workers were created */
static int job_open, sleeping, caller_waits;
static atomic_int active, stopping; /* workers inside the current job; shutdown flag */
static wg_task_fn job_fn;
static void *job_arg;
static int job_n;
static atomic_int next_task;        /* the next task beyond the flagged ones */

/* Spinning a little before sleeping lets back-to-back runs (the packing and compute phases
 * of a gemm, layer after layer) skip the wake-up latency of a condition variable. */
#define SPIN 4000

static inline void cpu_relax(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_ia32_pause();
#endif
}

/* Tasks are claimed one by one (a flag each), in an order that keeps neighbours together:
 * slot s owns the s-th of `slots` equal ranges of the tasks and runs them in increasing
 * order; a slot done with its own takes the other ranges' unclaimed tasks from their ends.
 * Consecutive runs split the same way then find their rows in the cache of the core that
 * wrote them (a layer's product, then its bias and activation), and a faster core or a
 * worker that arrives late (descheduled by another job) only shifts the boundaries. Tasks
 * beyond WG_MAX_TASKS (none of the library's runs has so many) come from a counter. */
static atomic_uchar claimed[WG_MAX_TASKS];

static int claim(int i) {
  return !atomic_load_explicit(&claimed[i], memory_order_relaxed) && !atomic_exchange(&claimed[i], 1);
}

/* Slot s's own tasks: the s-th of `slots` equal ranges, or task s alone when there are
 * fewer tasks than slots. */
static void own_range(int n, int slots, int s, int *lo, int *hi) {
  if (n >= slots) *lo = n * s / slots, *hi = n * (s + 1) / slots;
  else *lo = s < n ? s : n, *hi = s < n ? s + 1 : n;
}

static void take_tasks(wg_task_fn fn, void *arg, int n, int slot, int slots) {
  int flagged = n < WG_MAX_TASKS ? n : WG_MAX_TASKS, lo, hi;
  own_range(flagged, slots, slot, &lo, &hi);
  for (int i = lo; i < hi; i++)
    if (claim(i)) fn(arg, i, slot);
  for (int d = 1; d < slots; d++) {
    own_range(flagged, slots, (slot + d) % slots, &lo, &hi);
    for (int i = hi - 1; i >= lo; i--)
      if (claim(i)) fn(arg, i, slot);
  }
  for (int i; (i = atomic_fetch_add(&next_task, 1)) < n;) fn(arg, i, slot);
}

static void *worker_main(void *p) {
  int slot = (int)(intptr_t)p;
  pthread_mutex_lock(&mu);
  unsigned long seen = born_gen;
  pthread_mutex_unlock(&mu);
  for (;;) {
    for (int s = 0; s < SPIN && atomic_load(&job_gen) == seen && !atomic_load(&stopping); s++)
      cpu_relax();
    pthread_mutex_lock(&mu);
    while (atomic_load(&job_gen) == seen && !atomic_load(&stopping)) {
      sleeping++;
      pthread_cond_wait(&start_cv, &mu);
      sleeping--;
    }
    if (atomic_load(&stopping)) break;
    seen = atomic_load(&job_gen);
    if (!job_open || slot >= job_limit) { /* finished already, or not for this slot */
      pthread_mutex_unlock(&mu);
      continue;
    }
    atomic_fetch_add(&active, 1);
    wg_task_fn fn = job_fn;
    void *arg = job_arg;
    int n = job_n, slots = job_limit;
    pthread_mutex_unlock(&mu);
    take_tasks(fn, arg, n, slot, slots);
    if (atomic_fetch_sub(&active, 1) == 1) {
      pthread_mutex_lock(&mu);
      if (caller_waits) pthread_cond_signal(&done_cv);
      pthread_mutex_unlock(&mu);
    }
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void stop_workers(void) {
  pthread_mutex_lock(&mu);
  atomic_store(&stopping, 1);
  pthread_cond_broadcast(&start_cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < n_workers; i++) pthread_join(workers[i], NULL);
  n_workers = 0;
  atomic_store(&limit, 1);
  atomic_store(&stopping, 0);
}

/* Create workers up to wanted - 1; stop at the first failure (the pool then runs with fewer).
 * run_lock held. */
static void start_workers(void) {
  while (n_workers < wanted - 1) {
    pthread_mutex_lock(&mu); /* a new worker must start from the current generation */
    born_gen = atomic_load(&job_gen);
    pthread_mutex_unlock(&mu);
    if (pthread_create(&workers[n_workers], NULL, worker_main, (void *)(intptr_t)(n_workers + 1)))
      break;
    n_workers++;
  }
  atomic_store(&limit, wanted < 1 + n_workers ? wanted : 1 + n_workers);
}

static int clamp_threads(long n) {
  return n < 1 ? 1 : n > WG_MAX_THREADS ? WG_MAX_THREADS : (int)n;
}

/* The first use reads WG_NUM_THREADS (default 1) unless wg_set_threads came first, and starts
 * the workers. pthread_once runs it exactly once: threads that arrive meanwhile wait until it
 * has returned, so two first uses at once cannot both start workers (two workers on one slot
 * would share its scratch buffer). It takes run_lock like every writer of the configuration,
 * so it must never be reached with run_lock held: wg_par_lock calls it before locking, and
 * only wg_par_lock's callers call wg_par_threads and wg_par_run with the lock held. */
static void start_pool(void) {
  pthread_mutex_lock(&run_lock);
  if (!wanted) {
    const char *s = getenv("WG_NUM_THREADS");
    wanted = s ? clamp_threads(strtol(s, NULL, 10)) : 1;
  }
  start_workers();
  pthread_mutex_unlock(&run_lock);
}

static void ensure_pool(void) {
  pthread_once(&pool_once, start_pool); /* after the first time: one load and a compare */
}

void wg_par_lock(void) {
  ensure_pool();
  pthread_mutex_lock(&run_lock);
}

void wg_par_unlock(void) {
  pthread_mutex_unlock(&run_lock);
}

int wg_par_threads(void) {
  ensure_pool();
  return atomic_load(&limit);
}

void wg_par_run(wg_task_fn fn, void *arg, int n_tasks) {
  int threads = atomic_load(&limit); /* cannot change: the caller holds run_lock */
  if (threads == 1 || n_tasks <= 1) {
    for (int i = 0; i < n_tasks; i++) fn(arg, i, 0);
    return;
  }
  pthread_mutex_lock(&mu);
  job_fn = fn, job_arg = arg, job_n = n_tasks, job_open = 1, job_limit = threads;
  for (int i = 0; i < n_tasks && i < WG_MAX_TASKS; i++) atomic_store(&claimed[i], 0);
  atomic_store(&next_task, WG_MAX_TASKS);
  atomic_fetch_add(&job_gen, 1);
  if (sleeping) pthread_cond_broadcast(&start_cv);
  pthread_mutex_unlock(&mu);
  take_tasks(fn, arg, n_tasks, 0, job_limit);
  pthread_mutex_lock(&mu);
  job_open = 0; /* workers arriving from now on skip this job; `active` only falls */
  pthread_mutex_unlock(&mu);
  for (int s = 0; s < SPIN && atomic_load(&active) > 0; s++) cpu_relax();
  pthread_mutex_lock(&mu);
  caller_waits = 1;
  while (atomic_load(&active) > 0) pthread_cond_wait(&done_cv, &mu);
  caller_waits = 0;
  pthread_mutex_unlock(&mu);
}

/* [0, n) in parts of about `grain` elements (at least one), as many as useful for the pool */
static int par_parts(size_t n, size_t grain) {
  int t = wg_par_threads();
  if (t == 1 || n < 2 * grain) return 1;
  size_t parts = n / grain;
  return parts < (size_t)t ? (int)parts : t;
}

/* It does not start the pool first: called before the first use, it creates the workers for
 * n, and start_pool later finds the count set, leaves WG_NUM_THREADS unread and has nothing
 * left to create. */
int wg_set_threads(int n) {
  pthread_mutex_lock(&run_lock);
  wanted = clamp_threads(n); /* an explicit setting wins over WG_NUM_THREADS */
  start_workers();           /* creates what is missing; extra workers just sleep */
  int got = atomic_load(&limit);
  pthread_mutex_unlock(&run_lock);
  return got;
}

/* ---- scratch ------------------------------------------------------------------------------ */

/* Kept buffers always come from the allocator in force: wg_set_allocator gives them back
 * (wg_par_release) before it switches. */
typedef struct {
  unsigned char *raw, *p; /* raw from the allocator; p aligned to 64 bytes */
  size_t raw_size, size;
} scratch;

static scratch scr[WG_MAX_THREADS];

static void scratch_release(scratch *s) {
  wg_free(s->raw, s->raw_size);
  s->raw = s->p = NULL;
  s->raw_size = s->size = 0;
}

void *wg_par_scratch(int id, size_t bytes) {
  scratch *s = &scr[id];
  if (s->size >= bytes) return s->p;
  scratch_release(s);
  if (bytes > SIZE_MAX - 64) return NULL;
  bytes = (bytes + 4095) & ~(size_t)4095; /* grow in pages: fewer regrowths */
  s->raw = wg_alloc(bytes + 64);
  if (!s->raw) return NULL;
  s->raw_size = bytes + 64;
  s->p = (unsigned char *)(((uintptr_t)s->raw + 63) & ~(uintptr_t)63);
  s->size = bytes;
  return s->p;
}

void wg_par_release(void) {
  pthread_mutex_lock(&run_lock); /* not wg_par_lock: freeing buffers does not start the pool */
  for (int i = 0; i < WG_MAX_THREADS; i++) scratch_release(&scr[i]);
  pthread_mutex_unlock(&run_lock);
}

void wg_free_buffers(void) {
  wg_par_release();
}

/* At exit: stop the workers and give the scratch back, so leak checkers see nothing held. */
#if defined(__GNUC__)
__attribute__((destructor)) static void pool_shutdown(void) {
  if (pthread_mutex_trylock(&run_lock)) return; /* a run is in flight in another thread */
  stop_workers();
  for (int i = 0; i < WG_MAX_THREADS; i++) scratch_release(&scr[i]);
  pthread_mutex_unlock(&run_lock);
}
#endif

/* ---- shares ------------------------------------------------------------------------------- */

static double speed[WG_MAX_THREADS]; /* relative speed of each slot; 0: not measured yet */

static double speed_of(int slot) {
  return speed[slot] > 0 ? speed[slot] : 1;
}

static double clock_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void wg_par_share(size_t units, int parts, size_t *bounds) {
  double total = 0, sum = 0;
  for (int t = 0; t < parts; t++) total += speed_of(t);
  bounds[0] = 0;
  for (int t = 0; t < parts; t++) {
    sum += speed_of(t);
    size_t b = t == parts - 1 ? units : (size_t)((double)units * sum / total + 0.5);
    size_t lo = bounds[t] + 1, hi = units - (size_t)(parts - 1 - t); /* none left empty */
    if (units < (size_t)parts) lo = hi = units * (size_t)(t + 1) / (size_t)parts;
    bounds[t + 1] = b < lo ? lo : b > hi ? hi : b;
  }
}

/* A task's speed: units per second from the start of the run to its end (a worker that wakes
 * late counts as slower), relative to the mean of the run. */
void wg_par_learn(int parts, const size_t *bounds, double started, const double *ended,
                  const int *ran_on) {
  double rate[WG_MAX_THREADS], mean = 0;
  for (int t = 0; t < parts; t++) {
    double took = ended[t] - started;
    if (ran_on[t] != t || !(took > 0)) return; /* a task another slot took over: no lesson */
    rate[t] = (double)(bounds[t + 1] - bounds[t]) / took;
    mean += rate[t] / parts;
  }
  if (!(mean > 0)) return;
  for (int t = 0; t < parts; t++) speed[t] = 0.75 * speed_of(t) + 0.25 * rate[t] / mean;
}

/* A split's task: the kernel's task, then when and where it ended. */
static void timed_task(void *arg, int task, int slot) {
  wg_par_split *s = arg;
  s->fn(s->arg, task, slot);
  s->ended[task] = clock_seconds();
  s->ran_on[task] = slot;
}

void wg_par_split_share(wg_par_split *s, size_t units, int parts) {
  s->parts = parts;
  wg_par_share(units, parts, s->bound);
}

void wg_par_split_run(wg_par_split *s, wg_task_fn fn, void *arg) {
  s->fn = fn, s->arg = arg;
  s->started = clock_seconds();
  wg_par_run(timed_task, s, s->parts);
  if (s->parts > 1) wg_par_learn(s->parts, s->bound, s->started, s->ended, s->ran_on);
}

/* ---- wg_par_for: a range split in parts ---------------------------------------------------- */

typedef struct {
  wg_range_fn fn;
  void *arg;
  size_t bounds[WG_MAX_THREADS + 1];
} range_job;

static void range_task(void *arg, int task, int slot) {
  const range_job *j = arg;
  (void)slot;
  j->fn(j->arg, j->bounds[task], j->bounds[task + 1]);
}

void wg_par_for(size_t n, size_t grain, wg_range_fn fn, void *arg) {
  if (n < 2 * grain) { /* small: no hand-off (and no lock) */
    fn(arg, 0, n);
    return;
  }
  wg_par_lock();
  range_job j = {fn, arg, {0}};
  int parts = par_parts(n, grain);
  wg_par_share(n, parts, j.bounds);
  wg_par_run(range_task, &j, parts);
  wg_par_unlock();
}
