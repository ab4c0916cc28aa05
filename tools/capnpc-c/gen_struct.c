/*
 * Struct, group and union accessors, all static inline in the header.
 *
 * For a struct (or group) N: N_r / N_b wrap the runtime's capn_struct /
 * capn_bstruct; N_get_f, N_has_f read; N_set_f, N_init_f write; N_which
 * reads a union's discriminant. A group is a view of its parent's struct,
 * so N_get_g(r) and N_init_g(b) just rewrap it. Setting a union member also
 * sets the discriminant. Primitive defaults are passed to the runtime, which
 * XORs them; pointer defaults are constant segments (N_f_DEFAULT).
 */
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

static bool is_group(const struct node *n)
{
    return Node_struct_get_isGroup(Node_get_struct(n->n));
}

static bool in_union(Field_r f)
{
    return Field_get_discriminantValue(f) != Field_noDiscriminant;
}

static const struct node *group_of(const struct gen *g, Field_r f)
{
    return node_need(g, Field_group_get_typeId(Field_get_group(f)));
}

void gen_struct_types(struct gen *g, const struct node *n)
{
    struct buf *h = &g->h;
    Node_struct_r s = Node_get_struct(n->n);
    const char *N = n->cname;
    bprintf(h, "\n");
    if (!is_group(n)) {
        emit_comment(h, doc_node(n), "");
        sym_add(g, "%s_TYPE_ID", N);
        sym_add(g, "%s_DATA_WORDS", N);
        sym_add(g, "%s_PTR_COUNT", N);
        bprintf(h, "#define %s_TYPE_ID UINT64_C(0x%016llx)\n", N, (unsigned long long)n->id);
        bprintf(h, "#define %s_DATA_WORDS %u\n", N, Node_struct_get_dataWordCount(s));
        bprintf(h, "#define %s_PTR_COUNT %u\n", N, Node_struct_get_pointerCount(s));
    }
    sym_add(g, "%s_r", N);
    sym_add(g, "%s_b", N);
    bprintf(h, "typedef struct %s_r {\n    struct capn_struct s;\n} %s_r;\n", N, N);
    bprintf(h, "typedef struct %s_b {\n    struct capn_bstruct s;\n} %s_b;\n", N, N);
    List_Field_r fs = Node_struct_get_fields(s);
    uint32_t nf;
    uint32_t *order = fields_in_code_order(s, &nf);
    if (Node_struct_get_discriminantCount(s) > 0) {
        sym_add(g, "enum %s_which", N);
        bprintf(h, "enum %s_which {\n", N);
        for (uint32_t i = 0; i < nf; i++) {
            Field_r f = List_Field_get(fs, order[i]);
            if (!in_union(f))
                continue;
            sym_add(g, "%s_which_%s", N, txt(Field_get_name(f)));
            bprintf(h, "    %s_which_%s = %u,\n", N, txt(Field_get_name(f)),
                    Field_get_discriminantValue(f));
        }
        bprintf(h, "};\n");
    }
    for (uint32_t i = 0; i < nf; i++) {
        Field_r f = List_Field_get(fs, order[i]);
        if (Field_which(f) == Field_which_group)
            gen_struct_types(g, group_of(g, f));
    }
    free(order);
}

void gen_struct_lists(struct gen *g, const struct node *n)
{
    List_Field_r fs = Node_struct_get_fields(Node_get_struct(n->n));
    for (uint32_t i = 0; i < List_Field_len(fs); i++) {
        Field_r f = List_Field_get(fs, i);
        if (Field_which(f) == Field_which_group) {
            gen_struct_lists(g, group_of(g, f));
            continue;
        }
        Type_r t = Field_slot_get_type(Field_get_slot(f));
        if (Type_which(t) == Type_which_list)
            gen_list(g, list_elem(t));
    }
}

/* One accessor: static inline RET N_VERB_F(ARGS) { BODY }. */
static void acc(struct gen *g, const char *ret, const char *N, const char *verb, const char *f,
                const char *args, const char *body)
{
    sym_add(g, "%s_%s_%s", N, verb, f);
    size_t n = strlen(ret);
    bprintf(&g->h, "static inline %s%s%s_%s_%s(%s)\n{\n%s}\n", ret, ret[n - 1] == '*' ? "" : " ", N,
            verb, f, args, body);
}

/* Statements that zero every field of group `n` (raw zero bits: every
 * field reads its default again). */
