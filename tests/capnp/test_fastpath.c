/*
 * The fast paths (docs/capnp.md, "Performance") against the general code:
 * on random and hand-made inputs around every boundary a fast path checks,
 * the result, the recorded errors and the traversal budget left must be
 * what the general path gives. The general paths are the exported `_slow_`
 * functions and, for the readers, the documented semantics spelt out here.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#define ITERATIONS 20000

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A random pointer word, biased towards the boundaries the fast paths test:
 * small offsets (some negative), small sizes, every kind. */
static uint64_t rnd_ptr(uint64_t *s, uint32_t words)
{
    uint64_t r = rnd(s);
    int32_t off = (int32_t)(r % (words + 4)) - 3;
    switch ((r >> 8) % 8) {
    case 0:
        return 0;
    case 1:
    case 2:
        return sp(off, (uint16_t)((r >> 16) % 4), (uint16_t)((r >> 20) % 4));
    case 3:
    case 4:
        return lp(off, CAPN_BYTE, (uint32_t)((r >> 16) % (words * 8 + 10)));
    case 5:
        return lp(off, (uint32_t)((r >> 16) % 8), (uint32_t)((r >> 20) % 8));
    case 6:
        return (r >> 24) % 2 ? capp((uint32_t)(r >> 32) % 4) : farp(0, 0, (uint32_t)(r % 8));
    default:
        return r; /* anything */
    }
}

static void expect_same_msg(const struct capn_msg *a, const struct capn_msg *b, uint64_t seed)
{
    cr_expect_eq(a->err, b->err, "err, seed %llu", (unsigned long long)seed);
    cr_expect_eq(a->last, b->last, "last, seed %llu", (unsigned long long)seed);
    cr_expect_eq(a->nerr, b->nerr, "nerr, seed %llu", (unsigned long long)seed);
    cr_expect_eq(a->read_left, b->read_left, "read_left, seed %llu", (unsigned long long)seed);
}

/* Views over the same words, from messages whose segment tables are
 * copies (sa, sb). */
static void expect_same_struct(const struct capn_struct *a, const struct capn_struct *b,
                               const struct capn_seg *sa, const struct capn_seg *sb, uint64_t seed)
{
    cr_expect((a->seg == NULL && b->seg == NULL) || (a->seg == sa && b->seg == sb),
              "struct view segment differs, seed %llu", (unsigned long long)seed);
    cr_expect(a->data == b->data && a->ptrs == b->ptrs && a->data_bytes == b->data_bytes &&
                  a->nptrs == b->nptrs && a->nest == b->nest,
              "struct view differs, seed %llu", (unsigned long long)seed);
}

/* capn_msg_root_struct = capn_ptr_type + capn_ptr_struct, as documented. */
Test(capnp_fastpath, root_struct_matches_type_then_struct)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int it = 0; it < ITERATIONS; it++) {
        uint64_t seed = s;
        uint64_t w[6];
        uint32_t n = (uint32_t)(rnd(&s) % 7); /* 0..6 words */
        for (int i = 0; i < 6; i++)
            w[i] = rnd_ptr(&s, n);
        struct capn_seg sa = seg_of(w, n), sb = sa;
        struct capn_msg a, b;
        capn_msg_init(&a, &sa, n > 0 || rnd(&s) % 2 ? 1 : 0);
        capn_msg_init(&b, &sb, a.nsegs);
        a.nest_limit = b.nest_limit = (int32_t)(rnd(&s) % 3); /* 0, 1, 2 */
        a.read_left = b.read_left = rnd(&s) % 8;

        struct capn_struct got;
        enum capn_ptype t = capn_msg_root_struct(&a, &got);

        struct capn_ptr root = capn_msg_root(&b);
        enum capn_ptype want_t = capn_ptr_type(root);
        struct capn_struct want = {0};
        if (want_t == CAPN_PT_STRUCT || want_t == CAPN_PT_NULL)
            want = capn_ptr_struct(root, NULL);
        cr_expect_eq(t, want_t, "type, seed %llu", (unsigned long long)seed);
        expect_same_struct(&got, &want, &sa, &sb, seed);
        expect_same_msg(&a, &b, seed);
        if (t == CAPN_PT_STRUCT && got.seg != NULL)
            cr_expect_eq(got.msg, &a);
    }
}

