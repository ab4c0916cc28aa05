/*
 * Reads every field of a tests/capnpc/test.capnp All through the generated
 * readers (recursing into self, lists and groups), folding what it sees
 * into a checksum so nothing is optimised away. Used by the capnpc_walk
 * fuzz target on hostile messages.
 */
#ifndef CAPOS_TESTS_CAPNPC_WALK_H
#define CAPOS_TESTS_CAPNPC_WALK_H

#include "test.capnp.h"

/* Long lists are sampled: hostile lengths must not make a run slow. */
static inline uint32_t lim(uint32_t n)
{
    return n > 64 ? 64 : n;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

static inline uint64_t walk_text(uint64_t h, struct capn_text t)
{
    /* The runtime promises a NUL right after the text. */
    return mix(mix(h, t.len), (uint8_t)t.str[t.len] + (t.len ? (uint8_t)t.str[0] : 0));
}

static inline uint64_t walk_data(uint64_t h, struct capn_data d)
{
    return mix(h, d.len ? d.ptr[0] + d.ptr[d.len - 1] + d.len : 0);
}

static inline uint64_t walk_inner(uint64_t h, Inner_r r)
{
    h = mix(h, Inner_get_a(r));
    h = walk_text(h, Inner_get_s(r));
    return mix(h, Inner_get_color(r));
}

static inline uint64_t walk_all(uint64_t h, All_r r, int depth)
{
    h = mix(h, All_get_b(r));
    h = mix(h, (uint64_t)All_get_i8(r) + (uint64_t)All_get_i16(r) + (uint64_t)All_get_i32(r));
    h = mix(h, (uint64_t)All_get_i64(r) + All_get_u8(r) + All_get_u16(r) + All_get_u32(r));
    h = mix(h, All_get_u64(r) + All_get_f32_bits(r) + All_get_f64_bits(r));
    h = walk_text(h, All_get_text(r));
    h = walk_data(h, All_get_data(r));
    h = walk_inner(h, All_get_inner(r));
    h = mix(h, All_get_color(r));

    List_Bool_r bools = All_get_bools(r);
    for (uint32_t i = 0; i < lim(List_Bool_len(bools)); i++)
        h = mix(h, List_Bool_get(bools, i));
    List_Int8_r i8s = All_get_i8s(r);
    for (uint32_t i = 0; i < lim(List_Int8_len(i8s)); i++)
        h = mix(h, (uint64_t)List_Int8_get(i8s, i));
    List_UInt16_r u16s = All_get_u16s(r);
    for (uint32_t i = 0; i < lim(List_UInt16_len(u16s)); i++)
        h = mix(h, List_UInt16_get(u16s, i));
    List_Int32_r i32s = All_get_i32s(r);
    for (uint32_t i = 0; i < lim(List_Int32_len(i32s)); i++)
        h = mix(h, (uint64_t)List_Int32_get(i32s, i));
    List_UInt64_r u64s = All_get_u64s(r);
    for (uint32_t i = 0; i < lim(List_UInt64_len(u64s)); i++)
        h = mix(h, List_UInt64_get(u64s, i));
    List_Float32_r f32s = All_get_f32s(r);
    for (uint32_t i = 0; i < lim(List_Float32_len(f32s)); i++)
        h = mix(h, List_Float32_get_bits(f32s, i));
    List_Float64_r f64s = All_get_f64s(r);
    for (uint32_t i = 0; i < lim(List_Float64_len(f64s)); i++)
        h = mix(h, List_Float64_get_bits(f64s, i));
    List_Text_r texts = All_get_texts(r);
    for (uint32_t i = 0; i < lim(List_Text_len(texts)); i++)
        h = walk_text(h, List_Text_get(texts, i));
    List_Data_r datas = All_get_datas(r);
    for (uint32_t i = 0; i < lim(List_Data_len(datas)); i++)
        h = walk_data(h, List_Data_get(datas, i));
    List_Inner_r inners = All_get_inners(r);
    for (uint32_t i = 0; i < lim(List_Inner_len(inners)); i++)
        h = walk_inner(h, List_Inner_get(inners, i));
    List_Color_r colors = All_get_colors(r);
    for (uint32_t i = 0; i < lim(List_Color_len(colors)); i++)
        h = mix(h, List_Color_get(colors, i));
    h = mix(h, List_Void_len(All_get_voids(r)));
    List_List_UInt16_r nested = All_get_nested(r);
    for (uint32_t i = 0; i < lim(List_List_UInt16_len(nested)); i++) {
        List_UInt16_r l = List_List_UInt16_get(nested, i);
        for (uint32_t j = 0; j < lim(List_UInt16_len(l)); j++)
            h = mix(h, List_UInt16_get(l, j));
    }
    List_List_Inner_r ni = All_get_nestedInners(r);
    for (uint32_t i = 0; i < lim(List_List_Inner_len(ni)); i++) {
        List_Inner_r l = List_List_Inner_get(ni, i);
        for (uint32_t j = 0; j < lim(List_Inner_len(l)); j++)
            h = walk_inner(h, List_Inner_get(l, j));
    }
    List_List_List_Text_r deep = All_get_deep(r);
    for (uint32_t i = 0; i < lim(List_List_List_Text_len(deep)); i++) {
        List_List_Text_r l = List_List_List_Text_get(deep, i);
        for (uint32_t j = 0; j < lim(List_List_Text_len(l)); j++) {
            List_Text_r t = List_List_Text_get(l, j);
            for (uint32_t k = 0; k < lim(List_Text_len(t)); k++)
                h = walk_text(h, List_Text_get(t, k));
        }
    }

    switch (All_which(r)) {
    case All_which_none:
        break;
    case All_which_num:
        h = mix(h, All_get_num(r));
        break;
    case All_which_str:
        h = walk_text(h, All_get_str(r));
        break;
    case All_which_obj:
        h = walk_inner(h, All_get_obj(r));
        break;
    case All_which_grpU:
        h = mix(h, All_grpU_get_x(All_get_grpU(r)));
        h = walk_text(h, All_grpU_get_y(All_get_grpU(r)));
        break;
    default:
        h = mix(h, 0xbad);
        break;
    }
    All_grp_r grp = All_get_grp(r);
    h = mix(h, All_grp_get_ga(grp));
    h = walk_text(h, All_grp_get_gb(grp));
    h = mix(h, All_grp_which(grp) == All_grp_which_gx ? (uint64_t)All_grp_get_gx(grp)
                                                      : All_grp_get_gy(grp));
    h = mix(h, All_grp_sub_get_deep(All_grp_get_sub(grp)));
    All_choice_r ch = All_get_choice(r);
    if (All_choice_which(ch) == All_choice_which_first)
        h = mix(h, (uint64_t)All_choice_get_first(ch));
    else if (All_choice_which(ch) == All_choice_which_second)
        h = mix(h, All_choice_get_second_bits(ch));
    else
        h = mix(h, List_Int8_len(All_choice_get_third(ch)));

    h = mix(h, All_get_dBool(r) + (uint64_t)All_get_dI8(r) + (uint64_t)All_get_dI16(r));
    h = mix(h, (uint64_t)All_get_dI32(r) + (uint64_t)All_get_dI64(r) + All_get_dU8(r));
    h = mix(h, All_get_dU16(r) + All_get_dU32(r) + All_get_dU64(r));
    h = mix(h, All_get_dF32_bits(r) + All_get_dF64_bits(r) + All_get_dColor(r));
    h = walk_text(h, All_get_dText(r));
    h = walk_data(h, All_get_dData(r));
    h = walk_inner(h, All_get_dInner(r));
    List_Int32_r di = All_get_dI32s(r);
    for (uint32_t i = 0; i < lim(List_Int32_len(di)); i++)
        h = mix(h, (uint64_t)List_Int32_get(di, i));
    List_Text_r dt = All_get_dTexts(r);
    for (uint32_t i = 0; i < lim(List_Text_len(dt)); i++)
        h = walk_text(h, List_Text_get(dt, i));
    List_Inner_r din = All_get_dInners(r);
    for (uint32_t i = 0; i < lim(List_Inner_len(din)); i++)
        h = walk_inner(h, List_Inner_get(din, i));
    List_Bool_r db = All_get_dBools(r);
    for (uint32_t i = 0; i < lim(List_Bool_len(db)); i++)
        h = mix(h, List_Bool_get(db, i));
    List_List_UInt8_r dn = All_get_dNested(r);
    for (uint32_t i = 0; i < lim(List_List_UInt8_len(dn)); i++)
        h = mix(h, List_UInt8_len(List_List_UInt8_get(dn, i)));
    h = mix(h, (uint64_t)All_get_dI64Min(r) + (uint64_t)All_get_dI32Min(r));

    struct capn_ptr any = All_get_any(r);
    if (capn_ptr_type(any) == CAPN_PT_STRUCT)
        h = walk_inner(h, Inner_read(any));
    h = mix(h, All_get_cap(r) + All_get_anyCap(r));
    List_Capability_r anyCaps = All_get_anyCaps(r);
    for (uint32_t i = 0; i < lim(List_Capability_len(anyCaps)); i++)
        h = mix(h, List_Capability_get(anyCaps, i));
    List_Service_r caps = All_get_caps(r);
    for (uint32_t i = 0; i < lim(List_Service_len(caps)); i++)
        h = mix(h, List_Service_get(caps, i));
    Outer_r outer = All_get_outer(r);
    h = mix(h, Outer_Nested_get_kind(Outer_get_n(outer)));
    List_Outer_Nested_Kind_r kinds = Outer_get_kinds(outer);
    for (uint32_t i = 0; i < lim(List_Outer_Nested_Kind_len(kinds)); i++)
        h = mix(h, List_Outer_Nested_Kind_get(kinds, i));
    if (depth > 0 && All_has_self(r))
        h = walk_all(h, All_get_self(r), depth - 1);
    return h;
}

#endif
