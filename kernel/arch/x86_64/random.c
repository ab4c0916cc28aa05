/* Hardware randomness: RDSEED (a true entropy source) first, RDRAND (a
 * DRBG output) second. Both may transiently fail (CF = 0); retries are
 * bounded so that a broken source cannot hang the boot. */
#include <arch/cpu.h>
#include <arch/platform.h>

static bool rdseed64(uint64_t *v)
{
    for (int i = 0; i < 64; i++) {
        unsigned char ok;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
        cpu_pause();
    }
    return false;
}

static bool rdrand64(uint64_t *v)
{
    for (int i = 0; i < 16; i++) {
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

size_t arch_hw_random(void *buf, size_t len)
{
    uint8_t *out = buf;
    size_t got = 0;
    while (got + 8 <= len) {
        uint64_t v;
        if (!(cpu_features.rdseed && rdseed64(&v)) && !(cpu_features.rdrand && rdrand64(&v)))
            break;
        for (int i = 0; i < 8; i++)
            out[got++] = (uint8_t)(v >> (8 * i));
    }
    return got;
}
