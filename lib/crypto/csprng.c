/*
 * A ChaCha20 CSPRNG with fast key erasure.
 *
 * Output. A request is served from the ChaCha20 keystream of the current key
 * K under a fixed "output" nonce, starting at block 0: the first 32 bytes
 * become the next key (written before any output is produced), the rest is
 * the caller's output. Every key therefore encrypts exactly one request and
 * is then gone, so (key, nonce, counter) never repeats, and whoever reads
 * the state later cannot reconstruct past output (backtracking resistance).
 * Requests larger than FILL_CHUNK are served as a series of such requests,
 * so a long fill does not keep one key alive for its whole duration.
 *
 * Seeding. There is no hash function here, so seed material is absorbed
 * with ChaCha20 itself in a Matyas-Meyer-Oseas style compression. The seed
 * is split into 32-byte chunks m_i (the last one zero-padded; an empty seed
 * is one all-zero chunk) and for each chunk
 *
 *     K' = ChaCha20(key = K xor m_i, counter 0, nonce N_i)[0..32) xor K
 *
 * where N_i = ("seed", i, seed length). Viewing ChaCha20 as a pseudorandom
 * function of its key:
 *   - if K is secret, K xor m_i is a secret key whatever m_i is, so K' is
 *     pseudorandom: a known or hostile seed cannot weaken the state;
 *   - if K is known (the first seeding starts from zero) but m_i has entropy,
 *     K' is the PRF evaluated at an unknown point, so that entropy carries
 *     into K', and across chunks it accumulates through the chain;
 *   - a seed source that even knows K cannot choose K': it would need a
 *     ChaCha20 key whose block equals a chosen value, i.e. a key recovery
 *     from known output. The feed-forward of K is what rules this out; with
 *     K' = ChaCha20(K xor m_i) alone, such a source could pick K xor m_i.
 * The seed length in every nonce makes the zero padding unambiguous ("ab"
 * and "ab\0" give different keys), and the "seed" tag keeps absorption
 * keystream apart from output keystream (nonce "outp"), which matters when
 * m_i = 0 makes the absorption key equal to K.
 */
#include "crypto/csprng.h"

/* Bytes served per key; a 64 KiB chunk is 1024 ChaCha20 blocks. */
#define FILL_CHUNK 65536u

#define TAG_SEED 0x64656573u /* "seed" little-endian */
#define TAG_OUT  0x7074756fu /* "outp" little-endian */

static void put32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void make_nonce(uint8_t nonce[CHACHA20_NONCE_SIZE], uint32_t tag, uint32_t a, uint32_t b)
{
    put32_le(nonce, tag);
    put32_le(nonce + 4, a);
    put32_le(nonce + 8, b);
}

static void absorb(uint8_t key[CHACHA20_KEY_SIZE], const uint8_t *seed, size_t len)
{
    uint8_t k[CHACHA20_KEY_SIZE], block[CHACHA20_BLOCK_SIZE], nonce[CHACHA20_NONCE_SIZE];
    size_t off = 0;
    uint32_t index = 0;

    do {
        size_t n = len - off < CHACHA20_KEY_SIZE ? len - off : CHACHA20_KEY_SIZE;
        for (size_t i = 0; i < CHACHA20_KEY_SIZE; i++)
            k[i] = (uint8_t)(key[i] ^ (i < n ? seed[off + i] : 0));
        /* Lengths and indices past 2^32 wrap; they still differ in chunk
         * count, which the chain separates. */
        make_nonce(nonce, TAG_SEED, index, (uint32_t)len);
        chacha20_block(k, 0, nonce, block);
        for (size_t i = 0; i < CHACHA20_KEY_SIZE; i++)
            key[i] ^= block[i];
        off += n;
        index++;
    } while (off < len);

    crypto_wipe(k, sizeof(k));
    crypto_wipe(block, sizeof(block));
}

void csprng_seed(struct csprng *rng, const void *seed, size_t len)
{
    crypto_wipe(rng->key, sizeof(rng->key));
    absorb(rng->key, seed, len);
    rng->seeded = true;
}

void csprng_reseed(struct csprng *rng, const void *seed, size_t len)
{
    absorb(rng->key, seed, len);
    rng->seeded = true;
}

/* One request of at most FILL_CHUNK bytes under one key. */
static void fill_chunk(struct csprng *rng, uint8_t *out, size_t len)
{
    uint8_t k[CHACHA20_KEY_SIZE], block[CHACHA20_BLOCK_SIZE], nonce[CHACHA20_NONCE_SIZE];

    for (size_t i = 0; i < CHACHA20_KEY_SIZE; i++)
        k[i] = rng->key[i];
    make_nonce(nonce, TAG_OUT, 0, 0);

    /* Block 0: its first half replaces the key before anything leaves. */
    chacha20_block(k, 0, nonce, block);
    for (size_t i = 0; i < CHACHA20_KEY_SIZE; i++)
        rng->key[i] = block[i];

    size_t n = len < CHACHA20_BLOCK_SIZE - CHACHA20_KEY_SIZE
                   ? len
                   : CHACHA20_BLOCK_SIZE - CHACHA20_KEY_SIZE;
    for (size_t i = 0; i < n; i++)
        out[i] = block[CHACHA20_KEY_SIZE + i];
    /* Blocks 1.. for the rest; FILL_CHUNK keeps far below the counter limit. */
    if (len > n)
        chacha20_stream(k, 1, nonce, out + n, len - n);

    crypto_wipe(k, sizeof(k));
    crypto_wipe(block, sizeof(block));
}

bool csprng_fill(struct csprng *rng, void *out, size_t len)
{
    uint8_t *p = out;

    if (!rng->seeded) {
        crypto_wipe(p, len);
        return false;
    }
    /* Even an empty request ratchets the key once. */
    do {
        size_t n = len < FILL_CHUNK ? len : FILL_CHUNK;
        fill_chunk(rng, p, n);
        p += n;
        len -= n;
    } while (len > 0);
    return true;
}
