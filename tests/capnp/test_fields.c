/*
 * Round trips of struct fields through the builder and the reader:
 * primitives with XOR defaults, bools, floats, text, data, nested structs,
 * unions, groups, enums, capabilities, AnyPointer and pointer defaults.
 */
#include <criterion/criterion.h>

#include "testutil.h"

/* Layout of a test struct: 4 data words, 4 pointers. */
enum { DW = 4, NP = 4 };

Test(fields, primitives_roundtrip)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, DW, NP);
    capn_bstruct_set_u8(&b, 0, 0xab, 0);
    capn_bstruct_set_i8(&b, 1, -5, 0);
    capn_bstruct_set_u16(&b, 2, 0xbeef, 0);
    capn_bstruct_set_i32(&b, 4, -123456, 0);
    capn_bstruct_set_u64(&b, 8, 0x0123456789abcdefull, 0);
    capn_bstruct_set_i64(&b, 16, INT64_MIN, 0);
    capn_bstruct_set_i16(&b, 24, -2, 0);
    capn_bstruct_set_u32(&b, 28, 0xffffffffu, 0);
    cr_assert_eq(t.b.err, CAPN_OK);

    struct capn_msg m;
    struct capn_seg segs[4];
    uint8_t *buf;
    cr_assert_eq(reread(&t.b, &m, segs, 4, &buf), CAPN_OK);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_u8(&s, 0, 0), 0xab);
    cr_assert_eq(capn_struct_i8(&s, 1, 0), -5);
    cr_assert_eq(capn_struct_u16(&s, 2, 0), 0xbeef);
    cr_assert_eq(capn_struct_i32(&s, 4, 0), -123456);
    cr_assert_eq(capn_struct_u64(&s, 8, 0), 0x0123456789abcdefull);
    cr_assert_eq(capn_struct_i64(&s, 16, 0), INT64_MIN);
    cr_assert_eq(capn_struct_i16(&s, 24, 0), -2);
    cr_assert_eq(capn_struct_u32(&s, 28, 0), 0xffffffffu);
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

Test(fields, xor_defaults)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, DW, NP);
    /* Setting the default value writes zeros. */
    capn_bstruct_set_i32(&b, 0, 1234, 1234);
    capn_bstruct_set_u16(&b, 4, 7, 99);
    capn_bstruct_set_bool(&b, 48, true, true);
    capn_bstruct_set_bool(&b, 49, false, true);
    cr_assert_eq(capn_load64_(b.data), (uint64_t)(7 ^ 99) << 32 | (uint64_t)1 << 49);
    cr_assert_eq(capn_bstruct_i32(&b, 0, 1234), 1234);
    cr_assert_eq(capn_bstruct_u16(&b, 4, 99), 7);
    cr_assert(capn_bstruct_bool(&b, 48, true));
    cr_assert(!capn_bstruct_bool(&b, 49, true));

    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_i32(&s, 0, 1234), 1234);
    cr_assert_eq(capn_struct_u16(&s, 4, 99), 7);
    cr_assert(capn_struct_bool(&s, 48, true));
    cr_assert(!capn_struct_bool(&s, 49, true));
    /* Unset fields read as their defaults. */
    cr_assert_eq(capn_struct_u64(&s, 8, 42), 42);
    cr_assert_eq(capn_struct_i8(&s, 16, -3), -3);
}

Test(fields, outside_data_section_reads_default)
{
    /* A struct written by an older schema: 1 data word, no pointers. */
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, 1, 0);
    capn_bstruct_set_u64(&b, 0, 5, 0);
    /* Writes beyond the section are dropped, not out of bounds. */
    capn_bstruct_set_u64(&b, 8, 6, 0);
    capn_bstruct_set_bool(&b, 64, true, false);
    cr_assert(capn_bptr_is_null(capn_bstruct_ptr(&b, 0)));

    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_u64(&s, 0, 0), 5);
    cr_assert_eq(capn_struct_u64(&s, 8, 77), 77);
    cr_assert_eq(capn_struct_u32(&s, 6, 9), 9); /* straddles the end */
    cr_assert(capn_struct_bool(&s, 64, true));
    cr_assert_eq(capn_struct_u32(&s, UINT32_MAX - 1, 3), 3);
    struct capn_text tx = capn_ptr_text(capn_struct_ptr(&s, 3), "dflt", 4);
    cr_assert_str_eq(tx.str, "dflt");
    cr_assert_eq(m.err, CAPN_OK);
}

