/*
 * Generated accessors for tests/capnpc/test.capnp, on their own: builders
 * and readers agree, defaults, unions, groups, lists, capabilities,
 * constants, and small arenas. Agreement with the official implementation
 * is test_oracle.c's job.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "testgen.h"

/* A builder over a fixed arena, read back in place. */
struct tb {
    struct capn_bld b;
    struct capn_seg segs[32];
    uint64_t mem[8192];
    struct capn_msg m;
};

static All_b tb_init(struct tb *t)
{
    capn_bld_init(&t->b, t->segs, 32, t->mem, sizeof(t->mem));
    return All_build_root(&t->b);
}

static All_r tb_read(struct tb *t)
{
    cr_assert_eq(t->b.err, CAPN_OK, "builder error %s", capn_err_str(t->b.err));
    capn_bld_msg(&t->b, &t->m);
    return All_read_root(&t->m);
}

static struct tb *tb_new(void)
{
    struct tb *t = calloc(1, sizeof(*t));
    cr_assert_not_null(t);
    return t;
}

Test(capnpc_accessors, full_roundtrip)
{
    struct tb *t = tb_new();
    build_full(tb_init(t));
    check_full(tb_read(t));
    cr_expect_eq(t->m.err, CAPN_OK);
    free(t);
}

Test(capnpc_accessors, full_roundtrip_multisegment)
{
    /* Tiny segments force far pointers and landing pads everywhere. */
    struct tb *t = tb_new();
    capn_bld_init(&t->b, t->segs, 32, NULL, 0);
    uint32_t words[] = {1, 40, 3, 2, 8, 5, 3, 7, 4, 12, 6, 9, 3, 3, 200, 400};
    size_t at = 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        capn_bld_add_seg(&t->b, t->mem + at, words[i] * 8);
        at += words[i];
    }
    build_full(All_build_root(&t->b));
    check_full(tb_read(t));
    cr_expect_gt(t->b.nsegs, 4);
    free(t);
}

Test(capnpc_accessors, defaults_of_empty_and_null)
{
    struct tb *t = tb_new();
    tb_init(t);
    check_defaults(tb_read(t));
    /* A null root and a message without segments read as defaults too. */
    struct capn_msg m;
    capn_msg_init(&m, NULL, 0);
    check_defaults(All_read_root(&m));
    free(t);
}

Test(capnpc_accessors, setting_a_default_writes_zero)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    All_set_dI32(b, -320000);
    All_set_dBool(b, true);
    All_set_dF64(b, -1.25e100);
    All_set_dU64(b, 18000000000000000000u);
    for (uint32_t i = 0; i < b.s.data_bytes; i++)
        cr_expect_eq(b.s.data[i], 0, "data byte %u", i);
    All_set_dI32(b, 0);
    cr_expect_eq(All_get_dI32(tb_read(t)), 0);
    free(t);
}

Test(capnpc_accessors, float_bits)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    All_set_f64_bits(b, 0x400921fb54442d18ull);
    All_set_dF32_bits(b, 0x40600000u); /* 3.5, the default */
    All_r r = tb_read(t);
    cr_expect_eq(All_get_f64(r), 3.141592653589793);
    cr_expect_eq(All_get_dF32(r), 3.5f);
    cr_expect_eq(All_get_dF32_bits(r), 0x40600000u);
    free(t);
}

Test(capnpc_accessors, unions)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    All_r r = tb_read(t);
    cr_expect_eq(All_which(r), All_which_none);
    All_set_num(b, 77);
    cr_expect_eq(All_which(r), All_which_num);
    cr_expect_eq(All_get_num(r), 77);
    Inner_set_a(All_init_obj(b), 5);
    cr_expect_eq(All_which(r), All_which_obj);
    cr_expect_eq(Inner_get_a(All_get_obj(r)), 5);
    All_grpU_b gu = All_init_grpU(b);
    All_grpU_set_x(gu, 9);
    All_grpU_set_y(gu, "why", 3);
    cr_expect_eq(All_which(r), All_which_grpU);
    cr_expect_eq(All_grpU_get_x(All_get_grpU(r)), 9);
    expect_text(All_grpU_get_y(All_get_grpU(r)), "why");
    All_set_none(b);
    cr_expect_eq(All_which(r), All_which_none);

    All_choice_b ch = All_init_choice(b);
    All_choice_set_second(ch, 2.5f);
    cr_expect_eq(All_choice_which(All_get_choice(r)), All_choice_which_second);
    cr_expect_eq(All_choice_get_second(All_get_choice(r)), 2.5f);
    All_choice_set_first(ch, -300);
    cr_expect_eq(All_choice_which(All_get_choice(r)), All_choice_which_first);
    cr_expect_eq(All_choice_get_first(All_get_choice(r)), -300);
    free(t);
}

