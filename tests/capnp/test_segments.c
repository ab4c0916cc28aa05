/*
 * Multi-segment messages (far and double-far pointers), arena exhaustion,
 * the `more` callback, linking, struct upgrades in the builder, zeroing of
 * replaced objects, and deep copy.
 */
#include <criterion/criterion.h>

#include "testutil.h"

/* Build a small tree that cannot fit in 4-word segments. */
static void build_tree(struct capn_bld *b)
{
    struct capn_bstruct r = capn_bld_init_root(b, 1, 3);
    capn_bstruct_set_u64(&r, 0, 0x1111, 0);
    struct capn_bstruct c = capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 2, 1);
    capn_bstruct_set_u64(&c, 8, 0x2222, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&c, 0), "far away text", 13);
    struct capn_blist l = capn_bptr_init_list(capn_bstruct_ptr(&r, 1), CAPN_FOUR, 5);
    for (uint32_t i = 0; i < 5; i++)
        capn_blist_set_u32(&l, i, i * i);
    struct capn_blist sl = capn_bptr_init_struct_list(capn_bstruct_ptr(&r, 2), 2, 1, 0);
    struct capn_bstruct e = capn_blist_struct(&sl, 1);
    capn_bstruct_set_u16(&e, 0, 0x3333, 0);
}

static void check_tree(struct capn_msg *m)
{
    struct capn_struct r = root_struct(m);
    cr_assert_eq(capn_struct_u64(&r, 0, 0), 0x1111);
    struct capn_struct c = capn_ptr_struct(capn_struct_ptr(&r, 0), NULL);
    cr_assert_eq(capn_struct_u64(&c, 8, 0), 0x2222);
    struct capn_text t = capn_ptr_text(capn_struct_ptr(&c, 0), NULL, 0);
    cr_assert_str_eq(t.str, "far away text");
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&r, 1), CAPN_FOUR, NULL);
    cr_assert_eq(l.len, 5);
    for (uint32_t i = 0; i < 5; i++)
        cr_assert_eq(capn_list_u32(&l, i), i * i);
    struct capn_list sl = capn_ptr_list(capn_struct_ptr(&r, 2), CAPN_COMPOSITE, NULL);
    struct capn_struct e = capn_list_struct(&sl, 1);
    cr_assert_eq(capn_struct_u16(&e, 0, 0), 0x3333);
    cr_assert_eq(m->err, CAPN_OK, "%s", capn_err_str(m->err));
}

Test(segments, far_pointers_across_small_segments)
{
    struct tbld t;
    tbld_init_split(&t, 20, 5);
    build_tree(&t.b);
    cr_assert_eq(t.b.err, CAPN_OK);
    cr_assert_gt(t.b.nsegs, 3);
    /* The root's first pointer had to go far. */
    struct capn_bstruct r = capn_bptr_get_struct(capn_bld_root(&t.b), 1, 3);
    cr_assert_eq(capn_load64_(r.ptrs) & 3, 2);

    struct capn_msg m;
    struct capn_seg segs[64];
    uint8_t *buf;
    cr_assert_eq(reread(&t.b, &m, segs, 64, &buf), CAPN_OK);
    cr_assert_eq(m.nsegs, t.b.nsegs);
    check_tree(&m);
    free(buf);
}