static void clear_group(const struct gen *g, const struct node *n, struct buf *out)
{
    Node_struct_r s = Node_get_struct(n->n);
    if (Node_struct_get_discriminantCount(s) > 0)
        bprintf(out, "    capn_bstruct_set_u16(&b.s, %u, 0, 0);\n",
                Node_struct_get_discriminantOffset(s) * 2);
    List_Field_r fs = Node_struct_get_fields(s);
    for (uint32_t i = 0; i < List_Field_len(fs); i++) {
        Field_r f = List_Field_get(fs, i);
        if (Field_which(f) == Field_which_group) {
            clear_group(g, group_of(g, f), out);
            continue;
        }
        Field_slot_r sl = Field_get_slot(f);
        struct ctype c = type_of(g, Field_slot_get_type(sl));
        uint32_t off = Field_slot_get_offset(sl);
        if (c.kind == K_VOID)
            continue;
        if (c.kind == K_BOOL)
            bprintf(out, "    capn_bstruct_set_bool(&b.s, %u, false, false);\n", off);
        else if (c.bits > 0)
            bprintf(out, "    capn_bstruct_set_u%u(&b.s, %u, 0, 0);\n", c.bits, off * (c.bits / 8));
        else
            bprintf(out, "    capn_bptr_clear(capn_bstruct_ptr(&b.s, %u));\n", off);
    }
}

static bool has_pointer_default(Value_r v, enum kind k, struct capn_ptr *p)
{
    *p = k == K_STRUCT ? Value_get_struct(v)
         : k == K_LIST ? Value_get_list(v)
                       : Value_get_anyPointer(v);
    return !capn_ptr_is_null(*p);
}

