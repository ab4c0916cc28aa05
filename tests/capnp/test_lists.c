/*
 * Lists of every element size through the builder and reader, and the
 * schema-evolution rules for reading a list as a different element type.
 */
#include <criterion/criterion.h>

#include "testutil.h"

static struct capn_struct reread_root(struct tbld *t, struct capn_msg *m, struct capn_seg *segs,
                                      uint8_t **buf)
{
    cr_assert_eq(t->b.err, CAPN_OK);
    cr_assert_eq(reread(&t->b, m, segs, 8, buf), CAPN_OK);
    return root_struct(m);
}

Test(lists, primitive_sizes)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 6);
    struct capn_blist lv = capn_bptr_init_list(capn_bstruct_ptr(&r, 0), CAPN_VOID, 1000);
    struct capn_blist lb = capn_bptr_init_list(capn_bstruct_ptr(&r, 1), CAPN_BIT, 130);
    struct capn_blist l8 = capn_bptr_init_list(capn_bstruct_ptr(&r, 2), CAPN_BYTE, 9);
    struct capn_blist l16 = capn_bptr_init_list(capn_bstruct_ptr(&r, 3), CAPN_TWO, 5);
    struct capn_blist l32 = capn_bptr_init_list(capn_bstruct_ptr(&r, 4), CAPN_FOUR, 3);
    struct capn_blist l64 = capn_bptr_init_list(capn_bstruct_ptr(&r, 5), CAPN_EIGHT, 2);
    cr_assert_eq(lv.len, 1000);
    for (uint32_t i = 0; i < 130; i++)
        capn_blist_set_bool(&lb, i, i % 7 == 1);
    for (uint32_t i = 0; i < 9; i++)
        capn_blist_set_u8(&l8, i, (uint8_t)(i * 30));
    for (uint32_t i = 0; i < 5; i++)
        capn_blist_set_i16(&l16, i, (int16_t)(-1000 * (int)i));
    for (uint32_t i = 0; i < 3; i++)
        capn_blist_set_u32(&l32, i, 0xdead0000u + i);
    capn_blist_set_f64(&l64, 0, 0.5);
    capn_blist_set_i64(&l64, 1, -7);
    /* Out of range and too-small element writes are ignored. */
    capn_blist_set_u8(&l8, 9, 1);
    capn_blist_set_u64(&l32, 0, 1);
    cr_assert_eq(capn_blist_u32(&l32, 0), 0xdead0000u);
    /* 130 bits take 3 words; 9 bytes 2; sizes are exact. */
    cr_assert_eq(t.segs[0].words, 1 + 6 + 0 + 3 + 2 + 2 + 2 + 2);

    struct capn_msg m;
    struct capn_seg segs[8];
    uint8_t *buf;
    struct capn_struct s = reread_root(&t, &m, segs, &buf);
    struct capn_list v = capn_ptr_list(capn_struct_ptr(&s, 0), CAPN_VOID, NULL);
    struct capn_list b = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_BIT, NULL);
    struct capn_list b8 = capn_ptr_list(capn_struct_ptr(&s, 2), CAPN_BYTE, NULL);
    struct capn_list b16 = capn_ptr_list(capn_struct_ptr(&s, 3), CAPN_TWO, NULL);
    struct capn_list b32 = capn_ptr_list(capn_struct_ptr(&s, 4), CAPN_FOUR, NULL);
    struct capn_list b64 = capn_ptr_list(capn_struct_ptr(&s, 5), CAPN_EIGHT, NULL);
    cr_assert_eq(v.len, 1000);
    cr_assert_eq(b.len, 130);
    for (uint32_t i = 0; i < 130; i++)
        cr_assert_eq(capn_list_bool(&b, i), i % 7 == 1, "bit %u", i);
    cr_assert(!capn_list_bool(&b, 130));
    for (uint32_t i = 0; i < 9; i++)
        cr_assert_eq(capn_list_u8(&b8, i), (uint8_t)(i * 30));
    for (uint32_t i = 0; i < 5; i++)
        cr_assert_eq(capn_list_i16(&b16, i), -1000 * (int)i);
    for (uint32_t i = 0; i < 3; i++)
        cr_assert_eq(capn_list_u32(&b32, i), 0xdead0000u + i);
    cr_assert_eq(capn_list_f64(&b64, 0), 0.5);
    cr_assert_eq(capn_list_i64(&b64, 1), -7);
    cr_assert_eq(capn_list_u32(&b32, 3), 0); /* out of range */
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

