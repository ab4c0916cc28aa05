/* The shared value of the capnpc-c host tests; see testgen.h. */
#include "testgen.h"

/* One small assertion helper instead of Criterion's large macros, which
 * made this file take half a minute to compile. */
static void expect_(bool ok, int line, const char *what)
{
    cr_expect(ok, "testgen.c:%d: %s", line, what);
}
#define OK(x)    expect_((x), __LINE__, #x)
#define EQ(a, b) expect_((a) == (b), __LINE__, #a " == " #b)

static void set_text(All_b b, const char *s)
{
    All_set_text(b, s, (uint32_t)strlen(s));
}

static void set_inner(Inner_b in, uint32_t a, const char *s, Color color)
{
    Inner_set_a(in, a);
    if (s != NULL)
        Inner_set_s(in, s, (uint32_t)strlen(s));
    Inner_set_color(in, color);
}

void build_full(All_b b)
{
    All_set_b(b, true);
    All_set_i8(b, -12);
    All_set_i16(b, -1234);
    All_set_i32(b, -123456);
    All_set_i64(b, -1234567890123);
    All_set_u8(b, 200);
    All_set_u16(b, 60000);
    All_set_u32(b, 4000000000u);
    All_set_u64(b, 18000000000000000000u);
    All_set_f32(b, 1.5f);
    All_set_f64(b, -2.25);
    set_text(b, "hello world");
    All_set_data(b, "\xde\xad\xbe\xef", 4);
    set_inner(All_init_inner(b), 42, "inner", Color_blue);
    All_set_color(b, Color_green);

    static const bool bools[] = {true, false, true, true, false, false, false, false, true};
    List_Bool_b bl = All_init_bools(b, 9);
    for (uint32_t i = 0; i < 9; i++)
        List_Bool_set(bl, i, bools[i]);
    List_Int8_b i8s = All_init_i8s(b, 4);
    List_Int8_set(i8s, 0, -1);
    List_Int8_set(i8s, 1, 0);
    List_Int8_set(i8s, 2, 127);
    List_Int8_set(i8s, 3, -128);
    List_UInt16_b u16s = All_init_u16s(b, 2);
    List_UInt16_set(u16s, 0, 1);
    List_UInt16_set(u16s, 1, 65535);
    List_Int32_b i32s = All_init_i32s(b, 2);
    List_Int32_set(i32s, 0, -7);
    List_Int32_set(i32s, 1, 7);
    List_UInt64_b u64s = All_init_u64s(b, 2);
    List_UInt64_set(u64s, 1, UINT64_MAX);
    List_Float32_b f32s = All_init_f32s(b, 2);
    List_Float32_set(f32s, 0, 0.5f);
    List_Float32_set(f32s, 1, -1.0f);
    List_Float64_set(All_init_f64s(b, 1), 0, 3.25);
    List_Text_b texts = All_init_texts(b, 3);
    List_Text_set(texts, 0, "a", 1);
    List_Text_set(texts, 1, "", 0);
    List_Text_set(texts, 2, "ccc", 3);
    List_Data_b datas = All_init_datas(b, 2);
    List_Data_set(datas, 0, "\0", 1);
    List_Data_set(datas, 1, "", 0);
    List_Inner_b inners = All_init_inners(b, 3);
    set_inner(List_Inner_at(inners, 0), 1, "one", Color_green);
    set_inner(List_Inner_at(inners, 1), 2, NULL, Color_green);
    set_inner(List_Inner_at(inners, 2), 0, "three", Color_red);
    List_Color_b colors = All_init_colors(b, 2);
    List_Color_set(colors, 0, Color_blue);
    List_Color_set(colors, 1, Color_red);
    All_init_voids(b, 2);
    List_List_UInt16_b nested = All_init_nested(b, 3);
    List_UInt16_b n0 = List_List_UInt16_init(nested, 0, 2);
    List_UInt16_set(n0, 0, 1);
    List_UInt16_set(n0, 1, 2);
    List_List_UInt16_init(nested, 1, 0);
    List_UInt16_set(List_List_UInt16_init(nested, 2, 1), 0, 3);
    List_List_Inner_b ni = All_init_nestedInners(b, 2);
    set_inner(List_Inner_at(List_List_Inner_init(ni, 0, 1), 0), 5, NULL, Color_green);
    List_Inner_b ni1 = List_List_Inner_init(ni, 1, 2);
    set_inner(List_Inner_at(ni1, 0), 6, NULL, Color_green);
    set_inner(List_Inner_at(ni1, 1), 7, NULL, Color_green);
    List_List_List_Text_b deep = All_init_deep(b, 2);
    List_List_Text_b d0 = List_List_List_Text_init(deep, 0, 2);
    List_Text_set(List_List_Text_init(d0, 0, 1), 0, "x", 1);
    List_List_Text_init(d0, 1, 0);
    List_Text_b d10 = List_List_Text_init(List_List_List_Text_init(deep, 1, 1), 0, 2);
    List_Text_set(d10, 0, "y", 1);
    List_Text_set(d10, 1, "z", 1);

    All_set_str(b, "union text", 10);
    All_grp_b grp = All_init_grp(b);
    All_grp_set_ga(grp, 11);
    All_grp_set_gb(grp, "gb", 2);
    All_grp_set_gy(grp, true);
    All_grp_sub_set_deep(All_grp_init_sub(grp), 99);
    List_Int8_b third = All_choice_init_third(All_init_choice(b), 2);
    List_Int8_set(third, 0, 1);
    List_Int8_set(third, 1, -1);

    All_set_dBool(b, false);
    All_set_dI8(b, 8);
    All_set_dI16(b, 16);
    All_set_dI32(b, 32);
    All_set_dI64(b, 64);
    All_set_dU8(b, 8);
    All_set_dU16(b, 16);
    All_set_dU32(b, 32);
    All_set_dU64(b, 64);
    All_set_dF32(b, -3.5f);
    All_set_dF64(b, 0.001);
    All_set_dText(b, "changed", 7);
    All_set_dData(b, "", 0);
    Inner_set_a(All_init_dInner(b), 70);
    All_set_dColor(b, Color_red);
    All_init_dI32s(b, 0);
    List_Text_set(All_init_dTexts(b, 1), 0, "z", 1);
    All_init_dInners(b, 0);
    List_Bool_set(All_init_dBools(b, 1), 0, false);
    List_UInt8_set(List_List_UInt8_init(All_init_dNested(b, 1), 0, 1), 0, 9);
    All_set_dI64Min(b, 5);
    All_set_dI32Min(b, 6);

    All_b self = All_init_self(b);
    All_set_u32(self, 7);
    All_set_text(self, "child", 5);
    All_set_u32(All_init_self(self), 8);
    Outer_b outer = All_init_outer(b);
    Outer_Nested_set_kind(Outer_init_n(outer), Outer_Nested_Kind_two);
    List_Outer_Nested_Kind_b kinds = Outer_init_kinds(outer, 3);
    List_Outer_Nested_Kind_set(kinds, 0, Outer_Nested_Kind_one);
    List_Outer_Nested_Kind_set(kinds, 1, Outer_Nested_Kind_two);
    List_Outer_Nested_Kind_set(kinds, 2, Outer_Nested_Kind_one);
}