Test(fields, bools)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, 2, 0);
    for (uint32_t i = 0; i < 128; i++)
        capn_bstruct_set_bool(&b, i, i % 3 == 0, false);
    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    for (uint32_t i = 0; i < 128; i++)
        cr_assert_eq(capn_struct_bool(&s, i, false), i % 3 == 0, "bit %u", i);
}

Test(fields, floats)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, 2, 0);
    float fd = 2.5f;
    uint32_t fdb;
    memcpy(&fdb, &fd, 4);
    capn_bstruct_set_f32(&b, 0, 1.25f, fdb);
    capn_bstruct_set_f64(&b, 8, -3.5e100, 0);
    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_f32(&s, 0, fdb), 1.25f);
    cr_assert_eq(capn_struct_f64(&s, 8, 0), -3.5e100);
    /* Absent: the default's bit pattern. */
    cr_assert_eq(capn_struct_f32(&s, 16, fdb), 2.5f);
}

Test(fields, text_and_data)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, 0, NP);
    cr_assert(capn_bptr_set_text(capn_bstruct_ptr(&b, 0), "hello, world", 12));
    cr_assert(capn_bptr_set_text(capn_bstruct_ptr(&b, 1), "", 0));
    char *w = capn_bptr_init_text(capn_bstruct_ptr(&b, 2), 3);
    cr_assert_not_null(w);
    memcpy(w, "abc", 3);
    static const uint8_t bytes[] = {0, 1, 2, 0xff, 0};
    cr_assert(capn_bptr_set_data(capn_bstruct_ptr(&b, 3), bytes, sizeof(bytes)));

    struct capn_msg m;
    struct capn_seg segs[2];
    uint8_t *buf;
    cr_assert_eq(reread(&t.b, &m, segs, 2, &buf), CAPN_OK);
    struct capn_struct s = root_struct(&m);
    struct capn_text t0 = capn_ptr_text(capn_struct_ptr(&s, 0), NULL, 0);
    cr_assert_eq(t0.len, 12);
    cr_assert_str_eq(t0.str, "hello, world");
    struct capn_text t1 = capn_ptr_text(capn_struct_ptr(&s, 1), "x", 1);
    cr_assert_eq(t1.len, 0);
    cr_assert(!capn_ptr_is_null(capn_struct_ptr(&s, 1)));
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&s, 2), NULL, 0).str, "abc");
    struct capn_data d = capn_ptr_data(capn_struct_ptr(&s, 3), NULL, 0);
    cr_assert_eq(d.len, sizeof(bytes));
    cr_assert_arr_eq(d.ptr, bytes, sizeof(bytes));
    /* Text read as Data sees the NUL too. */
    cr_assert_eq(capn_ptr_data(capn_struct_ptr(&s, 0), NULL, 0).len, 13);
    cr_assert_eq(m.err, CAPN_OK);
    free(buf);
}