Test(capnpc_accessors, group_init_clears)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    All_grp_b g = All_init_grp(b);
    All_grp_set_ga(g, 5);
    All_grp_set_gb(g, "gb", 2);
    All_grp_set_gy(g, true);
    All_grp_sub_set_deep(All_grp_init_sub(g), 77);
    All_set_u32(b, 1234); /* outside the group: stays */
    All_init_grp(b);
    All_r r = tb_read(t);
    All_grp_r gr = All_get_grp(r);
    cr_expect_eq(All_grp_get_ga(gr), 0);
    cr_expect(!All_grp_has_gb(gr));
    cr_expect_eq(All_grp_which(gr), All_grp_which_gx);
    cr_expect_eq(All_grp_get_gy(gr), false);
    cr_expect_eq(All_grp_sub_get_deep(All_grp_get_sub(gr)), 0);
    cr_expect_eq(All_get_u32(r), 1234);
    free(t);
}

Test(capnpc_accessors, copy_setters)
{
    struct tb *src = tb_new(), *dst = tb_new();
    build_full(tb_init(src));
    All_r r = tb_read(src);
    All_b b = tb_init(dst);
    cr_expect_eq(All_set_inner(b, All_get_inner(r)), CAPN_OK);
    cr_expect_eq(All_set_inners(b, All_get_inners(r)), CAPN_OK);
    cr_expect_eq(All_set_deep(b, All_get_deep(r)), CAPN_OK);
    cr_expect_eq(All_set_self(b, r), CAPN_OK);
    All_r c = tb_read(dst);
    expect_inner(All_get_inner(c), 42, "inner", Color_blue);
    expect_inner(List_Inner_get(All_get_inners(c), 2), 0, "three", Color_red);
    expect_text(
        List_Text_get(List_List_Text_get(List_List_List_Text_get(All_get_deep(c), 1), 0), 0), "y");
    check_full(All_get_self(c));
    free(src);
    free(dst);
}

Test(capnpc_accessors, any_pointer)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    Inner_b in = Inner_build(All_init_any(b));
    Inner_set_a(in, 31);
    All_r r = tb_read(t);
    cr_expect(All_has_any(r));
    cr_expect_eq(capn_ptr_type(All_get_any(r)), CAPN_PT_STRUCT);
    cr_expect_eq(Inner_get_a(Inner_read(All_get_any(r))), 31);
    /* Reused as a list, and copied from another reader. */
    List_UInt32_b l = {capn_bptr_init_list(All_init_any(b), CAPN_FOUR, 2)};
    List_UInt32_set(l, 1, 99);
    List_UInt32_r lr = {capn_ptr_list(All_get_any(r), CAPN_FOUR, NULL)};
    cr_expect_eq(List_UInt32_get(lr, 1), 99);
    struct tb *o = tb_new();
    All_set_u32(tb_init(o), 9);
    tb_read(o);
    cr_expect_eq(All_set_any(b, capn_msg_root(&o->m)), CAPN_OK);
    cr_expect_eq(All_get_u32(All_read(All_get_any(tb_read(t)))), 9);
    free(o);
    free(t);
}

Test(capnpc_accessors, capabilities)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    All_set_cap(b, 3);
    List_Service_b caps = All_init_caps(b, 2);
    List_Service_set(caps, 0, 1);
    List_Service_set(caps, 1, 4);
    All_set_anyCap(b, 2);
    List_Capability_set(All_init_anyCaps(b, 1), 0, 0);
    All_r r = tb_read(t);
    t->m.cap_count = 5;
    cr_expect(All_has_cap(r));
    cr_expect_eq(All_get_cap(r), 3);
    cr_expect_eq(List_Service_get(All_get_caps(r), 1), 4);
    cr_expect_eq(All_get_anyCap(r), 2);
    cr_expect_eq(List_Capability_get(All_get_anyCaps(r), 0), 0);
    /* An index beyond the capability table is invalid. */
    t->m.cap_count = 2;
    cr_expect_eq(All_get_cap(r), CAPNPC_NO_CAP);
    cr_expect_eq(List_Service_get(All_get_caps(r), 0), 1);
    cr_expect_eq(List_Service_get(All_get_caps(r), 1), CAPNPC_NO_CAP);
    cr_expect_neq(t->m.err, CAPN_OK);
    free(t);
}

Test(capnpc_accessors, text_and_data_init)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    char *s = All_init_text(b, 3);
    cr_assert_not_null(s);
    memcpy(s, "abc", 3);
    uint8_t *d = All_init_data(b, 2);
    cr_assert_not_null(d);
    d[0] = 1;
    d[1] = 2;
    char *e = List_Text_init(All_init_texts(b, 1), 0, 1);
    cr_assert_not_null(e);
    e[0] = 'q';
    All_r r = tb_read(t);
    expect_text(All_get_text(r), "abc");
    cr_expect(All_get_data(r).len == 2 && All_get_data(r).ptr[1] == 2);
    expect_text(List_Text_get(All_get_texts(r), 0), "q");
    free(t);
}

