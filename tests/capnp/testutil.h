/* Helpers shared by the Cap'n Proto runtime tests. */
#ifndef CAPOS_TESTS_CAPNP_TESTUTIL_H
#define CAPOS_TESTS_CAPNP_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capnp/capnp.h"
#include "capnp/capnp_host.h"

/* Hand-encoded pointer words, for hostile messages. */
static inline uint64_t sp(int32_t off, uint16_t dw, uint16_t np)
{
    return ((uint32_t)off << 2) | (uint64_t)dw << 32 | (uint64_t)np << 48;
}

static inline uint64_t lp(int32_t off, uint32_t es, uint32_t n)
{
    return ((uint32_t)off << 2) | 1u | (uint64_t)es << 32 | (uint64_t)n << 35;
}

static inline uint64_t farp(int dbl, uint32_t seg, uint32_t pos)
{
    return 2u | (uint64_t)dbl << 2 | (uint64_t)pos << 3 | (uint64_t)seg << 32;
}

static inline uint64_t capp(uint32_t i)
{
    return 3u | (uint64_t)i << 32;
}

static inline struct capn_seg seg_of(const uint64_t *w, uint32_t n)
{
    struct capn_seg s = {(const uint8_t *)w, n, n};
    return s;
}

/* A one-segment message over words w[0..n). */
static inline void msg1(struct capn_msg *m, struct capn_seg *s, const uint64_t *w, uint32_t n)
{
    *s = seg_of(w, n);
    capn_msg_init(m, s, 1);
}

static inline struct capn_struct root_struct(struct capn_msg *m)
{
    return capn_ptr_struct(capn_msg_root(m), NULL);
}

/* A builder over a fixed arena with room for 64 segments. */
struct tbld {
    struct capn_bld b;
    struct capn_seg segs[64];
    uint64_t mem[4096];
};

static inline void tbld_init(struct tbld *t)
{
    capn_bld_init(&t->b, t->segs, 64, t->mem, sizeof(t->mem));
}

/* Split the arena into n segments of `words` words each. */
static inline void tbld_init_split(struct tbld *t, uint32_t n, uint32_t words)
{
    capn_bld_init(&t->b, t->segs, 64, NULL, 0);
    for (uint32_t i = 0; i < n; i++)
        capn_bld_add_seg(&t->b, t->mem + (size_t)i * words, (size_t)words * 8);
}

/* Frame what b holds and read it back into m (segs/buf owned by caller). */
static inline enum capn_err reread(const struct capn_bld *b, struct capn_msg *m,
                                   struct capn_seg *segs, uint32_t max_segs, uint8_t **buf)
{
    size_t len;
    *buf = capn_host_frame(b, &len);
    if (*buf == NULL)
        return CAPN_ERR_NO_SPACE;
    return capn_msg_read(m, segs, max_segs, *buf, len, NULL);
}

static inline uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

#endif
