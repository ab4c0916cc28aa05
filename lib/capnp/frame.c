/*
 * Message framing (the segment table) and error names.
 *
 * Frame layout: u32 (segment count - 1), u32 size in words of each segment,
 * zero padding to a word boundary, then the segments back to back. All
 * little-endian. Sizes are summed in 64 bits, so a count of 2^32-1 or sizes
 * that overflow 32 bits are rejected rather than wrapped.
 */
#include "internal.h"

static const char *const err_names[CAPN_ERR_COUNT_] = {
    [CAPN_OK] = "ok",
    [CAPN_ERR_ARG] = "invalid argument",
    [CAPN_ERR_TRUNCATED] = "message truncated",
    [CAPN_ERR_SEG_COUNT] = "bad segment count",
    [CAPN_ERR_SEG_SIZE] = "segment too large",
    [CAPN_ERR_BOUNDS] = "pointer out of bounds",
    [CAPN_ERR_FAR_SEGMENT] = "far pointer to a missing segment",
    [CAPN_ERR_FAR_PAD] = "bad far pointer landing pad",
    [CAPN_ERR_PTR_KIND] = "wrong pointer kind",
    [CAPN_ERR_RESERVED] = "reserved pointer kind",
    [CAPN_ERR_ELEM_SIZE] = "incompatible list element size",
    [CAPN_ERR_COMPOSITE_TAG] = "bad struct list tag",
    [CAPN_ERR_TEXT] = "text not NUL-terminated",
    [CAPN_ERR_CAP_INDEX] = "capability index out of range",
    [CAPN_ERR_TRAVERSAL] = "traversal limit exceeded",
    [CAPN_ERR_NESTING] = "nesting limit exceeded",
    [CAPN_ERR_NO_SPACE] = "builder out of space",
    [CAPN_ERR_TOO_BIG] = "object too large",
    [CAPN_ERR_PACKED_TRUNCATED] = "packed input truncated",
    [CAPN_ERR_OVERFLOW] = "output buffer too small",
    [CAPN_ERR_FOREIGN] = "object from another builder",
};

const char *capn_err_str(enum capn_err e)
{
    if ((unsigned)e >= CAPN_ERR_COUNT_ || err_names[e] == NULL)
        return "unknown error";
    return err_names[e];
}

static uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

static void store32(uint8_t *p, uint32_t v)
{
    __builtin_memcpy(p, &v, 4);
}

static uint64_t header_bytes(uint64_t nsegs)
{
    return (4 + 4 * nsegs + 7) & ~(uint64_t)7;
}

enum capn_err capn_frame_read(const void *buf, size_t len, struct capn_seg *segs, uint32_t max_segs,
                              uint32_t *nsegs, size_t *used)
{
    const uint8_t *b = buf;
    if (b == NULL || segs == NULL || nsegs == NULL)
        return CAPN_ERR_ARG;
    if (len < 4)
        return CAPN_ERR_TRUNCATED;
    uint64_t n = (uint64_t)load32(b) + 1;
    if (n > max_segs || n > CAPN_MAX_SEGS)
        return CAPN_ERR_SEG_COUNT;
    uint64_t off = header_bytes(n);
    if (len < off)
        return CAPN_ERR_TRUNCATED;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t words = load32(b + 4 + 4 * i);
        if (words > CAPN_MAX_SEG_WORDS)
            return CAPN_ERR_SEG_SIZE;
        if ((uint64_t)words * 8 > len - off)
            return CAPN_ERR_TRUNCATED;
        segs[i].data = b + off;
        segs[i].words = words;
        segs[i].cap = words;
        off += (uint64_t)words * 8;
    }
    *nsegs = (uint32_t)n;
    if (used != NULL)
        *used = (size_t)off;
    return CAPN_OK;
}

size_t capn_frame_size(const struct capn_seg *segs, uint32_t nsegs)
{
    if (segs == NULL || nsegs == 0 || nsegs > CAPN_MAX_SEGS)
        return 0;
    uint64_t size = header_bytes(nsegs);
    for (uint32_t i = 0; i < nsegs; i++)
        size += (uint64_t)segs[i].words * 8;
    return (size_t)size;
}

enum capn_err capn_frame_header(const struct capn_seg *segs, uint32_t nsegs, void *out, size_t cap,
                                size_t *len)
{
    uint8_t *o = out;
    if (segs == NULL || out == NULL || nsegs == 0 || nsegs > CAPN_MAX_SEGS)
        return CAPN_ERR_ARG;
    size_t hdr = (size_t)header_bytes(nsegs);
    if (cap < hdr)
        return CAPN_ERR_OVERFLOW;
    store32(o, nsegs - 1);
    for (uint32_t i = 0; i < nsegs; i++)
        store32(o + 4 + 4 * (size_t)i, segs[i].words);
    if (nsegs % 2 == 0)
        store32(o + 4 + 4 * (size_t)nsegs, 0);
    if (len != NULL)
        *len = hdr;
    return CAPN_OK;
}

enum capn_err capn_frame_write(const struct capn_seg *segs, uint32_t nsegs, void *out, size_t cap,
                               size_t *len)
{
    size_t total = capn_frame_size(segs, nsegs), hdr;
    if (total == 0 || out == NULL)
        return CAPN_ERR_ARG;
    if (cap < total)
        return CAPN_ERR_OVERFLOW;
    enum capn_err e = capn_frame_header(segs, nsegs, out, cap, &hdr);
    if (e != CAPN_OK)
        return e;
    uint8_t *o = (uint8_t *)out + hdr;
    for (uint32_t i = 0; i < nsegs; i++) {
        capn_copy_bytes_(o, segs[i].data, (size_t)segs[i].words * 8);
        o += (size_t)segs[i].words * 8;
    }
    if (len != NULL)
        *len = total;
    return CAPN_OK;
}
