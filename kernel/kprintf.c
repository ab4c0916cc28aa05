/* Kernel console output and panic, on top of lib/text/fmt.c. */
#include "kprintf.h"

#include <arch/platform.h>

#include "spinlock.h"
#include "text/fmt.h"

/* One CPU's message at a time. A CPU that already holds it (a panic in
 * the middle of a message, an interrupt during boot output) writes on. */
static struct spinlock console_lock = SPINLOCK_INIT("console", LOCK_RANK_CONSOLE);

static void console_put(void *ctx, char c)
{
    (void)ctx;
    arch_console_putc(c);
}

void kvprintf(const char *fmt, va_list ap)
{
    /* Interrupts off while the lock is held: during boot they are on, and
     * the timer handler takes the kernel lock, which ranks below. */
    bool intr = arch_interrupts_save_disable();
    bool take = !spin_held(&console_lock);
    if (take)
        spin_lock(&console_lock);
    fmt_format(console_put, 0, fmt, ap);
    if (take)
        spin_unlock(&console_lock);
    arch_interrupts_restore(intr);
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
