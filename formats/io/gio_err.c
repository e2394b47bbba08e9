/* gio_err.c - see gio_err.h. */
#include "gio_err.h"

#include <stdio.h>

int gio_verrf(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    return -1;
}

int gio_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gio_verrf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