static void gen_slot(struct gen *g, const struct node *n, Field_r f, const char *disc)
{
    const char *N = n->cname, *F = txt(Field_get_name(f));
    Field_slot_r sl = Field_get_slot(f);
    Type_r t = Field_slot_get_type(sl);
    Value_r dv = Field_slot_get_defaultValue(sl);
    struct ctype c = type_of(g, t);
    uint32_t off = Field_slot_get_offset(sl);
    const char *R = xprintf("%s_r r", N), *B = xprintf("%s_b b", N);
    const char *def = value_literal(g, t, dv);
    const char *rp = xprintf("capn_struct_ptr(&r.s, %u)", off);
    const char *bp = xprintf("capn_bstruct_ptr(&b.s, %u)", off);
    unsigned boff = c.bits >= 8 ? off * (c.bits / 8) : off;
    struct capn_ptr dp;

    switch (c.kind) {
    case K_VOID:
        if (disc[0])
            acc(g, "void", N, "set", F, B, disc);
        return;
    case K_BOOL:
    case K_INT:
        acc(g, c.c, N, "get", F, R,
            xprintf("    return capn_struct_%s(&r.s, %u, %s);\n", c.acc, boff, def));
        acc(g, "void", N, "set", F, xprintf("%s, %s v", B, c.c),
            xprintf("%s    capn_bstruct_set_%s(&b.s, %u, v, %s);\n", disc, c.acc, boff, def));
        return;
    case K_FLOAT: {
        const char *u = c.bits == 32 ? "uint32_t" : "uint64_t";
        bprintf(&g->h, "#ifdef CAPN_HAVE_FLOAT\n");
        acc(g, c.c, N, "get", F, R,
            xprintf("    return capn_struct_%s(&r.s, %u, %s);\n", c.acc, boff, def));
        acc(g, "void", N, "set", F, xprintf("%s, %s v", B, c.c),
            xprintf("%s    capn_bstruct_set_%s(&b.s, %u, v, %s);\n", disc, c.acc, boff, def));
        bprintf(&g->h, "#endif\n");
        acc(g, u, N, "get", xprintf("%s_bits", F), R,
            xprintf("    return capn_struct_u%u(&r.s, %u, %s);\n", c.bits, boff, def));
        acc(g, "void", N, "set", xprintf("%s_bits", F), xprintf("%s, %s v", B, u),
            xprintf("%s    capn_bstruct_set_u%u(&b.s, %u, v, %s);\n", disc, c.bits, boff, def));
        return;
    }
    case K_ENUM:
        acc(g, c.c, N, "get", F, R,
            xprintf("    return (%s)capn_struct_u16(&r.s, %u, %s);\n", c.c, boff, def));
        acc(g, "void", N, "set", F, xprintf("%s, %s v", B, c.c),
            xprintf("%s    capn_bstruct_set_u16(&b.s, %u, (uint16_t)v, %s);\n", disc, boff, def));
        return;
    default:
        break;
    }

    /* Pointer fields. */
    switch (c.kind) {
    case K_TEXT:
    case K_DATA: {
        bool text = c.kind == K_TEXT;
        struct capn_text dt = {0};
        struct capn_data dd = {0};
        if (Value_which(dv) == Value_which_text)
            dt = Value_get_text(dv);
        if (Value_which(dv) == Value_which_data)
            dd = Value_get_data(dv);
        const char *dlit = "NULL, 0";
        if (text && dt.len > 0)
            dlit = xprintf("%s, %u", c_string((const uint8_t *)dt.str, dt.len), dt.len);
        if (!text && dd.len > 0)
            dlit = xprintf("%s, %u", c_string(dd.ptr, dd.len), dd.len);
        acc(g, c.c, N, "get", F, R,
            xprintf("    return capn_ptr_%s(%s, %s);\n", text ? "text" : "data", rp, dlit));
        acc(g, "bool", N, "set", F,
            xprintf("%s, const %s, uint32_t len", B, text ? "char *s" : "void *d"),
            xprintf("%s    return capn_bptr_set_%s(%s, %s, len);\n", disc, text ? "text" : "data",
                    bp, text ? "s" : "d"));
        acc(g, text ? "char *" : "uint8_t *", N, "init", F, xprintf("%s, uint32_t len", B),
            xprintf("%s    return capn_bptr_init_%s(%s, len);\n", disc, text ? "text" : "data",
                    bp));
        break;
    }
    case K_STRUCT:
    case K_LIST: {
        const char *dseg = "NULL";
        if (has_pointer_default(dv, c.kind, &dp)) {
            const char *name = xprintf("%s_%s_DEFAULT", N, F);
            value_segment(g, name, dp);
            dseg = xprintf("&%s", name);
        }
        const char *get, *init, *set;
        if (c.kind == K_STRUCT) {
            const char *sn = node_need(g, c.id)->cname;
            get = xprintf("capn_ptr_struct(%s, %s)", rp, dseg);
            init = xprintf("capn_bptr_init_struct(%s, %s_DATA_WORDS, %s_PTR_COUNT)", bp, sn, sn);
            set = xprintf("capn_bptr_copy_struct(%s, &v.s)", bp);
        } else {
            Type_r e = list_elem(t);
            struct ctype ec = type_of(g, e);
            get = xprintf("capn_ptr_list(%s, %s, %s)", rp, esize_of(g, e), dseg);
            if (ec.kind == K_STRUCT) {
                const char *sn = node_need(g, ec.id)->cname;
                init = xprintf("capn_bptr_init_struct_list(%s, n, %s_DATA_WORDS, %s_PTR_COUNT)", bp,
                               sn, sn);
            } else {
                init = xprintf("capn_bptr_init_list(%s, %s, n)", bp, esize_of(g, e));
            }
            set = xprintf("capn_bptr_copy_list(%s, &v.l)", bp);
        }
        acc(g, c.c, N, "get", F, R, xprintf("    %s v = {%s};\n    return v;\n", c.c, get));
        acc(g, c.b, N, "init", F, c.kind == K_LIST ? xprintf("%s, uint32_t n", B) : B,
            xprintf("%s    %s v = {%s};\n    return v;\n", disc, c.b, init));
        acc(g, "enum capn_err", N, "set", F, xprintf("%s, %s v", B, c.c),
            xprintf("%s    return %s;\n", disc, set));
        break;
    }
    case K_ANY: {
        const char *body = xprintf("    return %s;\n", rp);
        if (has_pointer_default(dv, c.kind, &dp)) {
            const char *name = xprintf("%s_%s_DEFAULT", N, F);
            value_segment(g, name, dp);
            body = xprintf("    struct capn_ptr p = %s;\n"
                           "    struct capn_ptr d = {.msg = r.s.msg, .seg = &%s, .loc = %s.data, "
                           ".nest = r.s.nest};\n"
                           "    return capn_ptr_is_null(p) ? d : p;\n",
                           rp, name, name);
        }
        acc(g, "struct capn_ptr", N, "get", F, R, body);
        acc(g, "struct capn_bptr", N, "init", F, B, xprintf("%s    return %s;\n", disc, bp));
        acc(g, "enum capn_err", N, "set", F, xprintf("%s, struct capn_ptr v", B),
            xprintf("%s    return capn_bptr_copy(%s, v);\n", disc, bp));
        break;
    }
    case K_IFACE:
        acc(g, "uint32_t", N, "get", F, R,
            xprintf("    uint32_t index;\n"
                    "    return capn_ptr_cap(%s, &index) ? index : CAPNPC_NO_CAP;\n",
                    rp));
        acc(g, "void", N, "set", F, xprintf("%s, uint32_t index", B),
            xprintf("%s    capn_bptr_set_cap(%s, index);\n", disc, bp));
        break;
    default:
        return;
    }
    acc(g, "bool", N, "has", F, R, xprintf("    return !capn_ptr_is_null(%s);\n", rp));
}