Test(segments, double_far_when_target_segment_is_full)
{
    struct tbld t;
    memset(t.mem, 0, sizeof(t.mem));
    tbld_init_split(&t, 3, 8);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 2);
    t.segs[0].words = t.segs[0].cap; /* segment 0 is full */
    /* x lands in the last segment behind a landing pad (a single far). */
    struct capn_bstruct x = capn_bptr_init_struct(capn_bstruct_ptr(&r, 1), 2, 0);
    cr_assert_eq(x.seg, 2);
    cr_assert_eq(capn_load64_(r.ptrs + 8) & 7, 2);
    capn_bstruct_set_u64(&x, 0, 0xabcdef, 0);
    capn_bstruct_set_u64(&x, 8, 0x123456, 0);
    t.segs[2].words = t.segs[2].cap; /* now x's segment is full too */
    /* Linking to x needs a pad in another segment: a double far. */
    cr_assert(capn_bptr_set_struct(capn_bstruct_ptr(&r, 0), &x));
    uint64_t w = capn_load64_(r.ptrs);
    cr_assert_eq(w & 7, 6, "expected a double-far pointer, got %#llx", (unsigned long long)w);
    cr_assert_eq(w >> 32, 1);
    cr_assert_eq(t.b.err, CAPN_OK);

    struct capn_msg m;
    struct capn_seg segs[4];
    uint8_t *buf;
    cr_assert_eq(reread(&t.b, &m, segs, 4, &buf), CAPN_OK);
    struct capn_struct rs = root_struct(&m);
    for (uint32_t i = 0; i < 2; i++) {
        struct capn_struct xs = capn_ptr_struct(capn_struct_ptr(&rs, i), NULL);
        cr_assert_eq(capn_struct_u64(&xs, 0, 0), 0xabcdef);
        cr_assert_eq(capn_struct_u64(&xs, 8, 0), 0x123456);
    }
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

Test(segments, link_list_and_struct)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 4);
    struct capn_blist l = capn_bptr_init_struct_list(capn_bstruct_ptr(&r, 0), 3, 1, 0);
    struct capn_bstruct e = capn_blist_struct(&l, 2);
    capn_bstruct_set_u64(&e, 0, 99, 0);
    cr_assert(capn_bptr_set_list(capn_bstruct_ptr(&r, 1), &l));
    cr_assert(capn_bptr_set_struct(capn_bstruct_ptr(&r, 2), &e));
    struct capn_bstruct z = capn_bptr_init_struct(capn_bstruct_ptr(&r, 3), 0, 0);
    cr_assert(capn_bptr_set_struct(capn_bstruct_ptr(&r, 3), &z));

    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    struct capn_list l2 = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_COMPOSITE, NULL);
    struct capn_struct e2 = capn_list_struct(&l2, 2);
    cr_assert_eq(capn_struct_u64(&e2, 0, 0), 99);
    struct capn_struct e3 = capn_ptr_struct(capn_struct_ptr(&s, 2), NULL);
    cr_assert_eq(capn_struct_u64(&e3, 0, 0), 99);
    cr_assert_eq(m.err, CAPN_OK);

    /* Objects of another builder are refused. */
    struct tbld o;
    tbld_init(&o);
    struct capn_bstruct foreign = capn_bld_init_root(&o.b, 1, 0);
    cr_assert(!capn_bptr_set_struct(capn_bstruct_ptr(&r, 2), &foreign));
    cr_assert_eq(t.b.err, CAPN_ERR_FOREIGN);
}

static void *grow(void *ctx, size_t min_bytes, size_t *got)
{
    static uint64_t pool[8][8];
    int *next = ctx;
    if (*next == 8 || min_bytes > sizeof(pool[0]))
        return NULL;
    *got = sizeof(pool[0]);
    return pool[(*next)++];
}

Test(segments, more_callback)
{
    struct capn_bld b;
    struct capn_seg segs[8];
    int next = 0;
    capn_bld_init(&b, segs, 8, NULL, 0);
    b.more = grow;
    b.more_ctx = &next;
    build_tree(&b);
    cr_assert_eq(b.err, CAPN_OK);
    cr_assert_eq((int)b.nsegs, next);
    cr_assert_gt(next, 1);
    struct capn_msg m;
    capn_bld_msg(&b, &m);
    check_tree(&m);
}