Test(fields, nested_structs)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 1, 2);
    struct capn_bstruct c = capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 1, 1);
    struct capn_bstruct g = capn_bptr_init_struct(capn_bstruct_ptr(&c, 0), 1, 0);
    capn_bstruct_set_u32(&r, 0, 1, 0);
    capn_bstruct_set_u32(&c, 0, 2, 0);
    capn_bstruct_set_u32(&g, 0, 3, 0);

    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    struct capn_struct sc = capn_ptr_struct(capn_struct_ptr(&s, 0), NULL);
    struct capn_struct sg = capn_ptr_struct(capn_struct_ptr(&sc, 0), NULL);
    cr_assert_eq(capn_struct_u32(&s, 0, 0), 1);
    cr_assert_eq(capn_struct_u32(&sc, 0, 0), 2);
    cr_assert_eq(capn_struct_u32(&sg, 0, 0), 3);
    cr_assert_eq(sg.nest, CAPN_NESTING_LIMIT - 3);
    /* Unset pointer: a null reader that reads defaults. */
    struct capn_struct n = capn_ptr_struct(capn_struct_ptr(&s, 1), NULL);
    cr_assert_null(n.seg);
    cr_assert_eq(capn_struct_u32(&n, 0, 44), 44);
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&s, 1)), CAPN_PT_NULL);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(fields, zero_sized_struct)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct r = capn_bld_init_root(&t.b, 0, 1);
    capn_bptr_init_struct(capn_bstruct_ptr(&r, 0), 0, 0);
    /* The canonical encoding: offset -1, no sizes, distinct from null. */
    cr_assert_eq(capn_load64_(r.ptrs), 0xfffffffcull);
    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    struct capn_ptr p = capn_struct_ptr(&s, 0);
    cr_assert(!capn_ptr_is_null(p));
    cr_assert_eq(capn_ptr_type(p), CAPN_PT_STRUCT);
    struct capn_struct z = capn_ptr_struct(p, NULL);
    cr_assert_not_null(z.seg);
    cr_assert_eq(z.data_bytes, 0);
    cr_assert_eq(z.nptrs, 0);
    cr_assert_eq(capn_struct_u64(&z, 0, 9), 9);
    cr_assert_eq(m.err, CAPN_OK);
}

/* union { none @0: Void; num: UInt32; str: Text } with its tag at byte 4;
 * group { x, y: UInt16 } at bytes 8 and 10; enum at byte 12. */
Test(fields, union_group_enum)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, 2, 1);
    capn_bstruct_set_u16(&b, 4, 2, 0); /* which = str */
    capn_bptr_set_text(capn_bstruct_ptr(&b, 0), "in union", 8);
    capn_bstruct_set_u16(&b, 8, 11, 0);
    capn_bstruct_set_u16(&b, 10, 22, 0);
    capn_bstruct_set_u16(&b, 12, 2, 0); /* Color.blue */

    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_struct_u16(&s, 4, 0), 2);
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&s, 0), NULL, 0).str, "in union");
    cr_assert_eq(capn_struct_u16(&s, 8, 0), 11);
    cr_assert_eq(capn_struct_u16(&s, 10, 0), 22);
    cr_assert_eq(capn_struct_u16(&s, 12, 0), 2);

    /* Switching members: the old pointer member is cleared. */
    capn_bstruct_set_u16(&b, 4, 1, 0);
    capn_bptr_clear(capn_bstruct_ptr(&b, 0));
    capn_bstruct_set_u32(&b, 0, 77, 0);
    cr_assert_eq(capn_struct_u16(&s, 4, 0), 1);
    cr_assert_eq(capn_struct_u32(&s, 0, 0), 77);
    cr_assert(capn_ptr_is_null(capn_struct_ptr(&s, 0)));
}

Test(fields, capabilities)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, 0, 3);
    capn_bptr_set_cap(capn_bstruct_ptr(&b, 0), 0);
    capn_bptr_set_cap(capn_bstruct_ptr(&b, 1), 2);
    capn_bptr_set_cap(capn_bstruct_ptr(&b, 2), 5);
    cr_assert_eq(capn_load64_(b.ptrs + 8), 3 | (uint64_t)2 << 32);

    struct capn_msg m;
    struct capn_seg segs[2];
    uint8_t *buf;
    cr_assert_eq(reread(&t.b, &m, segs, 2, &buf), CAPN_OK);
    m.cap_count = 3;
    struct capn_struct s = root_struct(&m);
    uint32_t idx = 99;
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&s, 1)), CAPN_PT_CAP);
    cr_assert(capn_ptr_cap(capn_struct_ptr(&s, 0), &idx));
    cr_assert_eq(idx, 0);
    cr_assert(capn_ptr_cap(capn_struct_ptr(&s, 1), &idx));
    cr_assert_eq(idx, 2);
    cr_assert_eq(m.err, CAPN_OK);
    /* Index 5 is outside a 3-entry table. */
    cr_assert(!capn_ptr_cap(capn_struct_ptr(&s, 2), &idx));
    cr_assert_eq(m.err, CAPN_ERR_CAP_INDEX);
    free(buf);
}

