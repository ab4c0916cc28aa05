/*
 * Hand-made hostile messages. Each test states the outcome: which error is
 * recorded, what value the reader returns instead, and that the limits stop
 * amplification and recursion. ASan and UBSan check that nothing reads out
 * of bounds or overflows on the way.
 */
#include <criterion/criterion.h>

#include "testutil.h"

static const uint64_t def_words[] = {0x0000000100000000ull, 0x77}; /* struct (1, 0) */
static const struct capn_seg def_seg = {(const uint8_t *)def_words, 2, 2};

/* Read root field `field` as a struct with a default; expect error e. */
static void expect_struct_error(const uint64_t *w, uint32_t n, enum capn_err e)
{
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, n);
    struct capn_struct r = capn_ptr_struct(capn_msg_root(&m), &def_seg);
    cr_assert_eq(m.err, e, "got %s, want %s", capn_err_str(m.err), capn_err_str(e));
    cr_assert_eq(capn_struct_u64(&r, 0, 0), 0x77, "default value not returned");
}

Test(hostile, struct_pointer_out_of_bounds)
{
    uint64_t a[] = {sp(100, 1, 0)};
    expect_struct_error(a, 1, CAPN_ERR_BOUNDS);
    uint64_t b[] = {sp(-2, 1, 0)}; /* before the segment */
    expect_struct_error(b, 1, CAPN_ERR_BOUNDS);
    uint64_t c[] = {sp(0, 1, 1), 0}; /* straddles the end */
    expect_struct_error(c, 2, CAPN_ERR_BOUNDS);
    uint64_t d[] = {sp(-(1 << 29), 0xffff, 0xffff)};
    expect_struct_error(d, 1, CAPN_ERR_BOUNDS);
}

Test(hostile, list_pointer_out_of_bounds)
{
    uint64_t w[] = {sp(0, 0, 3), lp(5, 5, 1), lp(-10, 2, 1), lp(0, 7, 4), sp(1, 1, 0)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 5);
    struct capn_struct r = root_struct(&m);
    for (uint32_t i = 0; i < 3; i++) {
        m.err = CAPN_OK;
        struct capn_list l = capn_ptr_list(capn_struct_ptr(&r, i), CAPN_ANY, NULL);
        cr_assert_null(l.seg);
        cr_assert_eq(l.len, 0);
        cr_assert_eq(m.err, CAPN_ERR_BOUNDS, "field %u: %s", i, capn_err_str(m.err));
    }
}

Test(hostile, far_pointer_to_missing_segment)
{
    uint64_t a[] = {farp(0, 5, 0)};
    expect_struct_error(a, 1, CAPN_ERR_FAR_SEGMENT);
    uint64_t b[] = {farp(0, 0xffffffffu, 0)};
    expect_struct_error(b, 1, CAPN_ERR_FAR_SEGMENT);
    /* Double far whose content segment is missing. */
    uint64_t c[] = {farp(1, 0, 1), farp(0, 9, 0), sp(0, 1, 0)};
    expect_struct_error(c, 3, CAPN_ERR_FAR_SEGMENT);
}

Test(hostile, landing_pad_out_of_bounds)
{
    uint64_t a[] = {farp(0, 0, 1)}; /* pad at word 1 of a 1-word segment */
    expect_struct_error(a, 1, CAPN_ERR_FAR_PAD);
    uint64_t b[] = {farp(1, 0, 1), 0}; /* double pad needs 2 words */
    expect_struct_error(b, 2, CAPN_ERR_FAR_PAD);
    uint64_t c[] = {farp(0, 0, (1u << 29) - 1)};
    expect_struct_error(c, 1, CAPN_ERR_FAR_PAD);
}

