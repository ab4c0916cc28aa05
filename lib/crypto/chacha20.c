/*
 * ChaCha20 (RFC 8439 section 2). The block function keeps the working state
 * in sixteen scalar locals so the compiler can hold as much of it in
 * registers as it likes; quarter rounds are a macro, never a call.
 */
#include "crypto/chacha20.h"

#define ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

#define QR(a, b, c, d)                                                                             \
    do {                                                                                           \
        a += b;                                                                                    \
        d ^= a;                                                                                    \
        d = ROTL32(d, 16);                                                                         \
        c += d;                                                                                    \
        b ^= c;                                                                                    \
        b = ROTL32(b, 12);                                                                         \
        a += b;                                                                                    \
        d ^= a;                                                                                    \
        d = ROTL32(d, 8);                                                                          \
        c += d;                                                                                    \
        b ^= c;                                                                                    \
        b = ROTL32(b, 7);                                                                          \
    } while (0)

/* Byte-wise little-endian access: no alignment or aliasing assumptions, and
 * GCC turns each into a single mov on x86_64. */
static inline uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void crypto_wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;
    while (len--)
        *v++ = 0;
}

/* The block function's word buffers, wiped a word at a time: a byte loop
 * would cost more than the block itself. */
static void wipe_words(uint32_t *p, size_t n)
{
    volatile uint32_t *v = p;
    while (n--)
        *v++ = 0;
}

void chacha20_quarter_round(uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    uint32_t x = *a, y = *b, z = *c, w = *d;
    QR(x, y, z, w);
    *a = x;
    *b = y;
    *c = z;
    *d = w;
}

/* constants | key | counter | nonce (section 2.3). */
static void init_state(uint32_t s[16], const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                       const uint8_t nonce[CHACHA20_NONCE_SIZE])
{
    s[0] = 0x61707865; /* "expand 32-byte k" */
    s[1] = 0x3320646e;
    s[2] = 0x79622d32;
    s[3] = 0x6b206574;
    for (int i = 0; i < 8; i++)
        s[4 + i] = load32_le(key + 4 * i);
    s[12] = counter;
    s[13] = load32_le(nonce);
    s[14] = load32_le(nonce + 4);
    s[15] = load32_le(nonce + 8);
}

/* 20 rounds (10 column + diagonal pairs), then add the input words. */
static void core(const uint32_t s[16], uint32_t w[16])
{
    uint32_t x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
    uint32_t x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
    uint32_t x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11];
    uint32_t x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];

    for (int i = 0; i < 10; i++) {
        QR(x0, x4, x8, x12);
        QR(x1, x5, x9, x13);
        QR(x2, x6, x10, x14);
        QR(x3, x7, x11, x15);
        QR(x0, x5, x10, x15);
        QR(x1, x6, x11, x12);
        QR(x2, x7, x8, x13);
        QR(x3, x4, x9, x14);
    }

    w[0] = x0 + s[0];
    w[1] = x1 + s[1];
    w[2] = x2 + s[2];
    w[3] = x3 + s[3];
    w[4] = x4 + s[4];
    w[5] = x5 + s[5];
    w[6] = x6 + s[6];
    w[7] = x7 + s[7];
    w[8] = x8 + s[8];
    w[9] = x9 + s[9];
    w[10] = x10 + s[10];
    w[11] = x11 + s[11];
    w[12] = x12 + s[12];
    w[13] = x13 + s[13];
    w[14] = x14 + s[14];
    w[15] = x15 + s[15];
}

void chacha20_block(const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                    const uint8_t nonce[CHACHA20_NONCE_SIZE], uint8_t out[CHACHA20_BLOCK_SIZE])
{
    uint32_t s[16], w[16];
    init_state(s, key, counter, nonce);
    core(s, w);
    for (int i = 0; i < 16; i++)
        store32_le(out + 4 * i, w[i]);
    wipe_words(s, 16);
    wipe_words(w, 16);
}

/* The blocks from counter through 0xffffffff must cover len bytes. */
static bool fits_counter(uint32_t counter, size_t len)
{
    uint64_t blocks = (uint64_t)len / CHACHA20_BLOCK_SIZE + (len % CHACHA20_BLOCK_SIZE != 0);
    return blocks <= ((uint64_t)1 << 32) - counter;
}

/* XOR the keystream into in (or emit it alone when in is NULL). */
static bool run(const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                const uint8_t nonce[CHACHA20_NONCE_SIZE], uint8_t *out, const uint8_t *in,
                size_t len)
{
    if (!fits_counter(counter, len))
        return false;

    uint32_t s[16], w[16];
    init_state(s, key, counter, nonce);

    for (; len >= CHACHA20_BLOCK_SIZE; len -= CHACHA20_BLOCK_SIZE) {
        core(s, w);
        for (int i = 0; i < 16; i++)
            store32_le(out + 4 * i, (in ? load32_le(in + 4 * i) : 0) ^ w[i]);
        /* Wraps only after the block at 0xffffffff, when fits_counter
         * guarantees nothing is left to generate. */
        s[12]++;
        out += CHACHA20_BLOCK_SIZE;
        if (in)
            in += CHACHA20_BLOCK_SIZE;
    }
    if (len) {
        /* Extra keystream of the last block is discarded (section 2.4). */
        core(s, w);
        for (size_t i = 0; i < len; i++) {
            uint8_t k = (uint8_t)(w[i / 4] >> (8 * (i % 4)));
            out[i] = in ? (uint8_t)(in[i] ^ k) : k;
        }
    }

    wipe_words(s, 16);
    wipe_words(w, 16);
    return true;
}

bool chacha20_xor(const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                  const uint8_t nonce[CHACHA20_NONCE_SIZE], uint8_t *out, const uint8_t *in,
                  size_t len)
{
    return run(key, counter, nonce, out, in, len);
}

bool chacha20_stream(const uint8_t key[CHACHA20_KEY_SIZE], uint32_t counter,
                     const uint8_t nonce[CHACHA20_NONCE_SIZE], uint8_t *out, size_t len)
{
    return run(key, counter, nonce, out, NULL, len);
}