static void gen_group_field(struct gen *g, const struct node *n, Field_r f, const char *disc)
{
    const struct node *gn = group_of(g, f);
    const char *N = n->cname, *F = txt(Field_get_name(f)), *G = gn->cname;
    struct buf clear = {0};
    clear_group(g, gn, &clear);
    acc(g, xprintf("%s_r", G), N, "get", F, xprintf("%s_r r", N),
        xprintf("    %s_r v = {r.s};\n    return v;\n", G));
    acc(g, xprintf("%s_b", G), N, "init", F, xprintf("%s_b b", N),
        xprintf("%s%s    %s_b v = {b.s};\n    return v;\n", disc, clear.p ? clear.p : "", G));
    buf_free(&clear);
}

void gen_struct_funcs(struct gen *g, const struct node *n)
{
    struct buf *h = &g->h;
    Node_struct_r s = Node_get_struct(n->n);
    const char *N = n->cname;
    bprintf(h, "\n/* %s */\n", n->scoped);
    if (!is_group(n)) {
        sym_add(g, "%s_read", N);
        sym_add(g, "%s_read_root", N);
        sym_add(g, "%s_build", N);
        sym_add(g, "%s_build_root", N);
        bprintf(h,
                "static inline %s_r %s_read(struct capn_ptr p)\n{\n"
                "    %s_r r = {capn_ptr_struct(p, NULL)};\n    return r;\n}\n",
                N, N, N);
        bprintf(h,
                "static inline %s_r %s_read_root(struct capn_msg *m)\n{\n"
                "    return %s_read(capn_msg_root(m));\n}\n",
                N, N, N);
        bprintf(h,
                "static inline %s_b %s_build(struct capn_bptr p)\n{\n"
                "    %s_b b = {capn_bptr_init_struct(p, %s_DATA_WORDS, %s_PTR_COUNT)};\n"
                "    return b;\n}\n",
                N, N, N, N, N);
        bprintf(h,
                "static inline %s_b %s_build_root(struct capn_bld *bld)\n{\n"
                "    return %s_build(capn_bld_root(bld));\n}\n",
                N, N, N);
    }
    uint32_t doff = Node_struct_get_discriminantOffset(s) * 2;
    if (Node_struct_get_discriminantCount(s) > 0) {
        sym_add(g, "%s_which", N);
        bprintf(h,
                "static inline enum %s_which %s_which(%s_r r)\n{\n"
                "    return (enum %s_which)capn_struct_u16(&r.s, %u, 0);\n}\n",
                N, N, N, N, doff);
    }
    List_Field_r fs = Node_struct_get_fields(s);
    uint32_t nf;
    uint32_t *order = fields_in_code_order(s, &nf);
    for (uint32_t i = 0; i < nf; i++) {
        Field_r f = List_Field_get(fs, order[i]);
        const char *disc = "";
        if (in_union(f))
            disc = xprintf("    capn_bstruct_set_u16(&b.s, %u, %u, 0);\n", doff,
                           Field_get_discriminantValue(f));
        emit_comment(h, doc_member(n, order[i]), "");
        if (Field_which(f) == Field_which_group)
            gen_group_field(g, n, f, disc);
        else
            gen_slot(g, n, f, disc);
    }
    for (uint32_t i = 0; i < nf; i++) {
        Field_r f = List_Field_get(fs, order[i]);
        if (Field_which(f) == Field_which_group)
            gen_struct_funcs(g, group_of(g, f));
    }
    free(order);
}
