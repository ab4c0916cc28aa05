/*
 * QEMU test program: the runtime heap. Allocate and free a few thousand
 * blocks of random sizes in random order, checking alignment, that no two
 * live blocks overlap (each holds its own pattern) and that freed memory is
 * reused (coalescing keeps the heap small).
 */
#include "capos_rt.h"

#include <string.h>

#define SLOTS 256

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(void)
{
    static uint8_t *p[SLOTS];
    static size_t len[SLOTS];
    for (int round = 0; round < 4000; round++) {
        int i = (int)(next() % SLOTS);
        if (p[i]) {
            for (size_t k = 0; k < len[i]; k++)
                if (p[i][k] != (uint8_t)(i ^ k))
                    capos_panic("block %d overwritten at %zu", i, k);
            capos_free(p[i]);
            p[i] = 0;
        } else {
            len[i] = 1 + next() % (next() % 8 == 0 ? 20000 : 300);
            p[i] = capos_malloc(len[i]);
            if (!p[i] || ((uint64_t)p[i] & 15))
                capos_panic("malloc(%zu) gave %p", len[i], (void *)p[i]);
            for (size_t k = 0; k < len[i]; k++)
                p[i][k] = (uint8_t)(i ^ k);
        }
    }
    for (int i = 0; i < SLOTS; i++)
        capos_free(p[i]);
    /* Everything is free and coalesced: one big block must fit again. */
    void *big = capos_malloc(60000);
    if (!big)
        capos_panic("no 60000-byte block after freeing everything");
    capos_free(big);
    if (capos_malloc((size_t)1 << 40) != 0)
        capos_panic("a 1 TiB malloc succeeded");
    capos_printf("user-heap: ok\n");
    return 0;
}
