/* gio_err.h - the one way this project fills a caller's error buffer.
 *
 * Library functions report failures as (char *err, size_t errlen): a message
 * naming the file and the problem (and, where one exists, the fix). These
 * helpers write it and return -1 so that `return gio_errf(err, errlen, ...)`
 * is the whole error path. A NULL err or a zero errlen is allowed (nothing is
 * written); messages that do not fit are cut, never overflow.
 */
#ifndef GQ_GIO_ERR_H
#define GQ_GIO_ERR_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define GIO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GIO_PRINTF(a, b)
#endif

int gio_errf(char *err, size_t errlen, const char *fmt, ...) GIO_PRINTF(3, 4);
int gio_verrf(char *err, size_t errlen, const char *fmt, va_list ap) GIO_PRINTF(3, 0);

#endif