void expect_text(struct capn_text t, const char *s)
{
    cr_expect(t.len == strlen(s) && memcmp(t.str, s, t.len) == 0 && t.str[t.len] == 0,
              "text \"%.*s\" (%u bytes), want \"%s\"", (int)t.len, t.str, t.len, s);
}

void expect_inner(Inner_r in, uint32_t a, const char *s, Color color)
{
    EQ(Inner_get_a(in), a);
    expect_text(Inner_get_s(in), s);
    EQ(Inner_get_color(in), color);
}

void check_full(All_r r)
{
    EQ(All_get_b(r), true);
    EQ(All_get_i8(r), -12);
    EQ(All_get_i16(r), -1234);
    EQ(All_get_i32(r), -123456);
    EQ(All_get_i64(r), -1234567890123);
    EQ(All_get_u8(r), 200);
    EQ(All_get_u16(r), 60000);
    EQ(All_get_u32(r), 4000000000u);
    EQ(All_get_u64(r), 18000000000000000000u);
    EQ(All_get_f32(r), 1.5f);
    EQ(All_get_f32_bits(r), 0x3fc00000u);
    EQ(All_get_f64(r), -2.25);
    expect_text(All_get_text(r), "hello world");
    struct capn_data d = All_get_data(r);
    OK(d.len == 4 && memcmp(d.ptr, "\xde\xad\xbe\xef", 4) == 0);
    OK(All_has_inner(r));
    expect_inner(All_get_inner(r), 42, "inner", Color_blue);
    EQ(All_get_color(r), Color_green);

    static const bool bools[] = {true, false, true, true, false, false, false, false, true};
    List_Bool_r bl = All_get_bools(r);
    EQ(List_Bool_len(bl), 9);
    for (uint32_t i = 0; i < 9; i++)
        EQ(List_Bool_get(bl, i), bools[i]);
    List_Int8_r i8s = All_get_i8s(r);
    EQ(List_Int8_len(i8s), 4);
    EQ(List_Int8_get(i8s, 0), -1);
    EQ(List_Int8_get(i8s, 2), 127);
    EQ(List_Int8_get(i8s, 3), -128);
    EQ(List_UInt16_get(All_get_u16s(r), 1), 65535);
    EQ(List_Int32_get(All_get_i32s(r), 0), -7);
    EQ(List_UInt64_get(All_get_u64s(r), 1), UINT64_MAX);
    EQ(List_Float32_get(All_get_f32s(r), 1), -1.0f);
    EQ(List_Float64_get(All_get_f64s(r), 0), 3.25);
    List_Text_r texts = All_get_texts(r);
    EQ(List_Text_len(texts), 3);
    expect_text(List_Text_get(texts, 0), "a");
    expect_text(List_Text_get(texts, 1), "");
    expect_text(List_Text_get(texts, 2), "ccc");
    List_Data_r datas = All_get_datas(r);
    EQ(List_Data_len(datas), 2);
    OK(List_Data_get(datas, 0).len == 1 && List_Data_get(datas, 0).ptr[0] == 0);
    EQ(List_Data_get(datas, 1).len, 0);
    List_Inner_r inners = All_get_inners(r);
    EQ(List_Inner_len(inners), 3);
    expect_inner(List_Inner_get(inners, 0), 1, "one", Color_green);
    expect_inner(List_Inner_get(inners, 1), 2, "", Color_green);
    expect_inner(List_Inner_get(inners, 2), 0, "three", Color_red);
    EQ(List_Color_get(All_get_colors(r), 0), Color_blue);
    EQ(List_Color_get(All_get_colors(r), 1), Color_red);
    EQ(List_Void_len(All_get_voids(r)), 2);
    List_List_UInt16_r nested = All_get_nested(r);
    EQ(List_List_UInt16_len(nested), 3);
    EQ(List_UInt16_len(List_List_UInt16_get(nested, 0)), 2);
    EQ(List_UInt16_get(List_List_UInt16_get(nested, 0), 1), 2);
    EQ(List_UInt16_len(List_List_UInt16_get(nested, 1)), 0);
    EQ(List_UInt16_get(List_List_UInt16_get(nested, 2), 0), 3);
    List_List_Inner_r ni = All_get_nestedInners(r);
    EQ(Inner_get_a(List_Inner_get(List_List_Inner_get(ni, 0), 0)), 5);
    EQ(Inner_get_a(List_Inner_get(List_List_Inner_get(ni, 1), 1)), 7);
    List_List_List_Text_r deep = All_get_deep(r);
    EQ(List_List_List_Text_len(deep), 2);
    expect_text(List_Text_get(List_List_Text_get(List_List_List_Text_get(deep, 0), 0), 0), "x");
    EQ(List_Text_len(List_List_Text_get(List_List_List_Text_get(deep, 0), 1)), 0);
    expect_text(List_Text_get(List_List_Text_get(List_List_List_Text_get(deep, 1), 0), 1), "z");

    EQ(All_which(r), All_which_str);
    expect_text(All_get_str(r), "union text");
    All_grp_r grp = All_get_grp(r);
    EQ(All_grp_get_ga(grp), 11);
    expect_text(All_grp_get_gb(grp), "gb");
    EQ(All_grp_which(grp), All_grp_which_gy);
    EQ(All_grp_get_gy(grp), true);
    EQ(All_grp_sub_get_deep(All_grp_get_sub(grp)), 99);
    All_choice_r choice = All_get_choice(r);
    EQ(All_choice_which(choice), All_choice_which_third);
    EQ(List_Int8_get(All_choice_get_third(choice), 1), -1);

    EQ(All_get_dBool(r), false);
    EQ(All_get_dI8(r), 8);
    EQ(All_get_dI16(r), 16);
    EQ(All_get_dI32(r), 32);
    EQ(All_get_dI64(r), 64);
    EQ(All_get_dU8(r), 8);
    EQ(All_get_dU16(r), 16);
    EQ(All_get_dU32(r), 32);
    EQ(All_get_dU64(r), 64);
    EQ(All_get_dF32(r), -3.5f);
    EQ(All_get_dF64(r), 0.001);
    expect_text(All_get_dText(r), "changed");
    OK(All_has_dData(r));
    EQ(All_get_dData(r).len, 0);
    expect_inner(All_get_dInner(r), 70, "", Color_green);
    EQ(All_get_dColor(r), Color_red);
    OK(All_has_dI32s(r));
    EQ(List_Int32_len(All_get_dI32s(r)), 0);
    EQ(List_Text_len(All_get_dTexts(r)), 1);
    expect_text(List_Text_get(All_get_dTexts(r), 0), "z");
    EQ(List_Inner_len(All_get_dInners(r)), 0);
    EQ(List_Bool_len(All_get_dBools(r)), 1);
    EQ(List_Bool_get(All_get_dBools(r), 0), false);
    EQ(List_UInt8_get(List_List_UInt8_get(All_get_dNested(r), 0), 0), 9);
    EQ(All_get_dI64Min(r), 5);
    EQ(All_get_dI32Min(r), 6);

    All_r self = All_get_self(r);
    EQ(All_get_u32(self), 7);
    expect_text(All_get_text(self), "child");
    EQ(All_get_u32(All_get_self(self)), 8);
    OK(!All_has_self(All_get_self(self)));
    Outer_r outer = All_get_outer(r);
    EQ(Outer_Nested_get_kind(Outer_get_n(outer)), Outer_Nested_Kind_two);
    List_Outer_Nested_Kind_r kinds = Outer_get_kinds(outer);
    EQ(List_Outer_Nested_Kind_len(kinds), 3);
    EQ(List_Outer_Nested_Kind_get(kinds, 1), Outer_Nested_Kind_two);
    OK(!All_has_any(r));
    OK(!All_has_cap(r));
}

