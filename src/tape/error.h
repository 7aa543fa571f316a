/* error.h - the calling thread's last error message (wg_last_error), set by every failure. */
#ifndef WG_ERROR_H
#define WG_ERROR_H
#include <stdarg.h>

/* Record a printf-style message as the calling thread's latest failure (read back with
 * wg_last_error). Every error path calls it: wg_fail for tapes, the model and optimizer
 * errors, and the calls that have no object to keep a message in. */
void wg_set_last_error(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void wg_set_last_error_v(const char *fmt, va_list ap);

#endif
