/*
 * Flat messages: one segment holding a root struct of n data words and no
 * pointers. It is the whole encoding of a method whose params or results
 * are scalars only (Timer.now, ParkSpace.wait and wake), so both ends can
 * write and check it directly instead of running the general builder and
 * reader (docs/capnp.md, "Flat messages"). Freestanding: the kernel and
 * the runtime share it.
 *
 * Layout, in words: the segment table (one segment of 1 + n words), the
 * root pointer (a struct at offset 0 with n data words, no pointers),
 * then the n data words. A struct of no words may also be sent as a null
 * root or as the canonical empty struct (offset -1).
 */
#ifndef CAPNP_FLAT_H
#define CAPNP_FLAT_H

#include <stdbool.h>
#include <stdint.h>

/* Words of a flat message of n data words; the data start at word 2. */
#define CAPN_FLAT_LEN(n)   (2 + (n))
#define CAPN_FLAT_DATA     2
#define CAPN_FLAT_MAX_DATA 4

static inline void capn_flat_frame(uint64_t *msg, uint32_t n)
{
    msg[0] = (uint64_t)(1 + n) << 32;
    msg[1] = (uint64_t)n << 32;
}

/* Whether msg's two framing words are exactly those of a flat message
 * of n data words (the caller checked its length: CAPN_FLAT_LEN(n)). */
static inline bool capn_flat_framed(const uint64_t *msg, uint32_t n)
{
    return msg[0] == (uint64_t)(1 + n) << 32 &&
           (msg[1] == (uint64_t)n << 32 || (n == 0 && msg[1] == 0xfffffffcull));
}

/* The generated reader (T_r) and builder (T_b) of struct type T over its
 * data words, so that fields are read and written at the schema's offsets
 * through the generated accessors, never by hand. */
#define CAPN_FLAT_WORDS(T) T##_DATA_WORDS
#define CAPN_FLAT_READER(T, words)                                                                 \
    ((T##_r){.s = {.data = (const uint8_t *)(words), .data_bytes = 8 * T##_DATA_WORDS}})
#define CAPN_FLAT_BUILDER(T, words)                                                                \
    ((T##_b){.s = {.data = (uint8_t *)(words), .data_bytes = 8 * T##_DATA_WORDS}})

#endif
