/*
 * BLAKE2b (RFC 7693), unkeyed, with any output length from 1 to 64 bytes.
 * Argon2 (lib/crypto/argon2.c) is built on it, and it is a general-purpose hash in
 * its own right.
 *
 * Pure, freestanding code: no allocation, no global state. The state is a
 * plain struct the caller owns (about 220 bytes), so a hash can be computed
 * incrementally over pieces that are never in memory at the same time.
 * Outputs match the reference implementation byte for byte.
 */
#ifndef CAPOS_LIB_BLAKE2B_H
#define CAPOS_LIB_BLAKE2B_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLAKE2B_BLOCK_SIZE 128
#define BLAKE2B_OUT_MAX    64

struct blake2b_state {
    uint64_t h[8];                   /* chained state */
    uint64_t t[2];                   /* bytes compressed so far, 128-bit */
    uint8_t buf[BLAKE2B_BLOCK_SIZE]; /* pending input, never compressed yet */
    size_t buflen;                   /* bytes in buf, 0..BLAKE2B_BLOCK_SIZE */
    size_t outlen;                   /* digest length, 1..BLAKE2B_OUT_MAX */
};

/* Starts a hash with an outlen-byte digest. False (and the state untouched)
 * unless 1 <= outlen <= BLAKE2B_OUT_MAX. */
bool blake2b_init(struct blake2b_state *s, size_t outlen);

/* Absorbs len bytes; any split of the input gives the same digest. */
void blake2b_update(struct blake2b_state *s, const void *in, size_t len);

/* Writes the s->outlen-byte digest to out and wipes the state. */
void blake2b_final(struct blake2b_state *s, void *out);

/* One call: the outlen-byte digest of in[0..len). False (nothing written)
 * unless 1 <= outlen <= BLAKE2B_OUT_MAX. */
bool blake2b(void *out, size_t outlen, const void *in, size_t len);

#endif
