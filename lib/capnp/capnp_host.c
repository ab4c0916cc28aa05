/* Host-only allocation helpers; see capnp_host.h. */
#include "capnp_host.h"

#include <stdlib.h>

static void *more(void *ctx, size_t min_bytes, size_t *got)
{
    struct capn_hbld *h = ctx;
    size_t size = h->next_bytes;
    if (size < min_bytes)
        size = (min_bytes + 7) & ~(size_t)7;
    if (h->nbufs == CAPN_MAX_SEGS)
        return NULL;
    void *buf = malloc(size);
    if (buf == NULL)
        return NULL;
    h->bufs[h->nbufs++] = buf;
    if (h->next_bytes < ((size_t)1 << 28))
        h->next_bytes *= 2;
    *got = size;
    return buf;
}

struct capn_hbld *capn_hbld_new(size_t first_bytes)
{
    struct capn_hbld *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->next_bytes = first_bytes >= 8 ? first_bytes : 1024;
    capn_bld_init(&h->b, h->segs, CAPN_MAX_SEGS, NULL, 0);
    h->b.more = more;
    h->b.more_ctx = h;
    return h;
}

void capn_hbld_free(struct capn_hbld *h)
{
    if (h == NULL)
        return;
    for (uint32_t i = 0; i < h->nbufs; i++)
        free(h->bufs[i]);
    free(h);
}

uint8_t *capn_host_frame(const struct capn_bld *b, size_t *len)
{
    size_t size = capn_bld_frame_size(b);
    uint8_t *out = size ? malloc(size) : NULL;
    if (out == NULL || capn_bld_write(b, out, size, len) != CAPN_OK) {
        free(out);
        return NULL;
    }
    return out;
}

uint8_t *capn_host_frame_packed(const struct capn_bld *b, size_t *len)
{
    size_t n;
    uint8_t *plain = capn_host_frame(b, &n);
    if (plain == NULL)
        return NULL;
    size_t cap = capn_pack_bound(n);
    uint8_t *out = malloc(cap);
    if (out == NULL || capn_pack(plain, n, out, cap, len) != CAPN_OK) {
        free(out);
        out = NULL;
    }
    free(plain);
    return out;
}

enum capn_err capn_host_unpack(const void *in, size_t len, size_t max, uint8_t **out,
                               size_t *out_len)
{
    size_t cap = len * 2 + 64;
    for (;;) {
        if (cap > max)
            cap = max;
        uint8_t *buf = malloc(cap ? cap : 1);
        if (buf == NULL)
            return CAPN_ERR_NO_SPACE;
        enum capn_err e = capn_unpack(in, len, buf, cap, out_len);
        if (e == CAPN_OK) {
            *out = buf;
            return CAPN_OK;
        }
        free(buf);
        if (e != CAPN_ERR_OVERFLOW || cap == max)
            return e;
        cap *= 2;
    }
}
