/*
 * Internals shared by the Cap'n Proto runtime's source files: the pointer
 * word layout and far-pointer resolution. Not part of the API.
 */
#ifndef CAPOS_LIB_CAPNP_INTERNAL_H
#define CAPOS_LIB_CAPNP_INTERNAL_H

#include "capnp.h"

/* Pointer kinds (the low two bits of a pointer word). */
#define CAPN_K_STRUCT 0u
#define CAPN_K_LIST   1u
#define CAPN_K_FAR    2u
#define CAPN_K_OTHER  3u

/* The encoding of a zero-sized struct: offset -1, no data, no pointers, so
 * that it is not mistaken for null. */
#define CAPN_EMPTY_STRUCT 0xfffffffcull

static inline void capn_store64_(uint8_t *p, uint64_t v)
{
    __builtin_memcpy(p, &v, 8);
}

static inline uint32_t capn_kind_(uint64_t w)
{
    return (uint32_t)w & 3u;
}

/* The signed 30-bit offset field of a struct or list pointer, in words. */
static inline int32_t capn_off_(uint64_t w)
{
    return (int32_t)((uint32_t)w & ~3u) / 4;
}

static inline uint64_t capn_off_bits_(int64_t off)
{
    return (uint64_t)(((uint32_t)off << 2) & ~3u);
}

static inline uint16_t capn_sdata_(uint64_t w)
{
    return (uint16_t)(w >> 32);
}

static inline uint16_t capn_sptrs_(uint64_t w)
{
    return (uint16_t)(w >> 48);
}

static inline uint32_t capn_lsize_(uint64_t w)
{
    return (uint32_t)(w >> 32) & 7u;
}

static inline uint32_t capn_lcount_(uint64_t w)
{
    return (uint32_t)(w >> 35);
}

static inline uint64_t capn_struct_word_(int64_t off, uint16_t dw, uint16_t np)
{
    return capn_off_bits_(off) | (uint64_t)dw << 32 | (uint64_t)np << 48;
}

static inline uint64_t capn_list_word_(int64_t off, uint32_t esize, uint32_t count)
{
    return capn_off_bits_(off) | CAPN_K_LIST | (uint64_t)esize << 32 | (uint64_t)count << 35;
}

static inline uint64_t capn_far_word_(bool dbl, uint32_t seg, uint32_t pos)
{
    return CAPN_K_FAR | (uint64_t)dbl << 2 | (uint64_t)pos << 3 | (uint64_t)seg << 32;
}

/* Data bits and pointers per element of a non-composite list. */
static inline uint32_t capn_esize_bits_(uint32_t es)
{
    static const uint8_t bits[8] = {0, 1, 8, 16, 32, 64, 0, 0};
    return bits[es & 7];
}

/* A pointer followed through any far pointer to its content. */
struct capn_res {
    const struct capn_seg *seg;     /* segment holding the content */
    uint64_t tag;                   /* struct or list pointer describing it */
    int64_t pos;                    /* first content word; NOT yet bounds-checked */
    const struct capn_seg *pad_seg; /* landing pad, if there was a far pointer */
    uint32_t pad_pos;
    uint32_t pad_words; /* 0 (no far), 1 or 2 (double far) */
};

/*
 * Resolve the struct or list pointer at loc (in seg, which is either one of
 * segs[0..nsegs) or a constant default segment) to its content. A
 * capability or null word is an error here: callers test for those first.
 */
enum capn_err capn_resolve_(const struct capn_seg *segs, uint32_t nsegs, const struct capn_seg *seg,
                            const uint8_t *loc, struct capn_res *r);

/* Words a list occupies (without a composite tag), given its pointer. */
static inline uint64_t capn_list_words_(uint64_t w)
{
    uint32_t es = capn_lsize_(w);
    uint64_t n = capn_lcount_(w);
    if (es == CAPN_COMPOSITE)
        return n;
    if (es == CAPN_PTR)
        return n;
    return (n * capn_esize_bits_(es) + 63) / 64;
}

/* Classify p; on CAPN_PT_INVALID *err says why. Records nothing. */
enum capn_ptype capn_classify_(const struct capn_ptr *p, enum capn_err *err);

/*
 * Byte copies and clears. Long ones go to memcpy and memset (every binary
 * that links the runtime has them: lib/freestanding/string.c or libc),
 * which move 8 bytes per counted iteration: a loop of words here cost four
 * instructions per word, most of netstack's and the kernel's work per
 * byte of a frame (docs/benchmarks.md, "TCP through the netstack
 * service"). Short ones stay inline, cheaper than the call.
 */
#define CAPN_COPY_CALL_MIN 64

static inline void capn_copy_bytes_(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= CAPN_COPY_CALL_MIN) {
        __builtin_memcpy(dst, src, n);
        return;
    }
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, src, 8);
        __builtin_memcpy(dst, &w, 8);
        dst += 8;
        src += 8;
        n -= 8;
    }
    while (n-- > 0)
        *dst++ = *src++;
}

static inline void capn_zero_bytes_(uint8_t *dst, size_t n)
{
    if (n >= CAPN_COPY_CALL_MIN) {
        __builtin_memset(dst, 0, n);
        return;
    }
    static const uint64_t zero = 0;
    while (n >= 8) {
        __builtin_memcpy(dst, &zero, 8);
        dst += 8;
        n -= 8;
    }
    while (n-- > 0)
        *dst++ = 0;
}

#endif
