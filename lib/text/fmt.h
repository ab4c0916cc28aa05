/*
 * printf-style formatting, shared by the kernel's kprintf and the user
 * runtime's printf. Pure code: output goes to a caller-supplied sink.
 *
 * Supports %d %i %u %x %X %c %s %p %%, the length modifiers l, ll, z, the
 * flags '0' and '-', a field width, and a precision for %s given as ".*"
 * (counted strings) or as digits. Unknown conversions are printed verbatim.
 */
#ifndef CAPOS_LIB_FMT_H
#define CAPOS_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink)(void *ctx, char c);

/* Returns the number of characters produced. */
size_t fmt_format(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/* Format into buf (always NUL-terminated when size > 0); returns the length
 * the full output would have had. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