Test(lists, pointer_and_nested_lists)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 2);
    struct capn_blist texts = capn_bptr_init_list(capn_bstruct_ptr(&r, 0), CAPN_PTR, 3);
    capn_bptr_set_text(capn_blist_ptr(&texts, 0), "one", 3);
    capn_bptr_set_text(capn_blist_ptr(&texts, 2), "three", 5);
    struct capn_blist outer = capn_bptr_init_list(capn_bstruct_ptr(&r, 1), CAPN_PTR, 2);
    struct capn_blist in0 = capn_bptr_init_list(capn_blist_ptr(&outer, 0), CAPN_TWO, 2);
    capn_blist_set_u16(&in0, 0, 10);
    capn_blist_set_u16(&in0, 1, 20);
    capn_bptr_init_list(capn_blist_ptr(&outer, 1), CAPN_TWO, 0);

    struct capn_msg m;
    struct capn_seg segs[8];
    uint8_t *buf;
    struct capn_struct s = reread_root(&t, &m, segs, &buf);
    struct capn_list lt = capn_ptr_list(capn_struct_ptr(&s, 0), CAPN_PTR, NULL);
    cr_assert_eq(lt.len, 3);
    cr_assert_str_eq(capn_ptr_text(capn_list_ptr(&lt, 0), NULL, 0).str, "one");
    cr_assert(capn_ptr_is_null(capn_list_ptr(&lt, 1)));
    cr_assert_str_eq(capn_ptr_text(capn_list_ptr(&lt, 2), NULL, 0).str, "three");
    struct capn_list lo = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_PTR, NULL);
    struct capn_list li = capn_ptr_list(capn_list_ptr(&lo, 0), CAPN_TWO, NULL);
    cr_assert_eq(capn_list_u16(&li, 1), 20);
    struct capn_list le = capn_ptr_list(capn_list_ptr(&lo, 1), CAPN_TWO, NULL);
    cr_assert_not_null(le.seg);
    cr_assert_eq(le.len, 0);
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

Test(lists, struct_lists)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 2);
    struct capn_blist l = capn_bptr_init_struct_list(capn_bstruct_ptr(&r, 0), 4, 1, 1);
    for (uint32_t i = 0; i < 4; i++) {
        struct capn_bstruct e = capn_blist_struct(&l, i);
        capn_bstruct_set_u32(&e, 0, 100 + i, 0);
        if (i % 2 == 0)
            capn_bptr_set_text(capn_bstruct_ptr(&e, 0), "even", 4);
    }
    /* Zero-sized elements: a tag and nothing else. */
    struct capn_blist z = capn_bptr_init_struct_list(capn_bstruct_ptr(&r, 1), 50, 0, 0);
    cr_assert_eq(z.len, 50);

    struct capn_msg m;
    struct capn_seg segs[8];
    uint8_t *buf;
    struct capn_struct s = reread_root(&t, &m, segs, &buf);
    struct capn_list sl = capn_ptr_list(capn_struct_ptr(&s, 0), CAPN_COMPOSITE, NULL);
    cr_assert_eq(sl.len, 4);
    cr_assert_eq(sl.esize, CAPN_COMPOSITE);
    for (uint32_t i = 0; i < 4; i++) {
        struct capn_struct e = capn_list_struct(&sl, i);
        cr_assert_eq(capn_struct_u32(&e, 0, 0), 100 + i);
        struct capn_text tx = capn_ptr_text(capn_struct_ptr(&e, 0), "", 0);
        cr_assert_str_eq(tx.str, i % 2 == 0 ? "even" : "");
    }
    cr_assert_null(capn_list_struct(&sl, 4).seg);
    struct capn_list zl = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_COMPOSITE, NULL);
    cr_assert_eq(zl.len, 50);
    struct capn_struct ze = capn_list_struct(&zl, 49);
    cr_assert_eq(ze.data_bytes, 0);
    cr_assert_eq(capn_struct_u8(&ze, 0, 5), 5);
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

/* Build {u32 list [1,2,3], struct list [(a=7,p="x"),(a=8)], text list,
 * bit list, u8 list, u64 list, pointer-only struct list} for the rules. */
