/* What the benchmark programs share. */
#ifndef CAPOS_BENCH_H
#define CAPOS_BENCH_H

#include <stdint.h>

/* The time-stamp counter: under QEMU -icount shift=0 it counts executed
 * guest instructions, so differences are exact instruction counts. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#endif