Test(segments, arena_exhausted)
{
    uint64_t mem[6];
    struct capn_seg segs[1];
    struct capn_bld b;
    capn_bld_init(&b, segs, 1, mem, sizeof(mem));
    struct capn_bstruct r = capn_bld_init_root(&b, 1, 2);
    cr_assert_eq(b.err, CAPN_OK);
    struct capn_bstruct big = capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 100, 0);
    cr_assert_eq(b.err, CAPN_ERR_NO_SPACE);
    cr_assert_null(big.b);
    /* Writes to the failed object are ignored, not out of bounds. */
    capn_bstruct_set_u64(&big, 0, 1, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&big, 0), "x", 1);
    cr_assert(!capn_bptr_set_text(capn_bstruct_ptr(&r, 1), "too long for this arena", 23));
    struct capn_blist l = capn_bptr_init_list(capn_bstruct_ptr(&r, 1), CAPN_EIGHT, 1000);
    capn_blist_set_u64(&l, 5, 1);
    cr_assert_eq(l.len, 0);
    /* What was built is still a valid message. */
    struct capn_msg m;
    capn_bld_msg(&b, &m);
    struct capn_struct s = root_struct(&m);
    cr_assert(capn_ptr_is_null(capn_struct_ptr(&s, 0)));
    cr_assert_eq(m.err, CAPN_OK);
}

Test(segments, too_big)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 1);
    capn_bptr_init_list(capn_bstruct_ptr(&r, 0), CAPN_EIGHT, CAPN_MAX_LIST_LEN + 1);
    cr_assert_eq(t.b.err, CAPN_ERR_TOO_BIG);
    t.b.err = CAPN_OK;
    capn_bptr_init_struct_list(capn_bstruct_ptr(&r, 0), 1u << 20, 65535, 65535);
    cr_assert_eq(t.b.err, CAPN_ERR_TOO_BIG);
}

Test(segments, struct_upgrade_in_builder)
{
    struct tbld t;
    tbld_init_split(&t, 8, 6);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 1);
    struct capn_bstruct old = capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 1, 1);
    capn_bstruct_set_u64(&old, 0, 0x5555, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&old, 0), "kept", 4);
    /* A newer schema asks for 2 data words and 2 pointers. */
    struct capn_bstruct nu = capn_bptr_get_struct(capn_bstruct_ptr(&r, 0), 2, 2);
    cr_assert_eq(nu.data_bytes, 16);
    cr_assert_eq(nu.nptrs, 2);
    cr_assert_eq(capn_bstruct_u64(&nu, 0, 0), 0x5555);
    capn_bstruct_set_u64(&nu, 8, 0x6666, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&nu, 1), "new", 3);
    cr_assert_eq(capn_load64_(old.data), 0); /* the old copy is zeroed */
    /* Asking again for less returns the same struct. */
    struct capn_bstruct again = capn_bptr_get_struct(capn_bstruct_ptr(&r, 0), 1, 1);
    cr_assert_eq(again.data, nu.data);
    cr_assert_eq(t.b.err, CAPN_OK);

    struct capn_msg m;
    struct capn_seg segs[64];
    uint8_t *buf;
    cr_assert_eq(reread(&t.b, &m, segs, 64, &buf), CAPN_OK);
    struct capn_struct s = root_struct(&m);
    struct capn_struct c = capn_ptr_struct(capn_struct_ptr(&s, 0), NULL);
    cr_assert_eq(capn_struct_u64(&c, 0, 0), 0x5555);
    cr_assert_eq(capn_struct_u64(&c, 8, 0), 0x6666);
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&c, 0), NULL, 0).str, "kept");
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&c, 1), NULL, 0).str, "new");
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