static struct capn_struct upgrade_fixture(struct tbld *t, struct capn_msg *m)
{
    tbld_init(t);
    struct capn_bstruct r = capn_bld_init_root(&t->b, 0, 7);
    struct capn_blist a = capn_bptr_init_list(capn_bstruct_ptr(&r, 0), CAPN_FOUR, 3);
    for (uint32_t i = 0; i < 3; i++)
        capn_blist_set_u32(&a, i, i + 1);
    struct capn_blist sl = capn_bptr_init_struct_list(capn_bstruct_ptr(&r, 1), 2, 1, 1);
    struct capn_bstruct e0 = capn_blist_struct(&sl, 0), e1 = capn_blist_struct(&sl, 1);
    capn_bstruct_set_u32(&e0, 0, 7, 0);
    capn_bstruct_set_u32(&e1, 0, 8, 0);
    capn_bptr_set_text(capn_bstruct_ptr(&e0, 0), "x", 1);
    struct capn_blist tl = capn_bptr_init_list(capn_bstruct_ptr(&r, 2), CAPN_PTR, 2);
    capn_bptr_set_text(capn_blist_ptr(&tl, 1), "yz", 2);
    capn_bptr_init_list(capn_bstruct_ptr(&r, 3), CAPN_BIT, 5);
    struct capn_blist u8 = capn_bptr_init_list(capn_bstruct_ptr(&r, 4), CAPN_BYTE, 2);
    capn_blist_set_u8(&u8, 1, 0x7f);
    struct capn_blist u64 = capn_bptr_init_list(capn_bstruct_ptr(&r, 5), CAPN_EIGHT, 2);
    capn_blist_set_u64(&u64, 1, 0x1122334455667788ull);
    capn_bptr_init_struct_list(capn_bstruct_ptr(&r, 6), 2, 0, 1);
    capn_bld_msg(&t->b, m);
    return root_struct(m);
}

Test(lists, primitive_read_as_struct_list)
{
    struct tbld t;
    struct capn_msg m;
    struct capn_struct s = upgrade_fixture(&t, &m);
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&s, 0), CAPN_COMPOSITE, NULL);
    cr_assert_eq(l.len, 3);
    struct capn_struct e = capn_list_struct(&l, 2);
    cr_assert_eq(e.data_bytes, 4);
    cr_assert_eq(capn_struct_u32(&e, 0, 0), 3);
    cr_assert_eq(capn_struct_u32(&e, 4, 99), 99); /* a field added later */
    cr_assert_eq(e.nptrs, 0);
    /* A text list as a struct list: each element is a pointer section. */
    struct capn_list tl = capn_ptr_list(capn_struct_ptr(&s, 2), CAPN_COMPOSITE, NULL);
    struct capn_struct te = capn_list_struct(&tl, 1);
    cr_assert_eq(te.data_bytes, 0);
    cr_assert_eq(te.nptrs, 1);
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&te, 0), NULL, 0).str, "yz");
    cr_assert_eq(m.err, CAPN_OK);
}

Test(lists, struct_list_read_as_first_field)
{
    struct tbld t;
    struct capn_msg m;
    struct capn_struct s = upgrade_fixture(&t, &m);
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_FOUR, NULL);
    cr_assert_eq(l.len, 2);
    cr_assert_eq(capn_list_u32(&l, 0), 7);
    cr_assert_eq(capn_list_u32(&l, 1), 8);
    struct capn_list p = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_PTR, NULL);
    cr_assert_str_eq(capn_ptr_text(capn_list_ptr(&p, 0), NULL, 0).str, "x");
    cr_assert(capn_ptr_is_null(capn_list_ptr(&p, 1)));
    /* Wider primitive lists read as narrower keep their stride. */
    struct capn_list n = capn_ptr_list(capn_struct_ptr(&s, 5), CAPN_BYTE, NULL);
    cr_assert_eq(capn_list_u8(&n, 1), 0x88);
    cr_assert_eq(m.err, CAPN_OK);
}

static void expect_elem_error(struct capn_struct *s, struct capn_msg *m, uint32_t field,
                              enum capn_esize want)
{
    m->err = CAPN_OK;
    struct capn_list l = capn_ptr_list(capn_struct_ptr(s, field), want, NULL);
    cr_assert_null(l.seg, "field %u as %d", field, want);
    cr_assert_eq(l.len, 0);
    cr_assert_eq(m->err, CAPN_ERR_ELEM_SIZE, "field %u as %d: %s", field, want,
                 capn_err_str(m->err));
}

