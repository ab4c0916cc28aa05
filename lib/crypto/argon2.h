/*
 * Argon2 version 0x13 (RFC 9106): the memory-hard password hash. Argon2id
 * is the variant to use; Argon2d and Argon2i are here because they share
 * all the code and the RFC has test vectors for them.
 *
 * Pure, freestanding code with no allocation and no global state: the
 * caller supplies the m_cost KiB of memory the function fills, as a work
 * buffer of argon2_work_size() bytes. Lanes are computed one after another
 * (no threads), which gives the same output as the parallel reference
 * implementation. Outputs match libargon2 byte for byte. docs/argon2.md
 * gives the parameters capOS uses for login verifiers.
 *
 * Stack use is under 3 KiB (two 1 KiB blocks at the deepest point).
 */
#ifndef CAPOS_LIB_ARGON2_H
#define CAPOS_LIB_ARGON2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * No name here is also a name in libargon2's <argon2.h> (ARGON2_OK,
 * ARGON2_MAX_LANES, argon2_hash, ...), so host tests can include both and
 * link both to compare them.
 */
#define ARGON2_VERSION    0x13
#define ARGON2_BLOCK_SIZE 1024

/* Limits from RFC 9106 section 3.1; the salt minimum as libargon2. */
#define ARGON2_SALT_MIN  8u
#define ARGON2_TAG_MIN   4u
#define ARGON2_LEN_MAX   0xffffffffu /* any byte string, and the tag */
#define ARGON2_LANES_MAX 0xffffffu

/* The type field y of H0; the values are the RFC's. */
enum argon2_variant {
    ARGON2_D = 0,
    ARGON2_I = 1,
    ARGON2_ID = 2,
};

enum argon2_status {
    ARGON2_SUCCESS = 0,
    ARGON2_E_VARIANT,         /* not one of enum argon2_variant */
    ARGON2_E_NULL,            /* params or tag NULL, or an input NULL with nonzero length */
    ARGON2_E_PWD_TOO_LONG,    /* pwd_len > ARGON2_LEN_MAX */
    ARGON2_E_SALT_TOO_SHORT,  /* salt_len < ARGON2_SALT_MIN */
    ARGON2_E_SALT_TOO_LONG,   /* salt_len > ARGON2_LEN_MAX */
    ARGON2_E_SECRET_TOO_LONG, /* secret_len > ARGON2_LEN_MAX */
    ARGON2_E_AD_TOO_LONG,     /* ad_len > ARGON2_LEN_MAX */
    ARGON2_E_TAG_TOO_SHORT,   /* tag_len < ARGON2_TAG_MIN (including 0) */
    ARGON2_E_TAG_TOO_LONG,    /* tag_len > ARGON2_LEN_MAX */
    ARGON2_E_T_COST_ZERO,     /* t_cost == 0 */
    ARGON2_E_LANES,           /* lanes == 0 or lanes > ARGON2_LANES_MAX */
    ARGON2_E_M_COST,          /* m_cost < 8 * lanes */
    ARGON2_E_WORK_NULL,       /* work == NULL */
    ARGON2_E_WORK_ALIGN,      /* work not 8-byte aligned */
    ARGON2_E_WORK_TOO_SMALL,  /* work_size < argon2_work_size(m_cost, lanes) */
    ARGON2_STATUS_COUNT
};

struct argon2_params {
    uint32_t t_cost; /* passes over memory, >= 1 */
    uint32_t m_cost; /* memory in KiB, >= 8 * lanes; rounded down to a multiple of 4 * lanes */
    uint32_t lanes;  /* parallelism p, 1..ARGON2_LANES_MAX */
    const void *pwd; /* password P */
    size_t pwd_len;
    const void *salt; /* salt S, at least 8 bytes (16 recommended) */
    size_t salt_len;
    const void *secret; /* secret K, optional: NULL and 0 */
    size_t secret_len;
    const void *ad; /* associated data X, optional: NULL and 0 */
    size_t ad_len;
};

/* Bytes of work buffer the parameters need: 1024 times m_cost rounded down
 * to a multiple of 4 * lanes. 0 when lanes or m_cost is out of range. */
size_t argon2_work_size(uint32_t m_cost, uint32_t lanes);

/*
 * Computes the tag_len-byte Argon2 tag of p into tag. work must be 8-byte
 * aligned, hold at least argon2_work_size(p->m_cost, p->lanes) bytes, and
 * overlap neither tag nor any input; on success its used part is zeroed
 * before returning. Parameters are checked in the order of enum
 * argon2_status, and on any error nothing at all is written (neither tag
 * nor work).
 */
enum argon2_status argon2_compute(enum argon2_variant type, const struct argon2_params *p,
                                  void *tag, size_t tag_len, void *work, size_t work_size);

/* argon2_compute(ARGON2_ID, ...). */
enum argon2_status argon2id_hash(const struct argon2_params *p, void *tag, size_t tag_len,
                                 void *work, size_t work_size);

/* H' (RFC 9106 section 3.3): the variable-length hash built on BLAKE2b.
 * False (nothing written) when out_len is 0 or over ARGON2_LEN_MAX. */
bool argon2_hprime(void *out, size_t out_len, const void *in, size_t in_len);

/* A short constant name for a status ("ARGON2_E_M_COST"), for logs. */
const char *argon2_status_name(enum argon2_status s);

#endif