/* The inline capn_msg_read is capn_msg_read_slow_ (frame read + init). */
Test(capnp_fastpath, msg_read_matches_general)
{
    uint64_t s = 12345;
    for (int it = 0; it < ITERATIONS; it++) {
        uint64_t seed = s;
        uint32_t buf[8];
        for (int i = 0; i < 8; i++)
            buf[i] = (uint32_t)rnd(&s);
        /* Mostly plausible one- and two-segment tables. */
        buf[0] = (uint32_t)(rnd(&s) % 3 == 0 ? rnd(&s) % 3 : 0);
        if (rnd(&s) % 2)
            buf[1] = (uint32_t)(rnd(&s) % 5);
        if (rnd(&s) % 8 == 0)
            buf[1] = CAPN_MAX_SEG_WORDS + (uint32_t)(rnd(&s) % 2);
        size_t len = rnd(&s) % 33;
        uint32_t max = (uint32_t)(rnd(&s) % 3);
        struct capn_seg sa[4] = {{0}}, sb[4] = {{0}};
        struct capn_msg a, b;
        size_t ua = 77, ub = 77;
        enum capn_err ea = capn_msg_read(&a, sa, max, buf, len, &ua);
        enum capn_err eb = capn_msg_read_slow_(&b, sb, max, buf, len, &ub);
        cr_expect_eq(ea, eb, "seed %llu", (unsigned long long)seed);
        cr_expect_eq(ua, ub, "used, seed %llu", (unsigned long long)seed);
        cr_expect_eq(a.nsegs, b.nsegs, "seed %llu", (unsigned long long)seed);
        expect_same_msg(&a, &b, seed);
        cr_expect_eq(a.cap_count, b.cap_count);
        cr_expect_eq(a.nest_limit, b.nest_limit);
        for (uint32_t i = 0; i < a.nsegs && i < 4; i++)
            cr_expect(sa[i].data == sb[i].data && sa[i].words == sb[i].words &&
                          sa[i].cap == sb[i].cap,
                      "segment %u, seed %llu", i, (unsigned long long)seed);
    }
    cr_expect_eq(capn_msg_read(&(struct capn_msg){0}, NULL, 1, "", 8, NULL), CAPN_ERR_ARG);
}

/* Reading a struct field: the documented outcome of a near pointer. */
Test(capnp_fastpath, struct_deref_near)
{
    uint64_t s = 777;
    for (int it = 0; it < ITERATIONS; it++) {
        uint64_t seed = s;
        uint64_t w[6];
        uint32_t n = 1 + (uint32_t)(rnd(&s) % 6);
        for (int i = 0; i < 6; i++)
            w[i] = rnd_ptr(&s, n);
        uint32_t at = (uint32_t)(rnd(&s) % n);
        struct capn_seg sg = seg_of(w, n);
        struct capn_msg m;
        capn_msg_init(&m, &sg, 1);
        m.read_left = rnd(&s) % 8;
        struct capn_ptr p = {&m, &sg, (const uint8_t *)&w[at], (int32_t)(rnd(&s) % 3)};
        uint64_t ptr = w[at], left = m.read_left;
        if ((ptr & 3) != 0 || ptr == 0)
            continue; /* not a near struct pointer: the general path, unchanged */
        struct capn_struct got = capn_ptr_struct(p, NULL);
        int64_t pos = (int64_t)at + 1 + ((int32_t)((uint32_t)ptr & ~3u) >> 2);
        uint64_t dw = (uint16_t)(ptr >> 32), np = (uint16_t)(ptr >> 48);
        enum capn_err want = CAPN_OK;
        if (p.nest <= 0)
            want = CAPN_ERR_NESTING;
        else if (pos < 0 || (uint64_t)pos + dw + np > n)
            want = CAPN_ERR_BOUNDS;
        else if (dw + np > left)
            want = CAPN_ERR_TRAVERSAL;
        cr_expect_eq(m.err, want, "seed %llu", (unsigned long long)seed);
        if (want == CAPN_OK) {
            cr_expect_eq(got.data, (const uint8_t *)&w[pos], "seed %llu", (unsigned long long)seed);
            cr_expect_eq(got.data_bytes, dw * 8);
            cr_expect_eq(got.nptrs, np);
            cr_expect_eq(got.nest, p.nest - 1);
            cr_expect_eq(m.read_left, left - dw - np);
        } else {
            cr_expect_null(got.seg, "seed %llu", (unsigned long long)seed);
            cr_expect_eq(m.read_left, want == CAPN_ERR_TRAVERSAL ? 0 : left);
        }
    }
}

/* Text and Data: what a byte-list read gives (capn_ptr_list with
 * CAPN_BYTE), plus the byte-list-only and NUL rules. */
Test(capnp_fastpath, text_and_data_match_byte_lists)
{
    uint64_t s = 4242;
    for (int it = 0; it < ITERATIONS; it++) {
        uint64_t seed = s;
        uint64_t w[6];
        uint32_t n = 1 + (uint32_t)(rnd(&s) % 6);
        for (int i = 0; i < 6; i++)
            w[i] = rnd(&s) % 3 == 0 ? rnd_ptr(&s, n) : rnd(&s) % 4 == 0 ? 0 : rnd(&s);
        uint32_t at = (uint32_t)(rnd(&s) % n);
        w[at] = rnd_ptr(&s, n);
        bool data = rnd(&s) % 2;
        uint64_t left = rnd(&s) % 8;
        struct capn_seg sa = seg_of(w, n), sb = sa;
        struct capn_msg a, b;
        capn_msg_init(&a, &sa, 1);
        capn_msg_init(&b, &sb, 1);
        a.read_left = b.read_left = left;
        struct capn_ptr pa = {&a, &sa, (const uint8_t *)&w[at], 5};
        struct capn_ptr pb = {&b, &sb, (const uint8_t *)&w[at], 5};

        const uint8_t *got, *want = NULL;
        uint32_t got_len, want_len = 0;
        if (data) {
            struct capn_data d = capn_ptr_data(pa, NULL, 0);
            got = d.ptr;
            got_len = d.len;
        } else {
            struct capn_text t = capn_ptr_text(pa, NULL, 0);
            got = (const uint8_t *)t.str;
            got_len = t.len;
        }
        struct capn_list l = capn_ptr_list(pb, CAPN_BYTE, NULL);
        if (l.seg != NULL && l.esize != CAPN_BYTE)
            capn_msg_fail(&b, CAPN_ERR_ELEM_SIZE);
        else if (l.seg != NULL && !data && (l.len == 0 || l.data[l.len - 1] != 0))
            capn_msg_fail(&b, CAPN_ERR_TEXT);
        else if (l.seg != NULL) {
            want = l.data;
            want_len = data ? l.len : l.len - 1;
        }
        expect_same_msg(&a, &b, seed);
        if (want != NULL)
            cr_expect(got == want && got_len == want_len, "seed %llu", (unsigned long long)seed);
        else
            cr_expect_eq(got_len, 0, "seed %llu", (unsigned long long)seed);
    }
}