Test(hostile, malformed_landing_pads)
{
    uint64_t a[] = {farp(0, 0, 1), farp(0, 0, 0)}; /* pad is itself far */
    expect_struct_error(a, 2, CAPN_ERR_FAR_PAD);
    uint64_t b[] = {farp(0, 0, 1), capp(0)}; /* pad is a capability */
    expect_struct_error(b, 2, CAPN_ERR_FAR_PAD);
    uint64_t c[] = {farp(1, 0, 1), sp(0, 1, 0), sp(0, 1, 0)}; /* first word not far */
    expect_struct_error(c, 3, CAPN_ERR_FAR_PAD);
    uint64_t d[] = {farp(1, 0, 1), farp(1, 0, 0), sp(0, 1, 0)}; /* double inside double */
    expect_struct_error(d, 3, CAPN_ERR_FAR_PAD);
    uint64_t e[] = {farp(1, 0, 1), farp(0, 0, 3), farp(0, 0, 0), 5}; /* tag is far */
    expect_struct_error(e, 4, CAPN_ERR_FAR_PAD);
    /* Single far pad pointing out of its segment. */
    uint64_t f[] = {farp(0, 0, 1), sp(7, 1, 0)};
    expect_struct_error(f, 2, CAPN_ERR_BOUNDS);
}

Test(hostile, valid_far_and_double_far)
{
    uint64_t s0[] = {farp(1, 1, 0)};
    uint64_t s1[] = {farp(0, 2, 1), sp(0, 1, 0), farp(0, 2, 2)};
    uint64_t s2[] = {0, 0x1234, sp(0, 1, 0)};
    struct capn_seg segs[3] = {seg_of(s0, 1), seg_of(s1, 3), seg_of(s2, 3)};
    struct capn_msg m;
    capn_msg_init(&m, segs, 3);
    struct capn_struct r = root_struct(&m);
    cr_assert_eq(capn_struct_u64(&r, 0, 0), 0x1234);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(hostile, far_pointer_in_default_is_refused)
{
    uint64_t bad_def[] = {farp(0, 0, 1), sp(0, 1, 0), 5};
    struct capn_seg bad = seg_of(bad_def, 3);
    uint64_t w[] = {0};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 1);
    /* Defaults are trusted and read without the message: a malformed one
     * reads as null, and the message records nothing. */
    struct capn_struct r = capn_ptr_struct(capn_msg_root(&m), &bad);
    cr_assert_null(r.seg);
    cr_assert_eq(m.err, CAPN_OK);
}

/* 2048 pointers to one 4096-word list: a 6 KiW message whose naive
 * traversal reads 8 MiW. The budget runs out exactly on schedule. */
Test(hostile, overlapping_pointers_hit_traversal_limit)
{
    enum { NP = 2100, LW = 4096 };
    static uint64_t w[1 + 1 + NP + LW];
    w[0] = sp(0, 0, NP);
    for (int i = 0; i < NP; i++)
        w[1 + i] = lp(NP - i - 1, 5, LW);
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 1 + NP + LW);
    uint64_t budget = m.read_left;
    struct capn_struct r = root_struct(&m);
    cr_assert_eq(budget, CAPN_TRAVERSAL_LIMIT);
    int ok = 0;
    for (int i = 0; i < NP; i++) {
        struct capn_list l = capn_ptr_list(capn_struct_ptr(&r, i), CAPN_EIGHT, NULL);
        if (l.seg == NULL)
            break;
        cr_assert_eq(l.len, LW);
        ok++;
    }
    /* Root struct cost NP words; each list LW. */
    cr_assert_eq(ok, (int)((budget - NP) / LW));
    cr_assert_eq(m.err, CAPN_ERR_TRAVERSAL);
    cr_assert_eq(m.read_left, 0);
    /* Once spent, everything else reads as default (which costs nothing). */
    struct capn_struct d = capn_ptr_struct(capn_struct_ptr(&r, 0), &def_seg);
    cr_assert_eq(capn_struct_u64(&d, 0, 0), 0x77);
}

static uint64_t walk(struct capn_struct s, uint64_t *visits)
{
    (*visits)++;
    uint64_t sum = capn_struct_u64(&s, 0, 0);
    for (uint32_t i = 0; i < s.nptrs; i++)
        sum += walk(capn_ptr_struct(capn_struct_ptr(&s, i), NULL), visits);
    return sum;
}

Test(hostile, self_reference_hits_nesting_limit)
{
    /* A struct whose only pointer points at itself. */
    uint64_t w[] = {sp(0, 1, 1), 1, sp(-2, 1, 1)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 3);
    uint64_t visits = 0;
    struct capn_struct r = root_struct(&m);
    uint64_t sum = walk(r, &visits);
    /* The root plus 63 nested levels read; the 65th is refused. */
    cr_assert_eq(sum, CAPN_NESTING_LIMIT);
    cr_assert_eq(m.err, CAPN_ERR_NESTING);
    cr_assert_eq(visits, CAPN_NESTING_LIMIT + 1);
}

