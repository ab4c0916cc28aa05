/*
 * Host-only conveniences over the Cap'n Proto runtime that allocate with
 * malloc: a growable builder and buffers sized to fit. Never built into the
 * kernel; freestanding code uses capnp.h directly with its own arenas.
 */
#ifndef CAPOS_LIB_CAPNP_HOST_H
#define CAPOS_LIB_CAPNP_HOST_H

#include "capnp.h"

/* A builder whose segments come from malloc, each twice the previous. */
struct capn_hbld {
    struct capn_bld b;
    struct capn_seg segs[CAPN_MAX_SEGS];
    void *bufs[CAPN_MAX_SEGS];
    uint32_t nbufs;
    size_t next_bytes;
};

/* first_bytes: size of the first segment (0 for a default of 1 KiB). */
struct capn_hbld *capn_hbld_new(size_t first_bytes);
void capn_hbld_free(struct capn_hbld *h);

/* Framed (or packed framed) bytes of a builder, malloc'd; NULL on error. */
uint8_t *capn_host_frame(const struct capn_bld *b, size_t *len);
uint8_t *capn_host_frame_packed(const struct capn_bld *b, size_t *len);
/* Unpack into a malloc'd buffer of at most max bytes. */
enum capn_err capn_host_unpack(const void *in, size_t len, size_t max, uint8_t **out,
                               size_t *out_len);

#endif