Test(segments, overwrite_zeroes_old_object)
{
    struct tbld t;
    tbld_init_split(&t, 16, 4);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 2);
    struct capn_bstruct c = capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 0, 2);
    capn_bptr_set_text(capn_bstruct_ptr(&c, 0), "SECRET1", 7);
    struct capn_blist l = capn_bptr_init_list(capn_bstruct_ptr(&c, 1), CAPN_PTR, 1);
    capn_bptr_set_text(capn_blist_ptr(&l, 0), "SECRET2", 7);
    capn_bptr_set_text(capn_bstruct_ptr(&r, 1), "SECRET3", 7);
    cr_assert(contains((uint8_t *)t.mem, sizeof(t.mem), "SECRET2"));
    capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 1, 0);
    capn_bptr_clear(capn_bstruct_ptr(&r, 1));
    cr_assert(!contains((uint8_t *)t.mem, sizeof(t.mem), "SECRET1"));
    cr_assert(!contains((uint8_t *)t.mem, sizeof(t.mem), "SECRET2"));
    cr_assert(!contains((uint8_t *)t.mem, sizeof(t.mem), "SECRET3"));
    cr_assert_eq(t.b.err, CAPN_OK);
}

Test(segments, overwrite_cycle_terminates)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 1);
    struct capn_bstruct a = capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 1, 2);
    struct capn_bstruct b = capn_bptr_init_struct(capn_bstruct_ptr(&a, 0), 1, 1);
    capn_bptr_set_struct(capn_bstruct_ptr(&b, 0), &a); /* b -> a: a cycle */
    capn_bptr_set_struct(capn_bstruct_ptr(&a, 1), &a); /* a -> a */
    capn_bstruct_set_u64(&a, 0, 1, 0);
    capn_bptr_clear(capn_bstruct_ptr(&r, 0));
    cr_assert_eq(capn_load64_(a.data), 0);
    cr_assert_eq(capn_load64_(b.ptrs), 0);
}

Test(segments, deep_copy_between_messages)
{
    struct tbld src, dst;
    tbld_init_split(&src, 30, 5);
    build_tree(&src.b);
    struct capn_bstruct r = capn_bptr_get_struct(capn_bld_root(&src.b), 1, 3);
    capn_bptr_set_cap(capn_bstruct_ptr(&r, 2), 3); /* replaces the struct list */
    struct capn_msg sm;
    capn_bld_msg(&src.b, &sm);

    tbld_init(&dst);
    cr_assert_eq(capn_bptr_copy(capn_bld_root(&dst.b), capn_msg_root(&sm)), CAPN_OK);
    cr_assert_eq(dst.b.nsegs, 1);
    struct capn_msg m;
    capn_bld_msg(&dst.b, &m);
    struct capn_struct s = root_struct(&m);
    struct capn_struct c = capn_ptr_struct(capn_struct_ptr(&s, 0), NULL);
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&c, 0), NULL, 0).str, "far away text");
    uint32_t idx;
    cr_assert(capn_ptr_cap(capn_struct_ptr(&s, 2), &idx));
    cr_assert_eq(idx, 3);
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_FOUR, NULL);
    cr_assert_eq(capn_list_u32(&l, 4), 16);

    /* Copy single values into fields: a struct reader and a list reader. */
    struct capn_bstruct r2 = capn_bptr_get_struct(capn_bld_root(&dst.b), 1, 3);
    cr_assert_eq(capn_bptr_copy_list(capn_bstruct_ptr(&r2, 2), &l), CAPN_OK);
    struct capn_struct src_root = root_struct(&sm);
    cr_assert_eq(capn_bptr_copy_struct(capn_bstruct_ptr(&r2, 0), &src_root), CAPN_OK);
    struct capn_struct s2 = root_struct(&m);
    struct capn_struct inner = capn_ptr_struct(capn_struct_ptr(&s2, 0), NULL);
    cr_assert_eq(capn_struct_u64(&inner, 0, 0), 0x1111);
    struct capn_list l2 = capn_ptr_list(capn_struct_ptr(&s2, 2), CAPN_FOUR, NULL);
    cr_assert_eq(capn_list_u32(&l2, 3), 9);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(segments, copy_of_malformed_source_writes_null)
{
    /* root -> struct with 2 pointers: one valid text, one out of bounds. */
    uint64_t w[] = {sp(0, 0, 2), lp(1, 2, 3), sp(100, 1, 0), 0x006968};
    struct capn_msg m;
    struct capn_seg sg;
    msg1(&m, &sg, w, 4);
    struct tbld t;
    tbld_init(&t);
    cr_assert_eq(capn_bptr_copy(capn_bld_root(&t.b), capn_msg_root(&m)), CAPN_ERR_BOUNDS);
    struct capn_msg cm;
    capn_bld_msg(&t.b, &cm);
    struct capn_struct s = root_struct(&cm);
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&s, 0), NULL, 0).str, "hi");
    cr_assert(capn_ptr_is_null(capn_struct_ptr(&s, 1)));
    cr_assert_eq(cm.err, CAPN_OK);
}