Test(hostile, self_reference_amplification_hits_traversal_limit)
{
    /* Two pointers to itself: a naive walk visits 2^64 nodes. Each visit
     * charges 3 words, so the default budget ends it. */
    uint64_t w[] = {sp(0, 1, 2), 1, sp(-2, 1, 2), sp(-3, 1, 2)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 4);
    uint64_t visits = 0;
    walk(root_struct(&m), &visits);
    cr_assert_eq(m.read_left, 0);
    cr_assert_eq(m.last, CAPN_ERR_TRAVERSAL);
    cr_assert_leq(visits, 2 * (CAPN_TRAVERSAL_LIMIT / 3) + 2);
    cr_assert_geq(visits, CAPN_TRAVERSAL_LIMIT / 3);
}

Test(hostile, self_referencing_list)
{
    /* A pointer list whose element points back at the list itself. */
    uint64_t w[] = {lp(0, 6, 1), lp(-1, 6, 1)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 2);
    struct capn_ptr p = capn_msg_root(&m);
    int depth = 0;
    for (;;) {
        struct capn_list l = capn_ptr_list(p, CAPN_PTR, NULL);
        if (l.seg == NULL)
            break;
        depth++;
        p = capn_list_ptr(&l, 0);
    }
    cr_assert_eq(depth, CAPN_NESTING_LIMIT);
    cr_assert_eq(m.err, CAPN_ERR_NESTING);
}

Test(hostile, deep_nesting)
{
    /* A valid chain of 100 structs, each with one pointer to the next. */
    enum { N = 100 };
    uint64_t w[1 + 2 * N];
    w[0] = sp(0, 1, 1);
    for (int i = 0; i < N; i++) {
        w[1 + 2 * i] = (uint64_t)i;
        w[2 + 2 * i] = i + 1 < N ? sp(0, 1, 1) : 0;
    }
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 1 + 2 * N);
    struct capn_struct cur = root_struct(&m);
    int depth = 0;
    while (cur.seg != NULL) {
        cr_assert_eq(capn_struct_u64(&cur, 0, 0), (uint64_t)depth);
        cur = capn_ptr_struct(capn_struct_ptr(&cur, 0), &def_seg);
        if (cur.seg == &def_seg) {
            /* Past the limit: the default comes back instead. */
            cr_assert_eq(capn_struct_u64(&cur, 0, 0), 0x77);
            break;
        }
        depth++;
    }
    /* The root takes one level; 63 more are allowed below it. */
    cr_assert_eq(depth, CAPN_NESTING_LIMIT - 1);
    cr_assert_eq(m.err, CAPN_ERR_NESTING);

    /* A caller may lower the limit. */
    msg1(&m, &s, w, 1 + 2 * N);
    m.nest_limit = 3;
    cur = root_struct(&m);
    for (depth = 0; cur.seg != NULL; depth++)
        cur = capn_ptr_struct(capn_struct_ptr(&cur, 0), NULL);
    cr_assert_eq(depth, 3);
}

Test(hostile, list_size_overflow)
{
    /* Counts whose byte size would overflow 32 bits, in an 8-word segment. */
    uint64_t w[] = {sp(0, 0, 6),
                    lp(5, 5, (1u << 29) - 1),
                    lp(4, 1, (1u << 29) - 1),
                    lp(3, 6, (1u << 29) - 1),
                    lp(2, 7, (1u << 29) - 1),
                    lp(1, 4, (1u << 29) - 1),
                    lp(0, 7, 0),
                    sp(0x3fffffff, 0xffff, 0xffff)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 8);
    struct capn_struct r = root_struct(&m);
    for (uint32_t i = 0; i < 5; i++) {
        m.err = CAPN_OK;
        struct capn_list l = capn_ptr_list(capn_struct_ptr(&r, i), CAPN_ANY, NULL);
        cr_assert_null(l.seg);
        cr_assert_eq(m.err, CAPN_ERR_BOUNDS, "field %u: %s", i, capn_err_str(m.err));
    }
    /* Composite: 2^30-1 elements of 131070 words claimed in 1 word. */
    m.err = CAPN_OK;
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&r, 5), CAPN_COMPOSITE, NULL);
    cr_assert_null(l.seg);
    cr_assert_eq(m.err, CAPN_ERR_COMPOSITE_TAG);
}