void check_defaults(All_r r)
{
    EQ(All_get_b(r), false);
    EQ(All_get_u64(r), 0);
    EQ(All_get_f64(r), 0.0);
    EQ(All_get_text(r).len, 0);
    EQ(All_get_text(r).str[0], 0);
    OK(!All_has_text(r));
    EQ(All_get_data(r).len, 0);
    expect_inner(All_get_inner(r), 0, "", Color_green);
    EQ(All_get_color(r), Color_red);
    EQ(List_Inner_len(All_get_inners(r)), 0);
    EQ(All_which(r), All_which_none);
    EQ(All_get_dBool(r), true);
    EQ(All_get_dI8(r), -8);
    EQ(All_get_dI16(r), -1600);
    EQ(All_get_dI32(r), -320000);
    EQ(All_get_dI64(r), -6400000000000);
    EQ(All_get_dU8(r), 200);
    EQ(All_get_dU16(r), 60000);
    EQ(All_get_dU32(r), 4000000000u);
    EQ(All_get_dU64(r), 18000000000000000000u);
    EQ(All_get_dF32(r), 3.5f);
    EQ(All_get_dF64(r), -1.25e100);
    expect_text(All_get_dText(r), "hello \"quoted\" ?\?= text");
    struct capn_data d = All_get_dData(r);
    OK(d.len == 3 && memcmp(d.ptr, "\xca\xfe\x00", 3) == 0);
    OK(!All_has_dInner(r));
    expect_inner(All_get_dInner(r), 7, "seven", Color_red);
    EQ(All_get_dColor(r), Color_blue);
    List_Int32_r i32s = All_get_dI32s(r);
    EQ(List_Int32_len(i32s), 3);
    EQ(List_Int32_get(i32s, 1), -2);
    EQ(List_Text_len(All_get_dTexts(r)), 2);
    expect_text(List_Text_get(All_get_dTexts(r), 1), "y");
    List_Inner_r dinners = All_get_dInners(r);
    EQ(List_Inner_len(dinners), 2);
    expect_inner(List_Inner_get(dinners, 1), 2, "two", Color_green);
    List_Bool_r dbools = All_get_dBools(r);
    EQ(List_Bool_len(dbools), 3);
    OK(List_Bool_get(dbools, 0) && !List_Bool_get(dbools, 1) && List_Bool_get(dbools, 2));
    List_List_UInt8_r dn = All_get_dNested(r);
    EQ(List_List_UInt8_len(dn), 2);
    EQ(List_UInt8_get(List_List_UInt8_get(dn, 1), 1), 3);
    EQ(All_get_dI64Min(r), INT64_MIN);
    EQ(All_get_dI32Min(r), INT32_MIN);
    EQ(All_get_cap(r), CAPNPC_NO_CAP);
}