Test(segments, copy_into_own_subtree_terminates)
{
    /* Copying a struct into one of its own fields re-reads the copy being
     * made; the nesting limit stops it with an error, not a hang. */
    struct tbld t;
    tbld_init(&t);
    build_tree(&t.b);
    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    struct capn_bstruct r = capn_bptr_get_struct(capn_bld_root(&t.b), 1, 3);
    cr_assert_eq(capn_bptr_copy_struct(capn_bstruct_ptr(&r, 0), &s), CAPN_ERR_NESTING);
    cr_assert_eq(t.b.err, CAPN_OK);
}

Test(segments, reset_reuses_dirty_arena)
{
    /* Fill the arena with garbage, then build: everything not written must
     * still read as zero/default (the builder zeroes what it allocates). */
    struct tbld t;
    memset(&t, 0xa5, sizeof(t));
    tbld_init(&t);
    for (int round = 0; round < 2; round++) {
        capn_bld_reset(&t.b);
        struct capn_bstruct r = capn_bld_init_root(&t.b, 2, 4);
        capn_bstruct_set_u8(&r, 3, 1, 0);
        char *tx = capn_bptr_init_text(capn_bstruct_ptr(&r, 0), 5);
        memcpy(tx, "ab", 2); /* the rest stays NUL */
        capn_bptr_set_text(capn_bstruct_ptr(&r, 1), "xyz", 3);
        capn_bptr_init_data(capn_bstruct_ptr(&r, 2), 0);
        capn_bptr_init_list(capn_bstruct_ptr(&r, 3), CAPN_BIT, 70);
        cr_assert_eq(t.b.err, CAPN_OK);

        struct capn_msg m;
        capn_bld_msg(&t.b, &m);
        struct capn_struct s = root_struct(&m);
        cr_assert_eq(capn_struct_u64(&s, 0, 0), (uint64_t)1 << 24);
        cr_assert_eq(capn_struct_u64(&s, 8, 0), 0);
        struct capn_text t0 = capn_ptr_text(capn_struct_ptr(&s, 0), NULL, 0);
        cr_assert_eq(t0.len, 5);
        cr_assert_arr_eq(t0.str, "ab\0\0\0", 6);
        cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&s, 1), NULL, 0).str, "xyz");
        struct capn_data d = capn_ptr_data(capn_struct_ptr(&s, 2), NULL, 0);
        cr_assert_eq(d.len, 0);
        cr_assert(!capn_ptr_is_null(capn_struct_ptr(&s, 2)));
        struct capn_list bits = capn_ptr_list(capn_struct_ptr(&s, 3), CAPN_BIT, NULL);
        for (uint32_t i = 0; i < 70; i++)
            cr_assert(!capn_list_bool(&bits, i));
        cr_assert_eq(m.err, CAPN_OK);
        /* Padding after the text is zero too, so frames are deterministic. */
        const uint8_t *w = (const uint8_t *)t.mem;
        for (uint32_t i = 0; i < t.segs[0].words * 8; i++)
            cr_assert_neq(w[i], 0xa5, "byte %u of the message is stale", i);
    }
}
