/*
 * The host tests' pseudo-random numbers: xorshift64, seeded per test so
 * that a failure names a seed that reproduces it. Not for anything but
 * choosing test operations.
 */
#ifndef CAPOS_TEST_RNG_H
#define CAPOS_TEST_RNG_H

#include <stdint.h>

static uint64_t rng;

/* A number in [0, n), or 0 for n == 0. rng must be nonzero. */
static inline uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? rng % n : 0;
}

#endif
