/*
 * The kernel CSPRNG (lib/crypto/csprng.c) and its seeding.
 *
 * Seed material: 64 bytes from RDSEED/RDRAND when the CPU has them, plus
 * the low bits of 256 TSC deltas around port I/O (interrupt timing, cache
 * and emulator jitter). Jitter alone is weak, which is why it is only ever
 * mixed in; without RDSEED/RDRAND the boot log says so.
 */
#include "entropy.h"

#include <arch/platform.h>
#include <stdint.h>

#include "crypto/csprng.h"
#include "kprintf.h"

static struct csprng rng;

const char *entropy_init(void)
{
    uint8_t seed[64 + 256];
    size_t hw = arch_hw_random(seed, 64);
    for (int i = 0; i < 256; i++) {
        uint64_t t0 = arch_cycles();
        for (volatile int j = 0; j < 16 + (i & 15); j++)
            ;
        seed[hw + (size_t)i] = (uint8_t)((arch_cycles() - t0) ^ (t0 >> 3));
    }
    csprng_seed(&rng, seed, hw + 256);
    for (size_t i = 0; i < sizeof(seed); i++)
        ((volatile uint8_t *)seed)[i] = 0;
    return hw == 64 ? "RDSEED/RDRAND and timer jitter" : "timer jitter only (no RDSEED/RDRAND)";
}

void entropy_fill(void *buf, size_t len)
{
    if (!csprng_fill(&rng, buf, len))
        panic("entropy: CSPRNG used before entropy_init");
}