/* Text and Data written by the fast path: every length around the word
 * boundaries, unaligned sources, into a dirty arena. */
Test(capnp_fastpath, set_text_and_data_bytes)
{
    static const char src[] = "_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
    for (int data = 0; data <= 1; data++) {
        for (uint32_t len = 0; len <= 40; len++) {
            for (uint32_t shift = 0; shift < 3; shift++) {
                uint64_t mem[16];
                struct capn_seg seg;
                struct capn_bld b;
                memset(mem, 0xa5, sizeof(mem));
                capn_bld_init(&b, &seg, 1, mem, sizeof(mem));
                struct capn_bstruct r = capn_bld_init_root(&b, 0, 1);
                bool ok = data ? capn_bptr_set_data(capn_bstruct_ptr(&r, 0), src + shift, len)
                               : capn_bptr_set_text(capn_bstruct_ptr(&r, 0), src + shift, len);
                cr_assert(ok);
                uint32_t n = len + (data ? 0 : 1), words = (n + 7) / 8;
                cr_expect_eq(seg.words, 2 + words, "len %u", len);
                cr_expect_eq(mem[1], lp(0, CAPN_BYTE, n), "len %u", len);
                const uint8_t *c = (const uint8_t *)&mem[2];
                cr_expect(memcmp(c, src + shift, len) == 0, "len %u", len);
                for (uint32_t i = len; i < words * 8; i++)
                    cr_expect_eq(c[i], 0, "padding byte %u, len %u", i, len);
                cr_expect_eq(mem[2 + words], 0xa5a5a5a5a5a5a5a5ull, "overrun, len %u", len);
            }
        }
    }
}

/* capn_bld_init_root and capn_bld_write against their general paths. */
Test(capnp_fastpath, init_root_and_write_match_general)
{
    for (uint16_t dw = 0; dw < 4; dw++) {
        for (uint16_t np = 0; np < 4; np++) {
            for (uint32_t room = 1; room < 10; room++) {
                uint64_t ma[16], mb[16], oa[16], ob[16];
                struct capn_seg sa, sb;
                struct capn_bld a, b;
                memset(ma, 0x5a, sizeof(ma));
                memset(mb, 0x5a, sizeof(mb));
                capn_bld_init(&a, &sa, 1, ma, room * 8);
                capn_bld_init(&b, &sb, 1, mb, room * 8);
                struct capn_bstruct x = capn_bld_init_root(&a, dw, np);
                struct capn_bstruct y = capn_bld_init_root_slow_(&b, dw, np);
                cr_expect_eq(a.err, b.err, "dw %u np %u room %u", dw, np, room);
                cr_expect_eq(sa.words, sb.words, "dw %u np %u room %u", dw, np, room);
                cr_expect(memcmp(ma, mb, sizeof(ma)) == 0, "dw %u np %u room %u", dw, np, room);
                cr_expect_eq(x.b == NULL, y.b == NULL, "dw %u np %u room %u", dw, np, room);
                if (x.b != NULL && y.b != NULL)
                    cr_expect(x.data - (uint8_t *)ma == y.data - (uint8_t *)mb &&
                                  x.ptrs - (uint8_t *)ma == y.ptrs - (uint8_t *)mb &&
                                  x.data_bytes == y.data_bytes && x.nptrs == y.nptrs,
                              "view, dw %u np %u room %u", dw, np, room);
                for (size_t cap = 0; cap <= 8 * (sa.words + 2); cap += 4) {
                    size_t la = 99, lb = 99;
                    memset(oa, 1, sizeof(oa));
                    memset(ob, 1, sizeof(ob));
                    enum capn_err ea = capn_bld_write(&a, oa, cap, &la);
                    enum capn_err eb = capn_bld_write_slow_(&a, ob, cap, &lb);
                    cr_expect_eq(ea, eb, "cap %zu", cap);
                    cr_expect_eq(la, lb, "cap %zu", cap);
                    cr_expect(memcmp(oa, ob, sizeof(oa)) == 0, "cap %zu", cap);
                }
            }
        }
    }
}