Test(hostile, composite_tag_malformed)
{
    uint64_t w[] = {sp(0, 0, 3), lp(2, 7, 2), lp(3, 7, 1), lp(4, 7, 0), sp(5, 1, 0),
                    1,           lp(0, 2, 1), 0,           sp(1, 0, 0)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 9);
    struct capn_struct r = root_struct(&m);
    /* 5 one-word elements in 2 words. */
    struct capn_list a = capn_ptr_list(capn_struct_ptr(&r, 0), CAPN_COMPOSITE, NULL);
    cr_assert_null(a.seg);
    cr_assert_eq(m.err, CAPN_ERR_COMPOSITE_TAG);
    /* The tag is a list pointer. */
    m.err = CAPN_OK;
    cr_assert_null(capn_ptr_list(capn_struct_ptr(&r, 1), CAPN_COMPOSITE, NULL).seg);
    cr_assert_eq(m.err, CAPN_ERR_COMPOSITE_TAG);
    /* Word count 0 but the tag claims one zero-sized element: fine. */
    m.err = CAPN_OK;
    struct capn_list c = capn_ptr_list(capn_struct_ptr(&r, 2), CAPN_COMPOSITE, NULL);
    cr_assert_eq(c.len, 1);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(hostile, truncated_segment_table)
{
    uint8_t buf[64] = {0};
    struct capn_seg segs[8];
    uint32_t n;
    cr_assert_eq(capn_frame_read(buf, 0, segs, 8, &n, NULL), CAPN_ERR_TRUNCATED);
    cr_assert_eq(capn_frame_read(buf, 3, segs, 8, &n, NULL), CAPN_ERR_TRUNCATED);
    buf[0] = 3; /* 4 segments: a 24-byte table */
    cr_assert_eq(capn_frame_read(buf, 20, segs, 8, &n, NULL), CAPN_ERR_TRUNCATED);
    cr_assert_eq(capn_frame_read(buf, 24, segs, 8, &n, NULL), CAPN_OK);
    cr_assert_eq(n, 4);
    buf[4] = 2; /* segment 0 claims 2 words that are not there */
    cr_assert_eq(capn_frame_read(buf, 24 + 8, segs, 8, &n, NULL), CAPN_ERR_TRUNCATED);
    /* Sizes that sum past 2^32 words are not wrapped. */
    uint32_t big[4] = {1, 0x1fffffff, 0x1fffffff, 0};
    cr_assert_eq(capn_frame_read(big, sizeof(big), segs, 8, &n, NULL), CAPN_ERR_TRUNCATED);
    uint32_t huge[2] = {0, 0xffffffffu};
    cr_assert_eq(capn_frame_read(huge, sizeof(huge), segs, 8, &n, NULL), CAPN_ERR_SEG_SIZE);
}

Test(hostile, segment_count_2_pow_32_minus_1)
{
    uint32_t buf[4] = {0xffffffffu, 1, 0, 0};
    struct capn_seg segs[CAPN_MAX_SEGS];
    uint32_t n = 7;
    cr_assert_eq(capn_frame_read(buf, sizeof(buf), segs, CAPN_MAX_SEGS, &n, NULL),
                 CAPN_ERR_SEG_COUNT);
    cr_assert_eq(n, 7);
    /* More segments than the caller's table, or than CAPN_MAX_SEGS. */
    buf[0] = 4;
    cr_assert_eq(capn_frame_read(buf, sizeof(buf), segs, 4, &n, NULL), CAPN_ERR_SEG_COUNT);
    buf[0] = CAPN_MAX_SEGS;
    cr_assert_eq(capn_frame_read(buf, sizeof(buf), segs, UINT32_MAX, &n, NULL), CAPN_ERR_SEG_COUNT);
    /* capn_msg_read leaves a message with no segments and the error. */
    struct capn_msg m;
    buf[0] = 0xffffffffu;
    cr_assert_eq(capn_msg_read(&m, segs, 8, buf, sizeof(buf), NULL), CAPN_ERR_SEG_COUNT);
    cr_assert_eq(m.err, CAPN_ERR_SEG_COUNT);
    cr_assert_null(root_struct(&m).seg);
}

/* The official library refuses a message of 512 segments or more
 * ("Message has too many segments"); so do we, and take 511. */
Test(hostile, segment_count_limit_matches_the_official_library)
{
    static uint32_t buf[2 + 512];
    static struct capn_seg segs[512];
    uint32_t n = 0;
    /* 511 segments of 0 words each: a header of 4 + 4 * 511 bytes, padded. */
    buf[0] = 510;
    cr_assert_eq(capn_frame_read(buf, (4 + 4 * 511 + 7) & ~7u, segs, 512, &n, NULL), CAPN_OK);
    cr_assert_eq(n, 511);
    buf[0] = 511;
    cr_assert_eq(capn_frame_read(buf, sizeof(buf), segs, 512, &n, NULL), CAPN_ERR_SEG_COUNT);
}

Test(hostile, empty_first_segment)
{
    uint32_t buf[2] = {0, 0};
    struct capn_seg segs[1];
    struct capn_msg m;
    cr_assert_eq(capn_msg_read(&m, segs, 1, buf, sizeof(buf), NULL), CAPN_OK);
    struct capn_struct r = root_struct(&m);
    cr_assert_null(r.seg);
    cr_assert_eq(m.err, CAPN_ERR_BOUNDS);
}

Test(hostile, zero_sized_structs)
{
    /* A zero-sized struct takes no space, but must still point inside. */
    uint64_t w[] = {sp(0, 0, 3), sp(-1, 0, 0), sp(1000, 0, 0), lp(0, 7, 0),
                    sp(CAPN_MAX_LIST_LEN, 0, 0)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 5);
    struct capn_struct r = root_struct(&m);
    struct capn_struct z = capn_ptr_struct(capn_struct_ptr(&r, 0), NULL);
    cr_assert_not_null(z.seg);
    cr_assert_eq(z.data_bytes + z.nptrs, 0);
    /* 1000 words past the end is outside. */
    cr_assert_null(capn_ptr_struct(capn_struct_ptr(&r, 1), NULL).seg);
    cr_assert_eq(m.err, CAPN_ERR_BOUNDS);
    /* 2^29-1 zero-sized elements in no space: charged a word each. */
    m.err = CAPN_OK;
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&r, 2), CAPN_COMPOSITE, NULL);
    cr_assert_null(l.seg);
    cr_assert_eq(m.err, CAPN_ERR_TRAVERSAL);
}

