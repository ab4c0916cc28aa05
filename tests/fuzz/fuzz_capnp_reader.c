/*
 * libFuzzer target for the Cap'n Proto reader.
 *
 * The input is read as a framed message, and separately unpacked and read
 * as a packed framed message. Each message is walked generically (every
 * struct, list element, far pointer and capability) under a small traversal
 * budget, then deep-copied into a builder. Two properties are checked on top
 * of "no crash, no sanitizer report":
 *   - the copy reads back with no error, and hashes the same as the walk of
 *     the original (whatever the reader rejected reads as null in both);
 *   - packing then unpacking any word-aligned input gives it back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capnp/capnp.h"

#define MAX_SEGS     64
#define BUDGET       (8u * 1024) /* words; small so each input stays fast */
#define UNPACK_LIMIT (1u << 20)

static uint8_t arena[1u << 20];
static uint8_t unpacked[UNPACK_LIMIT];
static uint8_t repacked[UNPACK_LIMIT / 8 * 10 + 10];

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t walk_ptr(uint64_t h, struct capn_ptr p);

static uint64_t walk_struct(uint64_t h, const struct capn_struct *s)
{
    if (s->seg == NULL)
        return mix(h, 0xdead);
    h = mix(h, (uint64_t)s->data_bytes << 16 | s->nptrs);
    for (uint32_t i = 0; i < s->data_bytes; i++)
        h = mix(h, capn_struct_u8(s, i, 0));
    for (uint32_t i = 0; i < s->nptrs; i++)
        h = walk_ptr(h, capn_struct_ptr(s, i));
    return h;
}

static uint64_t walk_list(uint64_t h, const struct capn_list *l)
{
    if (l->seg == NULL)
        return mix(h, 0xdead);
    h = mix(h, (uint64_t)l->len << 8 | l->esize);
    for (uint32_t i = 0; i < l->len; i++) {
        switch (l->esize) {
        case CAPN_VOID:
            i = l->len; /* nothing to see, and the count may be huge */
            break;
        case CAPN_BIT:
            h = mix(h, capn_list_bool(l, i));
            break;
        case CAPN_BYTE:
            h = mix(h, capn_list_u8(l, i));
            break;
        case CAPN_TWO:
            h = mix(h, capn_list_u16(l, i));
            break;
        case CAPN_FOUR:
            h = mix(h, capn_list_u32(l, i));
            break;
        case CAPN_EIGHT:
            h = mix(h, capn_list_u64(l, i));
            break;
        case CAPN_PTR:
            h = walk_ptr(h, capn_list_ptr(l, i));
            break;
        default: {
            struct capn_struct s = capn_list_struct(l, i);
            h = walk_struct(h, &s);
        }
        }
    }
    return h;
}

static uint64_t walk_ptr(uint64_t h, struct capn_ptr p)
{
    uint32_t index;
    switch (capn_ptr_type(p)) {
    case CAPN_PT_NULL:
        return mix(h, 0xdead);
    case CAPN_PT_CAP:
        return capn_ptr_cap(p, &index) ? mix(h, 0xc0000000ull | index) : mix(h, 0xdead);
    case CAPN_PT_LIST: {
        struct capn_list l = capn_ptr_list(p, CAPN_ANY, NULL);
        return walk_list(h, &l);
    }
    default: { /* a struct, or invalid: the struct reader records why */
        struct capn_struct s = capn_ptr_struct(p, NULL);
        return walk_struct(h, &s);
    }
    }
}

/* Typed reads with every schema expectation, for the compatibility rules. */
static void typed_reads(struct capn_msg *m)
{
    struct capn_ptr root = capn_msg_root(m);
    struct capn_struct s = capn_ptr_struct(root, NULL);
    for (uint32_t i = 0; i < s.nptrs && i < 16; i++) {
        struct capn_ptr p = capn_struct_ptr(&s, i);
        for (int want = CAPN_VOID; want <= CAPN_ANY; want++) {
            struct capn_list l = capn_ptr_list(p, (enum capn_esize)want, NULL);
            struct capn_struct e = capn_list_struct(&l, 0);
            (void)capn_struct_u64(&e, 0, 0);
            (void)capn_list_u64(&l, l.len - 1);
            (void)capn_list_bool(&l, 0);
            (void)capn_ptr_text(capn_list_ptr(&l, 0), "x", 1);
        }
        (void)capn_ptr_text(p, NULL, 0);
        (void)capn_ptr_data(p, NULL, 0);
    }
}

static void check_message(const uint8_t *buf, size_t len)
{
    struct capn_seg segs[MAX_SEGS], bsegs[4];
    struct capn_msg m, cm;
    struct capn_bld b;
    if (capn_msg_read(&m, segs, MAX_SEGS, buf, len, NULL) != CAPN_OK)
        return;
    m.cap_count = 4;
    m.read_left = BUDGET;
    typed_reads(&m);

    m.read_left = BUDGET;
    m.err = CAPN_OK;
    uint64_t h1 = walk_ptr(1, capn_msg_root(&m));

    m.read_left = BUDGET;
    capn_bld_init(&b, bsegs, 4, arena, sizeof(arena));
    struct capn_bptr root = capn_bld_root(&b);
    capn_bptr_copy(root, capn_msg_root(&m));
    if (b.err != CAPN_OK)
        return;
    capn_bld_msg(&b, &cm);
    cm.read_left = UINT64_MAX;
    uint64_t h2 = walk_ptr(1, capn_msg_root(&cm));
    if (cm.err != CAPN_OK || h1 != h2)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    check_message(data, size);

    if (capn_unpack(data, size, unpacked, sizeof(unpacked), &n) == CAPN_OK)
        check_message(unpacked, n);

    /* Round trip: pack any word-aligned prefix and unpack it again. */
    size_t words = size / 8 * 8;
    if (words <= UNPACK_LIMIT) {
        size_t plen, ulen;
        if (capn_pack(data, words, repacked, sizeof(repacked), &plen) != CAPN_OK)
            abort();
        if (plen > capn_pack_bound(words))
            abort();
        if (capn_unpack(repacked, plen, unpacked, sizeof(unpacked), &ulen) != CAPN_OK ||
            ulen != words || memcmp(unpacked, data, words) != 0)
            abort();
    }
    return 0;
}
