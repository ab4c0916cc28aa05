#ifndef CAPOS_CLOCK_H
#define CAPOS_CLOCK_H

#include <stdint.h>

/* Timer ticks since the timer started (arch_timer_tick_hz() per second). */
uint64_t clock_ticks(void);
/* Sleep with interrupts on until `n` more ticks have passed. */
void clock_wait_ticks(uint64_t n);

#endif