Test(hostile, huge_void_list_is_charged)
{
    uint64_t w[] = {sp(0, 0, 2), lp(1, 0, 1000), lp(0, 0, (1u << 29) - 1)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 3);
    struct capn_struct r = root_struct(&m);
    struct capn_list small = capn_ptr_list(capn_struct_ptr(&r, 0), CAPN_VOID, NULL);
    cr_assert_eq(small.len, 1000);
    struct capn_list big = capn_ptr_list(capn_struct_ptr(&r, 1), CAPN_VOID, NULL);
    cr_assert_null(big.seg);
    cr_assert_eq(m.err, CAPN_ERR_TRAVERSAL);
}

Test(hostile, wrong_pointer_kinds)
{
    uint64_t w[] = {sp(0, 0, 4), lp(3, 2, 1), sp(3, 1, 0), capp(0), 3 | 4, 0x0102030405060708};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 6);
    m.cap_count = 1;
    struct capn_struct r = root_struct(&m);
    uint32_t idx;
    struct {
        int field;
        int op; /* 0 struct, 1 list, 2 cap, 3 text */
        enum capn_err want;
    } cases[] = {
        {0, 0, CAPN_ERR_PTR_KIND}, {1, 1, CAPN_ERR_PTR_KIND}, {1, 3, CAPN_ERR_PTR_KIND},
        {2, 0, CAPN_ERR_PTR_KIND}, {0, 2, CAPN_ERR_PTR_KIND}, {3, 0, CAPN_ERR_RESERVED},
        {3, 2, CAPN_ERR_RESERVED}, {2, 1, CAPN_ERR_PTR_KIND},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capn_ptr p = capn_struct_ptr(&r, (uint32_t)cases[i].field);
        m.err = CAPN_OK;
        switch (cases[i].op) {
        case 0:
            cr_assert_null(capn_ptr_struct(p, NULL).seg);
            break;
        case 1:
            cr_assert_null(capn_ptr_list(p, CAPN_ANY, NULL).seg);
            break;
        case 2:
            cr_assert(!capn_ptr_cap(p, &idx));
            break;
        default:
            cr_assert_eq(capn_ptr_text(p, NULL, 0).len, 0);
            break;
        }
        cr_assert_eq(m.err, cases[i].want, "case %zu: %s", i, capn_err_str(m.err));
    }
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&r, 3)), CAPN_PT_INVALID);
    cr_assert(capn_ptr_cap(capn_struct_ptr(&r, 2), &idx));
}