Test(capnpc_accessors, constants)
{
    cr_expect_eq(constU32, 42);
    cr_expect_eq(constI64, -5);
    cr_expect_eq(constF64, 6.25);
    cr_expect_eq(constF64_BITS, 0x4019000000000000ull);
    cr_expect_eq(constF32, -0.5f);
    cr_expect_eq(constBool, true);
    expect_text(constText, "const text");
    cr_expect(constData.len == 2 && constData.ptr[0] == 1 && constData.ptr[1] == 2);
    cr_expect_eq(constColor, Color_blue);
    expect_inner(constInner(), 99, "ninety-nine", Color_green);
    List_UInt16_r l = constList();
    cr_expect_eq(List_UInt16_len(l), 3);
    cr_expect_eq(List_UInt16_get(l, 2), 30);
    expect_text(List_Text_get(constTexts(), 1), "q");
}

Test(capnpc_accessors, enums_and_ids)
{
    cr_expect_eq(Color_COUNT, 3);
    cr_expect_str_eq(Color_NAMES[Color_blue], "blue");
    cr_expect_str_eq(Outer_Nested_Kind_NAMES[1], "two");
    cr_expect_eq(test_FILE_ID, 0x8e14c024e8c7c6dbull);
    cr_expect_eq(Service_METHOD_COUNT, 10);
    cr_expect_eq(Service_keywords_METHOD, 9);
    cr_expect_eq(Empty_METHOD_COUNT, 0);
    cr_expect_eq(test_INTERFACE_COUNT, 3);
    cr_expect_eq(capnpc_find_iface(test_INTERFACES, test_INTERFACE_COUNT, Service_INTERFACE_ID),
                 &Service_IFACE);
    cr_expect_null(capnpc_find_iface(test_INTERFACES, test_INTERFACE_COUNT, 1));
    const struct capnpc_iface *sub = &SubService_IFACE;
    cr_expect_str_eq(sub->name, "SubService");
    cr_expect_eq(sub->super_count, 1);
    cr_expect_eq(sub->supers[0], Service_INTERFACE_ID);
    cr_expect_str_eq(Service_METHODS[Service_echo_METHOD].name, "echo");
}

Test(capnpc_accessors, small_arena_fails_cleanly)
{
    /* Nothing fits after the root: writes are dropped, the error is kept. */
    uint64_t mem[All_DATA_WORDS + All_PTR_COUNT + 1];
    struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init(&b, &seg, 1, mem, sizeof(mem));
    All_b a = All_build_root(&b);
    cr_assert_eq(b.err, CAPN_OK);
    All_set_u32(a, 5);
    cr_expect_not(All_set_text(a, "too long to fit", 15));
    Inner_b in = All_init_inner(a);
    Inner_set_a(in, 1); /* ignored */
    Inner_set_a(List_Inner_at(All_init_inners(a, 3), 0), 1);
    cr_expect_eq(b.err, CAPN_ERR_NO_SPACE);
    struct capn_msg m;
    capn_bld_msg(&b, &m);
    All_r r = All_read_root(&m);
    cr_expect_eq(All_get_u32(r), 5);
    cr_expect(!All_has_inner(r));
}

/* The pointer slot a freshly initialised field uses. */
static uint32_t slot_of(All_b b, void (*init)(All_b))
{
    init(b);
    for (uint32_t i = 0; i < b.s.nptrs; i++)
        if (!capn_bptr_is_null(capn_bstruct_ptr(&b.s, i)))
            return i;
    cr_assert_fail("no pointer set");
    return 0;
}

static void init_inner(All_b b)
{
    All_init_inner(b);
}

static void init_dinner(All_b b)
{
    All_init_dInner(b);
}

Test(capnpc_accessors, wrong_pointer_kinds_read_as_defaults)
{
    struct tb *t = tb_new();
    All_b b = tb_init(t);
    uint32_t inner = slot_of(b, init_inner);
    capn_bld_reset(&t->b);
    b = All_build_root(&t->b);
    uint32_t dinner = slot_of(b, init_dinner);
    capn_bld_reset(&t->b);
    b = All_build_root(&t->b);
    /* Lists where structs belong. */
    capn_bptr_init_list(capn_bstruct_ptr(&b.s, inner), CAPN_FOUR, 1);
    capn_bptr_init_list(capn_bstruct_ptr(&b.s, dinner), CAPN_FOUR, 1);
    All_r r = tb_read(t);
    expect_inner(All_get_inner(r), 0, "", Color_green);
    cr_expect_eq(t->m.err, CAPN_ERR_PTR_KIND);
    expect_inner(All_get_dInner(r), 7, "seven", Color_red);
    free(t);
}
