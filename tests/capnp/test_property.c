/*
 * Randomized round-trip property: a seeded generator describes a random
 * message (structs, every list kind, text, data, capabilities, nesting).
 * The same generator code either builds the message or, replayed from the
 * same seed, checks what a reader sees. Each message is checked read in
 * place, framed, packed, and deep-copied, with segment sizes that force far
 * pointers. A failure names its seed.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#define ITERATIONS 2000
#define MAX_DEPTH  5

struct gen {
    uint64_t s;    /* xorshift state */
    uint64_t seed; /* for messages */
};

static uint64_t rnd(struct gen *g)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return g->s;
}

static uint32_t below(struct gen *g, uint32_t n)
{
    return (uint32_t)(rnd(g) % n);
}

/* Exactly one of b (build) and r (check) is non-NULL. */
static void gen_ptr(struct gen *g, int depth, const struct capn_bptr *b, const struct capn_ptr *r);

static void gen_struct_body(struct gen *g, int depth, const struct capn_bstruct *bs,
                            const struct capn_struct *rs, uint32_t dw, uint32_t np)
{
    for (uint32_t i = 0; i < dw; i++) {
        uint64_t v = rnd(g);
        if (bs)
            capn_bstruct_set_u64(bs, i * 8, v, 0);
        else
            cr_assert_eq(capn_struct_u64(rs, i * 8, 0), v, "seed %llu",
                         (unsigned long long)g->seed);
    }
    for (uint32_t i = 0; i < np; i++) {
        if (bs) {
            struct capn_bptr p = capn_bstruct_ptr(bs, i);
            gen_ptr(g, depth + 1, &p, NULL);
        } else {
            struct capn_ptr p = capn_struct_ptr(rs, i);
            gen_ptr(g, depth + 1, NULL, &p);
        }
    }
}

static void gen_list(struct gen *g, int depth, const struct capn_bptr *b, const struct capn_ptr *r,
                     uint32_t es)
{
    uint32_t n = below(g, es == CAPN_PTR || es == CAPN_COMPOSITE ? 5 : 70);
    uint32_t dw = below(g, 3), np = below(g, 3);
    struct capn_blist bl = {0};
    struct capn_list rl = {0};
    if (b) {
        bl = es == CAPN_COMPOSITE ? capn_bptr_init_struct_list(*b, n, (uint16_t)dw, (uint16_t)np)
                                  : capn_bptr_init_list(*b, (enum capn_esize)es, n);
    } else {
        rl = capn_ptr_list(*r, (enum capn_esize)es, NULL);
        cr_assert_eq(rl.len, n, "seed %llu", (unsigned long long)g->seed);
        cr_assert_eq(rl.esize, es, "seed %llu", (unsigned long long)g->seed);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = rnd(g);
        bool ok = true;
        switch (es) {
        case CAPN_VOID:
            break;
        case CAPN_BIT:
            b ? capn_blist_set_bool(&bl, i, v & 1) : (void)(ok = capn_list_bool(&rl, i) == (v & 1));
            break;
        case CAPN_BYTE:
            b ? capn_blist_set_u8(&bl, i, (uint8_t)v)
              : (void)(ok = capn_list_u8(&rl, i) == (uint8_t)v);
            break;
        case CAPN_TWO:
            b ? capn_blist_set_u16(&bl, i, (uint16_t)v)
              : (void)(ok = capn_list_u16(&rl, i) == (uint16_t)v);
            break;
        case CAPN_FOUR:
            b ? capn_blist_set_u32(&bl, i, (uint32_t)v)
              : (void)(ok = capn_list_u32(&rl, i) == (uint32_t)v);
            break;
        case CAPN_EIGHT:
            b ? capn_blist_set_u64(&bl, i, v) : (void)(ok = capn_list_u64(&rl, i) == v);
            break;
        case CAPN_PTR:
            if (b) {
                struct capn_bptr p = capn_blist_ptr(&bl, i);
                gen_ptr(g, depth + 1, &p, NULL);
            } else {
                struct capn_ptr p = capn_list_ptr(&rl, i);
                gen_ptr(g, depth + 1, NULL, &p);
            }
            break;
        default:
            if (b) {
                struct capn_bstruct e = capn_blist_struct(&bl, i);
                gen_struct_body(g, depth, &e, NULL, dw, np);
            } else {
                struct capn_struct e = capn_list_struct(&rl, i);
                gen_struct_body(g, depth, NULL, &e, dw, np);
            }
            break;
        }
        cr_assert(ok, "seed %llu: list kind %u element %u", (unsigned long long)g->seed, es, i);
    }
}

