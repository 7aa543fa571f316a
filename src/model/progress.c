/* progress.c - a progress line for long work, written only to the FILE given.
 *
 * rate = done / (now - start) items per second; time left = (total - done) / rate.
 * On a terminal: one line, redrawn in place ("\r" at its start, "\033[K" erasing what a
 * longer earlier line left), at most every 0.1 s. Elsewhere (a file, a pipe): a plain line at
 * most every `interval` seconds, so a log gets a few lines, not thousands. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wengert.h"

#define REDRAW 0.1 /* seconds between two redraws of the bar */
#define BAR 20     /* characters of the bar */

static double monotonic(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(const wg_progress *p) {
  return p->clock ? p->clock() : monotonic();
}

void wg_progress_begin(wg_progress *p, FILE *f, const char *label, long total) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->f = f, p->label = label ? label : "", p->total = total > 0 ? total : 0;
  p->tty = f && isatty(fileno(f));
  p->interval = 10;
  p->start = p->last = now(p);
}

/* seconds as m:ss or h:mm:ss */
static void clock_text(char *out, size_t n, double s) {
  if (!(s >= 0 && s < 3.6e8)) {
    snprintf(out, n, "?");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

/* the rate and, while not finished, the time left (or, finished, the time taken) */
static void tail_text(const wg_progress *p, double t, int finished, char *out, size_t n) {
  double el = t - p->start, rate = el > 0 ? (double)p->done / el : 0;
  char r[32], c[32];
  if (rate > 0) snprintf(r, sizeof r, rate >= 100 ? "%.0f/s" : rate >= 1 ? "%.1f/s" : "%.2f/s",
                         rate);
  else snprintf(r, sizeof r, "-/s");
  if (finished) {
    snprintf(out, n, "%s, done in %.2f s", r, el);
    return;
  }
  if (p->total && rate > 0) clock_text(c, sizeof c, (double)(p->total - p->done) / rate);
  else snprintf(c, sizeof c, "?");
  snprintf(out, n, "%s, %s left", r, c);
}

static void draw(wg_progress *p, double t, int finished) {
  char tail[96];
  tail_text(p, t, finished, tail, sizeof tail);
  int pct = p->total ? (int)(100.0 * (double)p->done / (double)p->total) : 0;
  if (p->tty) {
    char bar[BAR + 1];
    int fill = p->total ? (int)((double)BAR * (double)p->done / (double)p->total) : 0;
    for (int i = 0; i < BAR; i++) bar[i] = i < fill ? '#' : '-';
    bar[BAR] = 0;
    if (p->total) fprintf(p->f, "\r%s [%s] %3d%% %ld/%ld  %s\033[K", p->label, bar, pct,
                          p->done, p->total, tail);
    else fprintf(p->f, "\r%s %ld  %s\033[K", p->label, p->done, tail);
    p->drawn = 1;
  } else if (p->total) {
    fprintf(p->f, "%s: %ld/%ld (%d%%), %s\n", p->label, p->done, p->total, pct, tail);
  } else {
    fprintf(p->f, "%s: %ld, %s\n", p->label, p->done, tail);
  }
  fflush(p->f);
  p->last = t;
}

void wg_progress_update(wg_progress *p, long done) {
  if (!p || !p->f) return;
  p->done = done < 0 ? 0 : p->total && done > p->total ? p->total : done;
  double t = now(p);
  if (t - p->last >= (p->tty ? REDRAW : p->interval)) draw(p, t, 0);
}

void wg_progress_clear(wg_progress *p) {
  if (!p || !p->f || !p->tty || !p->drawn) return;
  fputs("\r\033[K", p->f);
  fflush(p->f);
  p->drawn = 0;
}

void wg_progress_end(wg_progress *p) {
  if (!p || !p->f) return;
  draw(p, now(p), 1);
  if (p->tty) fputc('\n', p->f), fflush(p->f);
  p->drawn = 0;
  p->f = NULL; /* ended: later updates write nothing */
}
