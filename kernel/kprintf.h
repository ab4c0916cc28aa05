#ifndef CAPOS_KPRINTF_H
#define CAPOS_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Formatted output to the console. Supports %d %i %u %x %X %c %s %p %%,
 * the length modifiers l, ll, z, the flags '0' and '-', a field width, and
 * %.*s for counted strings.
 */
__attribute__((format(printf, 1, 2))) void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);

/* Same formatting into a buffer; always NUL-terminates when size > 0.
 * Returns the length the full output would have had. */
__attribute__((format(printf, 3, 4))) int ksnprintf(char *buf, size_t size, const char *fmt, ...);

/* Print an error and halt with a failure status. */
__attribute__((format(printf, 1, 2))) _Noreturn void panic(const char *fmt, ...);

#endif
