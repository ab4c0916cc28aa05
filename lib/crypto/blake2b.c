/*
 * BLAKE2b (RFC 7693 section 3). The compression function keeps its sixteen
 * working words and the message block in locals so the compiler can hold
 * as much as it likes in registers; G is a macro, never a call.
 *
 * The last block must be compressed with the finalization flag set, and the
 * hash cannot know which block is last until final() is called, so update()
 * always keeps the most recent block (even a full one) in the buffer and
 * only compresses it when more input arrives.
 */
#include "crypto/blake2b.h"

#include "string.h"

#define ROTR64(v, n) (((v) >> (n)) | ((v) << (64 - (n))))

static const uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

/* Message word schedule; rounds 10 and 11 reuse rows 0 and 1. */
static const uint8_t sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

/* Byte-wise little-endian access: no alignment or aliasing assumptions, and
 * GCC turns each into a single mov on x86_64. */
static inline uint64_t load64_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* Through a volatile pointer, so the compiler cannot drop the stores as dead
 * even though the state is never read again. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

#define G(r, i, a, b, c, d)                                                                        \
    do {                                                                                           \
        a = a + b + m[sigma[r][2 * (i)]];                                                          \
        d = ROTR64(d ^ a, 32);                                                                     \
        c = c + d;                                                                                 \
        b = ROTR64(b ^ c, 24);                                                                     \
        a = a + b + m[sigma[r][2 * (i) + 1]];                                                      \
        d = ROTR64(d ^ a, 16);                                                                     \
        c = c + d;                                                                                 \
        b = ROTR64(b ^ c, 63);                                                                     \
    } while (0)

static void compress(struct blake2b_state *s, const uint8_t block[BLAKE2B_BLOCK_SIZE], bool last)
{
    uint64_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = load64_le(block + 8 * i);

    uint64_t v0 = s->h[0], v1 = s->h[1], v2 = s->h[2], v3 = s->h[3];
    uint64_t v4 = s->h[4], v5 = s->h[5], v6 = s->h[6], v7 = s->h[7];
    uint64_t v8 = blake2b_iv[0], v9 = blake2b_iv[1], v10 = blake2b_iv[2], v11 = blake2b_iv[3];
    uint64_t v12 = blake2b_iv[4] ^ s->t[0], v13 = blake2b_iv[5] ^ s->t[1];
    uint64_t v14 = last ? ~blake2b_iv[6] : blake2b_iv[6], v15 = blake2b_iv[7];

    for (int r = 0; r < 12; r++) {
        G(r, 0, v0, v4, v8, v12);
        G(r, 1, v1, v5, v9, v13);
        G(r, 2, v2, v6, v10, v14);
        G(r, 3, v3, v7, v11, v15);
        G(r, 4, v0, v5, v10, v15);
        G(r, 5, v1, v6, v11, v12);
        G(r, 6, v2, v7, v8, v13);
        G(r, 7, v3, v4, v9, v14);
    }

    s->h[0] ^= v0 ^ v8;
    s->h[1] ^= v1 ^ v9;
    s->h[2] ^= v2 ^ v10;
    s->h[3] ^= v3 ^ v11;
    s->h[4] ^= v4 ^ v12;
    s->h[5] ^= v5 ^ v13;
    s->h[6] ^= v6 ^ v14;
    s->h[7] ^= v7 ^ v15;
}

/* The byte counter is 128 bits wide; carry into the high word. */
static void count(struct blake2b_state *s, size_t n)
{
    s->t[0] += n;
    if (s->t[0] < n)
        s->t[1]++;
}

bool blake2b_init(struct blake2b_state *s, size_t outlen)
{
    if (outlen == 0 || outlen > BLAKE2B_OUT_MAX)
        return false;
    for (int i = 0; i < 8; i++)
        s->h[i] = blake2b_iv[i];
    /* Parameter block word 0: digest length, key length 0, fanout 1,
     * depth 1 (sequential mode). */
    s->h[0] ^= 0x01010000ull | (uint64_t)outlen;
    s->t[0] = s->t[1] = 0;
    s->buflen = 0;
    s->outlen = outlen;
    return true;
}

void blake2b_update(struct blake2b_state *s, const void *in, size_t len)
{
    const uint8_t *p = in;
    size_t room = BLAKE2B_BLOCK_SIZE - s->buflen;

    if (len > room) {
        /* There is input beyond this block, so the buffered one is not the
         * last: fill it up and compress it. */
        memcpy(s->buf + s->buflen, p, room);
        p += room;
        len -= room;
        count(s, BLAKE2B_BLOCK_SIZE);
        compress(s, s->buf, false);
        s->buflen = 0;
        /* Whole blocks straight from the input, except the one that may
         * turn out to be the last. */
        while (len > BLAKE2B_BLOCK_SIZE) {
            count(s, BLAKE2B_BLOCK_SIZE);
            compress(s, p, false);
            p += BLAKE2B_BLOCK_SIZE;
            len -= BLAKE2B_BLOCK_SIZE;
        }
    }
    if (len) {
        memcpy(s->buf + s->buflen, p, len);
        s->buflen += len;
    }
}

void blake2b_final(struct blake2b_state *s, void *out)
{
    uint8_t *o = out;

    count(s, s->buflen);
    memset(s->buf + s->buflen, 0, BLAKE2B_BLOCK_SIZE - s->buflen);
    compress(s, s->buf, true);
    for (size_t i = 0; i < s->outlen; i++)
        o[i] = (uint8_t)(s->h[i / 8] >> (8 * (i % 8)));
    wipe(s, sizeof(*s));
}

bool blake2b(void *out, size_t outlen, const void *in, size_t len)
{
    struct blake2b_state s;

    if (!blake2b_init(&s, outlen))
        return false;
    blake2b_update(&s, in, len);
    blake2b_final(&s, out);
    return true;
}
