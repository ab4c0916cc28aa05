/* The tick counter, advanced by the timer interrupt. */
#include "clock.h"

#include <arch/platform.h>

#include "sched.h"

/* Written only by the interrupt handler on this (only) CPU; readers load
 * it once per use, hence volatile rather than atomics. */
static volatile uint64_t ticks;

void timer_tick(int from_user)
{
    ticks++;
    sched_tick(from_user);
}

uint64_t clock_ticks(void)
{
    return ticks;
}

void clock_wait_ticks(uint64_t n)
{
    uint64_t until = ticks + n;
    while (ticks < until)
        arch_wait_for_interrupt();
}