Test(fields, any_pointer)
{
    struct tbld t;
    tbld_init(&t);
    struct capn_bstruct b = capn_bld_init_root(&t.b, 0, 4);
    capn_bptr_init_struct(capn_bstruct_ptr(&b, 0), 1, 0);
    capn_bptr_init_list(capn_bstruct_ptr(&b, 1), CAPN_FOUR, 3);
    capn_bptr_set_cap(capn_bstruct_ptr(&b, 2), 0);
    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&s, 0)), CAPN_PT_STRUCT);
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&s, 1)), CAPN_PT_LIST);
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&s, 2)), CAPN_PT_CAP);
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&s, 3)), CAPN_PT_NULL);
    cr_assert_eq(capn_ptr_type(capn_struct_ptr(&s, 4)), CAPN_PT_NULL); /* past the end */
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_ANY, NULL);
    cr_assert_eq(l.len, 3);
    cr_assert_eq(l.esize, CAPN_FOUR);
}

/* Defaults of pointer fields are constant segments with the value's pointer
 * in word 0, as the code generator will emit them. */
static const uint64_t def_struct_words[] = {
    0x0001000100000000ull, /* struct, 1 data word, 1 pointer */
    0x000000000000002aull, /* a = 42 */
    0x0000003200000001ull, /* text pointer: offset 0, bytes, 6 */
    0x00006f6c6c6568ull,   /* "hello\0" */
};
static const struct capn_seg def_struct = {(const uint8_t *)def_struct_words, 4, 4};
static const uint64_t def_list_words[] = {
    0x0000001c00000001ull, /* list, offset 0, four-byte, 3 */
    0x0000000200000001ull,
    0x0000000000000003ull,
};
static const struct capn_seg def_list = {(const uint8_t *)def_list_words, 3, 3};

Test(fields, pointer_defaults)
{
    struct tbld t;
    tbld_init(&t);
    capn_bld_init_root(&t.b, 0, 2);
    struct capn_msg m;
    capn_bld_msg(&t.b, &m);
    struct capn_struct s = root_struct(&m);
    struct capn_struct d = capn_ptr_struct(capn_struct_ptr(&s, 0), &def_struct);
    cr_assert_eq(capn_struct_u32(&d, 0, 0), 42);
    cr_assert_str_eq(capn_ptr_text(capn_struct_ptr(&d, 0), NULL, 0).str, "hello");
    struct capn_list l = capn_ptr_list(capn_struct_ptr(&s, 1), CAPN_FOUR, &def_list);
    cr_assert_eq(l.len, 3);
    cr_assert_eq(capn_list_u32(&l, 2), 3);
    /* A default works without any message at all (msg == NULL). */
    struct capn_ptr none = {0};
    cr_assert_eq(capn_list_u32(&(struct capn_list){0}, 0), 0);
    struct capn_struct d2 = capn_ptr_struct(none, &def_struct);
    cr_assert_eq(capn_struct_u32(&d2, 0, 0), 42);
    cr_assert_eq(m.err, CAPN_OK);
}

Test(fields, error_strings)
{
    for (int e = 0; e < CAPN_ERR_COUNT_; e++) {
        const char *s = capn_err_str((enum capn_err)e);
        cr_assert_str_neq(s, "unknown error", "error %d has no name", e);
        for (int f = 0; f < e; f++)
            cr_assert_str_neq(s, capn_err_str((enum capn_err)f));
    }
    cr_assert_str_eq(capn_err_str(CAPN_ERR_COUNT_), "unknown error");
    cr_assert_str_eq(capn_err_str((enum capn_err) - 1), "unknown error");
}
