/*
 * SipHash-2-4: two compression rounds per 8-byte message word, four
 * finalization rounds. The 128-bit variant differs only in a tweak of v1 at
 * the start, a different finalization constant, and a second squeeze, so
 * both share one core.
 */
#include "crypto/siphash.h"

#define ROTL64(v, n) (((v) << (n)) | ((v) >> (64 - (n))))

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = ROTL64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = ROTL64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = ROTL64(v2, 32);                                                                       \
    } while (0)

/* Byte-wise little-endian access: no alignment or aliasing assumptions, and
 * GCC turns each into a single mov on x86_64. */
static inline uint64_t load64_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* out[0], and out[1] when wide, are the output words. */
static void sip24(const uint8_t key[SIPHASH_KEY_SIZE], const uint8_t *m, size_t len, bool wide,
                  uint64_t out[2])
{
    uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
    /* "somepseudorandomlygeneratedbytes" */
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
    uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
    uint64_t v3 = k1 ^ 0x7465646279746573ull;
    if (wide)
        v1 ^= 0xee;

    /* The last word carries the length mod 256 in its top byte and the
     * remaining 0..7 message bytes at the bottom. */
    uint64_t last = (uint64_t)len << 56;
    for (; len >= 8; len -= 8, m += 8) {
        uint64_t w = load64_le(m);
        v3 ^= w;
        SIPROUND;
        SIPROUND;
        v0 ^= w;
    }
    for (size_t i = 0; i < len; i++)
        last |= (uint64_t)m[i] << (8 * i);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;

    v2 ^= wide ? 0xee : 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    out[0] = v0 ^ v1 ^ v2 ^ v3;
    if (!wide)
        return;

    v1 ^= 0xdd;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    out[1] = v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_SIZE], const void *msg, size_t len)
{
    uint64_t out[2];
    sip24(key, msg, len, false, out);
    return out[0];
}

void siphash24_128(const uint8_t key[SIPHASH_KEY_SIZE], const void *msg, size_t len,
                   uint8_t out[16])
{
    uint64_t w[2];
    sip24(key, msg, len, true, w);
    store64_le(out, w[0]);
    store64_le(out + 8, w[1]);
}
