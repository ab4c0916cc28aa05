/* Kernel console output and panic, on top of lib/text/fmt.c. */
#include "kprintf.h"

#include <arch/platform.h>

#include "text/fmt.h"

static void console_put(void *ctx, char c)
{
    (void)ctx;
    arch_console_putc(c);
}

void kvprintf(const char *fmt, va_list ap)
{
    fmt_format(console_put, 0, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
void panic(const char *fmt, ...)
{
    arch_interrupts_disable();
    kprintf("\ncapOS: PANIC: ");
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    arch_halt(HALT_FAILURE);
}