Test(hostile, wrong_element_size_for_schema)
{
    /* A struct list where the schema says List(Bool), a bit list where it
     * says List(Inner), u16 where it says u64. */
    uint64_t w[] = {sp(0, 0, 3), lp(2, 7, 1), lp(3, 1, 4), lp(3, 3, 4),
                    sp(1, 1, 0), 5,           0xf,         0x0004000300020001};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 8);
    struct capn_struct r = root_struct(&m);
    cr_assert_null(capn_ptr_list(capn_struct_ptr(&r, 0), CAPN_BIT, NULL).seg);
    cr_assert_eq(m.err, CAPN_ERR_ELEM_SIZE);
    m.err = CAPN_OK;
    struct capn_list bl = capn_ptr_list(capn_struct_ptr(&r, 1), CAPN_COMPOSITE, NULL);
    cr_assert_null(bl.seg);
    cr_assert_null(capn_list_struct(&bl, 0).seg);
    cr_assert_eq(m.err, CAPN_ERR_ELEM_SIZE);
    m.err = CAPN_OK;
    cr_assert_null(capn_ptr_list(capn_struct_ptr(&r, 2), CAPN_EIGHT, NULL).seg);
    cr_assert_eq(m.err, CAPN_ERR_ELEM_SIZE);
    /* A list read with CAPN_ANY never yields elements larger than it has. */
    m.err = CAPN_OK;
    struct capn_list any = capn_ptr_list(capn_struct_ptr(&r, 2), CAPN_ANY, NULL);
    cr_assert_eq(capn_list_u64(&any, 0), 0);
    cr_assert_eq(capn_list_u16(&any, 3), 4);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(hostile, error_bookkeeping)
{
    uint64_t w[] = {sp(0, 0, 2), sp(100, 0, 0), lp(100, 2, 1)};
    struct capn_msg m;
    struct capn_seg s;
    msg1(&m, &s, w, 3);
    struct capn_struct r = root_struct(&m);
    capn_ptr_struct(capn_struct_ptr(&r, 1), NULL);
    capn_ptr_struct(capn_struct_ptr(&r, 0), NULL);
    cr_assert_eq(m.err, CAPN_ERR_PTR_KIND); /* the first one stays */
    cr_assert_eq(m.last, CAPN_ERR_BOUNDS);
    cr_assert_eq(m.nerr, 2);
    cr_assert(!capn_ok(&m));
}

Test(hostile, unaligned_buffer)
{
    /* A framed message at an odd address reads the same (no aligned loads). */
    uint64_t w[] = {0, sp(0, 1, 1), 0x1122334455667788ull, lp(0, 2, 2), 0x4241};
    static uint8_t raw[sizeof(w) + 1];
    memcpy(raw + 1, w, sizeof(w));
    raw[1] = 0;
    raw[5] = 4;
    struct capn_seg segs[1];
    struct capn_msg m;
    cr_assert_eq(capn_msg_read(&m, segs, 1, raw + 1, sizeof(w), NULL), CAPN_OK);
    struct capn_struct r = root_struct(&m);
    cr_assert_eq(capn_struct_u64(&r, 0, 0), 0x1122334455667788ull);
    struct capn_data d = capn_ptr_data(capn_struct_ptr(&r, 0), NULL, 0);
    cr_assert_eq(d.len, 2);
    cr_assert_eq(d.ptr[1], 0x42);
    cr_assert_eq(m.err, CAPN_OK);
}