Test(lists, incompatible_element_sizes)
{
    struct tbld t;
    struct capn_msg m;
    struct capn_struct s = upgrade_fixture(&t, &m);
    expect_elem_error(&s, &m, 4, CAPN_FOUR);      /* u8 list as u32 */
    expect_elem_error(&s, &m, 3, CAPN_COMPOSITE); /* bit list as structs */
    expect_elem_error(&s, &m, 3, CAPN_BYTE);      /* bit list as bytes */
    expect_elem_error(&s, &m, 1, CAPN_BIT);       /* struct list as bits */
    /* A u32 list read as bools sees bit 0 of each element (values 1, 2, 3). */
    m.err = CAPN_OK;
    struct capn_list b = capn_ptr_list(capn_struct_ptr(&s, 0), CAPN_BIT, NULL);
    cr_assert_eq(b.len, 3);
    cr_assert(capn_list_bool(&b, 0) && !capn_list_bool(&b, 1) && capn_list_bool(&b, 2));
    cr_assert_eq(m.err, CAPN_OK);
}

Test(lists, incompatible_element_sizes_2)
{
    struct tbld t;
    struct capn_msg m;
    struct capn_struct s = upgrade_fixture(&t, &m);
    expect_elem_error(&s, &m, 2, CAPN_EIGHT); /* pointers as u64 */
    expect_elem_error(&s, &m, 5, CAPN_PTR);   /* u64 as pointers */
    expect_elem_error(&s, &m, 6, CAPN_FOUR);  /* pointer-only structs as u32 */
    expect_elem_error(&s, &m, 0, CAPN_PTR);   /* u32 as pointers */
    m.err = CAPN_OK;
    /* Void accepts anything but bits; any accepts everything. */
    cr_assert_not_null(capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_VOID, NULL).seg);
    cr_assert_not_null(capn_ptr_list(capn_struct_ptr(&s, 3), CAPN_ANY, NULL).seg);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(lists, text_and_data_need_byte_lists)
{
    struct tbld t;
    struct capn_msg m;
    struct capn_struct s = upgrade_fixture(&t, &m);
    struct capn_text tx = capn_ptr_text(capn_struct_ptr(&s, 0), "dflt", 4);
    cr_assert_str_eq(tx.str, "dflt");
    cr_assert_eq(m.err, CAPN_ERR_ELEM_SIZE);
    m.err = CAPN_OK;
    struct capn_data d = capn_ptr_data(capn_struct_ptr(&s, 1), NULL, 0);
    cr_assert_eq(d.len, 0);
    cr_assert_eq(m.err, CAPN_ERR_ELEM_SIZE);
    m.err = CAPN_OK;
    /* A byte list without a trailing NUL is not text, but is data. */
    struct capn_text t4 = capn_ptr_text(capn_struct_ptr(&s, 4), NULL, 0);
    cr_assert_eq(t4.len, 0);
    cr_assert_str_eq(t4.str, "");
    cr_assert_eq(m.err, CAPN_ERR_TEXT);
    m.err = CAPN_OK;
    cr_assert_eq(capn_ptr_data(capn_struct_ptr(&s, 4), NULL, 0).len, 2);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(lists, builder_get_list)
{
    struct tbld t;
    struct capn_msg m;
    upgrade_fixture(&t, &m);
    struct capn_bstruct r = capn_bptr_get_struct(capn_bld_root(&t.b), 0, 7);
    struct capn_blist l = capn_bptr_get_list(capn_bstruct_ptr(&r, 0), CAPN_FOUR);
    cr_assert_eq(l.len, 3);
    capn_blist_set_u32(&l, 1, 42);
    struct capn_struct s = root_struct(&m);
    struct capn_list rl = capn_ptr_list(capn_struct_ptr(&s, 0), CAPN_FOUR, NULL);
    cr_assert_eq(capn_list_u32(&rl, 1), 42);
    /* Incompatible: null list and an error in the builder. */
    struct capn_blist bad = capn_bptr_get_list(capn_bstruct_ptr(&r, 4), CAPN_EIGHT);
    cr_assert_null(bad.b);
    cr_assert_eq(t.b.err, CAPN_ERR_ELEM_SIZE);
}
