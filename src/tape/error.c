/* error.c - the calling thread's last error message, like errno: one buffer per thread, so
 * two threads working on their own tapes never see each other's messages. */
#include <stdio.h>

#include "wengert.h"
#include "tape/error.h"

static _Thread_local char last_error[256];

void wg_set_last_error_v(const char *fmt, va_list ap) {
  vsnprintf(last_error, sizeof last_error, fmt, ap);
}

void wg_set_last_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wg_set_last_error_v(fmt, ap);
  va_end(ap);
}

const char *wg_last_error(void) {
  return last_error;
}