static void gen_ptr(struct gen *g, int depth, const struct capn_bptr *b, const struct capn_ptr *r)
{
    unsigned long long seed = (unsigned long long)g->seed;
    /* The root is a struct with a few pointers, so trees are not trivial. */
    uint32_t kind = depth >= MAX_DEPTH ? 0 : depth == 0 ? 2 : below(g, 14);
    switch (kind) {
    case 0:
    case 1:
        if (r)
            cr_assert(capn_ptr_is_null(*r), "seed %llu: expected null", seed);
        break;
    case 2:
    case 3: {
        uint32_t dw = below(g, 4), np = depth == 0 ? 4 + below(g, 5) : below(g, 4);
        if (b) {
            struct capn_bstruct s = capn_bptr_init_struct(*b, (uint16_t)dw, (uint16_t)np);
            gen_struct_body(g, depth, &s, NULL, dw, np);
        } else {
            struct capn_struct s = capn_ptr_struct(*r, NULL);
            cr_assert_not_null(s.seg, "seed %llu", seed);
            cr_assert_eq(s.data_bytes, dw * 8, "seed %llu", seed);
            cr_assert_eq(s.nptrs, np, "seed %llu", seed);
            gen_struct_body(g, depth, NULL, &s, dw, np);
        }
        break;
    }
    case 4: {
        char text[41];
        uint32_t n = below(g, 41);
        for (uint32_t i = 0; i < n; i++)
            text[i] = (char)('a' + below(g, 26));
        text[n] = 0;
        if (b) {
            capn_bptr_set_text(*b, text, n);
        } else {
            struct capn_text t = capn_ptr_text(*r, NULL, 0);
            cr_assert_eq(t.len, n, "seed %llu", seed);
            cr_assert_str_eq(t.str, text, "seed %llu", seed);
        }
        break;
    }
    case 5: {
        uint8_t data[33];
        uint32_t n = below(g, 33);
        for (uint32_t i = 0; i < n; i++)
            data[i] = (uint8_t)rnd(g);
        if (b) {
            capn_bptr_set_data(*b, data, n);
        } else {
            struct capn_data d = capn_ptr_data(*r, NULL, 0);
            cr_assert_eq(d.len, n, "seed %llu", seed);
            if (n > 0)
                cr_assert_arr_eq(d.ptr, data, n, "seed %llu", seed);
        }
        break;
    }
    case 6: {
        uint32_t index = below(g, 10);
        uint32_t got = 99;
        if (b)
            capn_bptr_set_cap(*b, index);
        else
            cr_assert(capn_ptr_cap(*r, &got) && got == index, "seed %llu", seed);
        break;
    }
    default: /* 7..13: one list kind each, CAPN_VOID..CAPN_COMPOSITE */
        gen_list(g, depth, b, r, kind - 7);
        break;
    }
}

static void check_msg(uint64_t seed, struct capn_msg *m)
{
    struct gen g = {seed * 2654435761u + 1, seed};
    m->cap_count = 10;
    struct capn_ptr root = capn_msg_root(m);
    gen_ptr(&g, 0, NULL, &root);
    cr_assert_eq(m->err, CAPN_OK, "seed %llu: %s", (unsigned long long)seed, capn_err_str(m->err));
}

/* Segments of a random small size, so objects spill with far pointers. */
struct pool {
    void *bufs[CAPN_MAX_SEGS];
    uint32_t n;
    struct gen *g;
};

static void *small_more(void *ctx, size_t min_bytes, size_t *got)
{
    struct pool *p = ctx;
    size_t size = 8 * (1 + below(p->g, 24));
    if (size < min_bytes)
        size = min_bytes;
    if (p->n == CAPN_MAX_SEGS)
        return NULL;
    p->bufs[p->n] = malloc(size);
    *got = size;
    return p->bufs[p->n++];
}

static void round_trip(uint64_t seed)
{
    unsigned long long s = (unsigned long long)seed;
    struct gen layout = {seed ^ 0xabcdef, seed};
    struct pool pool = {.n = 0, .g = &layout};
    struct capn_seg segs[CAPN_MAX_SEGS];
    struct capn_bld b;
    capn_bld_init(&b, segs, CAPN_MAX_SEGS, NULL, 0);
    b.more = small_more;
    b.more_ctx = &pool;
    struct gen g = {seed * 2654435761u + 1, seed};
    struct capn_bptr root = capn_bld_root(&b);
    gen_ptr(&g, 0, &root, NULL);
    cr_assert_eq(b.err, CAPN_OK, "seed %llu: %s", s, capn_err_str(b.err));

    /* In place. */
    struct capn_msg m;
    capn_bld_msg(&b, &m);
    check_msg(seed, &m);

    /* Framed. */
    size_t len;
    uint8_t *framed = capn_host_frame(&b, &len);
    struct capn_seg rsegs[CAPN_MAX_SEGS];
    cr_assert_eq(capn_msg_read(&m, rsegs, CAPN_MAX_SEGS, framed, len, NULL), CAPN_OK);
    check_msg(seed, &m);

    /* Packed. */
    size_t plen, ulen;
    uint8_t *packed = capn_host_frame_packed(&b, &plen), *plain;
    cr_assert_eq(capn_host_unpack(packed, plen, 1 << 24, &plain, &ulen), CAPN_OK);
    cr_assert_eq(ulen, len);
    cr_assert_arr_eq(plain, framed, len, "seed %llu", s);

    /* Deep copy into one big segment: far pointers become near. */
    struct capn_hbld *h = capn_hbld_new(1 << 20);
    capn_msg_read(&m, rsegs, CAPN_MAX_SEGS, framed, len, NULL);
    m.cap_count = 10;
    cr_assert_eq(capn_bptr_copy(capn_bld_root(&h->b), capn_msg_root(&m)), CAPN_OK, "seed %llu", s);
    cr_assert_eq(h->b.nsegs, 1);
    struct capn_msg cm;
    capn_bld_msg(&h->b, &cm);
    check_msg(seed, &cm);

    capn_hbld_free(h);
    free(plain);
    free(packed);
    free(framed);
    for (uint32_t i = 0; i < pool.n; i++)
        free(pool.bufs[i]);
}

Test(property, random_round_trips)
{
    for (uint64_t seed = 1; seed <= ITERATIONS; seed++)
        round_trip(seed);
}
