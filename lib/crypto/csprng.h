/*
 * The kernel's CSPRNG behind EntropySource: a ChaCha20 key, ratcheted
 * forward on every request ("fast key erasure"), so a later compromise of
 * the state reveals nothing about output already handed out.
 *
 * Pure, freestanding code with no locking: the caller serializes access to
 * one struct csprng. See csprng.c for the construction.
 */
#ifndef CAPOS_LIB_CSPRNG_H
#define CAPOS_LIB_CSPRNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/chacha20.h"

struct csprng {
    uint8_t key[CHACHA20_KEY_SIZE];
    bool seeded; /* false until the first seed: fill refuses to run */
};

/* Start over from seed alone (the previous state is discarded): the same
 * seed always gives the same stream. The caller decides whether the seed
 * holds enough entropy (RDSEED/RDRAND output, timer jitter, ...). */
void csprng_seed(struct csprng *rng, const void *seed, size_t len);

/* Mix more seed material into the current key. Never loses what the key
 * already had: with a secret key, even a known or hostile seed leaves the
 * output unpredictable. On a zeroed, never-seeded state it acts as a seed. */
void csprng_reseed(struct csprng *rng, const void *seed, size_t len);

/* Fill out with len random bytes and replace the key. Returns false (and
 * zeroes out) if the generator was never seeded. */
bool csprng_fill(struct csprng *rng, void *out, size_t len);

#endif
