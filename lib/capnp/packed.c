/*
 * Packed encoding: each word becomes a tag byte (bit i set when byte i is
 * non-zero) followed by its non-zero bytes. Tag 0x00 is followed by a count
 * of further all-zero words; tag 0xff by a count of words copied verbatim.
 *
 * Unpacking is bounded by the caller's output capacity, so a tiny input
 * claiming long zero runs cannot expand past it.
 */
#include "internal.h"

/* Words worth copying verbatim after a 0xff tag: packing them would save at
 * most one byte. */
static bool dense(const uint8_t *w)
{
    int zeros = 0;
    for (int k = 0; k < 8; k++)
        zeros += w[k] == 0;
    return zeros <= 1;
}

static bool is_zero(const uint8_t *w)
{
    return capn_load64_(w) == 0;
}

enum capn_err capn_pack(const void *in, size_t len, void *out, size_t cap, size_t *out_len)
{
    const uint8_t *s = in, *end = s + len;
    uint8_t *o = out;
    size_t left = cap;
    if ((in == NULL && len > 0) || out == NULL || len % 8 != 0)
        return CAPN_ERR_ARG;
    while (s < end) {
        size_t n = 0;
        uint8_t tag = 0;
        for (int k = 0; k < 8; k++) {
            tag |= (uint8_t)((s[k] != 0) << k);
            n += s[k] != 0;
        }
        /* tag, its bytes, and a run count after 0x00 or 0xff */
        if (left < 1 + n + (tag == 0x00 || tag == 0xff))
            return CAPN_ERR_OVERFLOW;
        *o++ = tag;
        for (int k = 0; k < 8; k++)
            if (s[k] != 0)
                *o++ = s[k];
        left -= 1 + n;
        s += 8;
        if (tag == 0x00) {
            size_t run = 0;
            while (run < 255 && s < end && is_zero(s)) {
                run++;
                s += 8;
            }
            *o++ = (uint8_t)run;
            left--;
        } else if (tag == 0xff) {
            size_t run = 0;
            while (run < 255 && s + run * 8 < end && dense(s + run * 8))
                run++;
            *o++ = (uint8_t)run;
            left--;
            if (left < run * 8)
                return CAPN_ERR_OVERFLOW;
            capn_copy_bytes_(o, s, run * 8);
            o += run * 8;
            left -= run * 8;
            s += run * 8;
        }
    }
    if (out_len != NULL)
        *out_len = cap - left;
    return CAPN_OK;
}

enum capn_err capn_unpack(const void *in, size_t len, void *out, size_t cap, size_t *out_len)
{
    const uint8_t *s = in, *end = s + len;
    uint8_t *o = out;
    size_t left = cap;
    if ((in == NULL && len > 0) || (out == NULL && cap > 0))
        return CAPN_ERR_ARG;
    while (s < end) {
        uint8_t tag = *s++;
        if (left < 8)
            return CAPN_ERR_OVERFLOW;
        for (int k = 0; k < 8; k++) {
            if (tag & (1u << k)) {
                if (s == end)
                    return CAPN_ERR_PACKED_TRUNCATED;
                o[k] = *s++;
            } else {
                o[k] = 0;
            }
        }
        o += 8;
        left -= 8;
        if (tag != 0x00 && tag != 0xff)
            continue;
        if (s == end)
            return CAPN_ERR_PACKED_TRUNCATED;
        size_t bytes = (size_t)*s++ * 8;
        if (bytes > left)
            return CAPN_ERR_OVERFLOW;
        if (tag == 0x00) {
            capn_zero_bytes_(o, bytes);
        } else {
            if (bytes > (size_t)(end - s))
                return CAPN_ERR_PACKED_TRUNCATED;
            capn_copy_bytes_(o, s, bytes);
            s += bytes;
        }
        o += bytes;
        left -= bytes;
    }
    if (out_len != NULL)
        *out_len = cap - left;
    return CAPN_OK;
}
