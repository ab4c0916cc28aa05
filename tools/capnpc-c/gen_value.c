/*
 * Values: primitive literals (for XOR-encoded field defaults and constants),
 * constant segments holding pointer defaults, and the schema's constants.
 *
 * A pointer default (struct, list, AnyPointer) is copied out of the request
 * into a one-segment message whose word 0 points at the value: exactly the
 * "default segment" the runtime's capn_ptr_struct / capn_ptr_list take.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

static char *int_lit(int64_t v, unsigned bits)
{
    if (bits == 64) {
        if (v == INT64_MIN)
            return xprintf("(-INT64_C(9223372036854775807) - 1)");
        return xprintf("INT64_C(%" PRId64 ")", v);
    }
    if (bits == 32 && v == INT32_MIN)
        return xprintf("(-2147483647 - 1)");
    return xprintf("%" PRId64, v);
}

static char *uint_lit(uint64_t v, unsigned bits)
{
    if (bits == 64)
        return xprintf("UINT64_C(%" PRIu64 ")", v);
    if (bits == 32)
        return xprintf("UINT32_C(%" PRIu64 ")", v);
    return xprintf("%" PRIu64, v);
}

char *value_literal(const struct gen *g, Type_r t, Value_r v)
{
    struct ctype c = type_of(g, t);
    switch (Value_which(v)) {
    case Value_which_bool:
        return Value_get_bool(v) ? "true" : "false";
    case Value_which_int8:
        return int_lit(Value_get_int8(v), 8);
    case Value_which_int16:
        return int_lit(Value_get_int16(v), 16);
    case Value_which_int32:
        return int_lit(Value_get_int32(v), 32);
    case Value_which_int64:
        return int_lit(Value_get_int64(v), 64);
    case Value_which_uint8:
        return uint_lit(Value_get_uint8(v), 8);
    case Value_which_uint16:
        return uint_lit(Value_get_uint16(v), 16);
    case Value_which_uint32:
        return uint_lit(Value_get_uint32(v), 32);
    case Value_which_uint64:
        return uint_lit(Value_get_uint64(v), 64);
    case Value_which_float32:
        return xprintf("UINT32_C(0x%08" PRIx32 ")", Value_get_float32_bits(v));
    case Value_which_float64:
        return xprintf("UINT64_C(0x%016" PRIx64 ")", Value_get_float64_bits(v));
    case Value_which_enum:
        return uint_lit(Value_get_enum(v), 16);
    default:
        break;
    }
    /* A value of another kind than its type: the default of the type. */
    if (c.kind == K_BOOL)
        return "false";
    if (c.kind == K_FLOAT)
        return c.bits == 32 ? "UINT32_C(0x00000000)" : "UINT64_C(0x0000000000000000)";
    return "0";
}

/* Copy p into a fresh single-segment message. */
static struct capn_seg copy_value(struct capn_ptr p, uint8_t **mem)
{
    for (size_t size = 4096;; size *= 2) {
        struct capn_seg seg;
        struct capn_bld b;
        *mem = xcalloc(1, size);
        capn_bld_init(&b, &seg, 1, *mem, size);
        enum capn_err e = capn_bptr_copy(capn_bld_root(&b), p);
        if (e == CAPN_OK && b.err == CAPN_OK)
            return seg;
        free(*mem);
        if (b.err != CAPN_ERR_NO_SPACE || size > ((size_t)1 << 30))
            fatal("cannot encode a default value: %s", capn_err_str(e ? e : b.err));
    }
}

void value_segment(struct gen *g, const char *name, struct capn_ptr p)
{
    uint8_t *mem;
    struct capn_seg seg = copy_value(p, &mem);
    sym_add(g, "%s", name);
    bprintf(&g->h, "extern const struct capn_seg %s;\n", name);
    bprintf(&g->c, "\nstatic const uint64_t %s_words[%u] = {", name, seg.words);
    for (uint32_t i = 0; i < seg.words; i++) {
        uint64_t w;
        memcpy(&w, seg.data + (size_t)i * 8, 8);
        bprintf(&g->c, "%s0x%016" PRIx64 "u,", i % 3 == 0 ? "\n    " : " ", w);
    }
    bprintf(&g->c, "\n};\nconst struct capn_seg %s = {(const uint8_t *)%s_words, %u, %u};\n", name,
            name, seg.words, seg.words);
    free(mem);
}

/* A C string literal of n bytes. Octal escapes cannot run into the next
 * character; '?' is escaped against trigraphs. */
char *c_string(const uint8_t *s, size_t n)
{
    struct buf b = {0};
    buf_put(&b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (ch == '"' || ch == '\\' || ch == '?')
            bprintf(&b, "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            buf_put(&b, (const char *)&ch, 1);
        else
            bprintf(&b, "\\%03o", ch);
    }
    buf_put(&b, "\"", 1);
    return b.p;
}

static void float_const(struct gen *g, const char *name, Type_r t, Value_r v)
{
    struct buf *h = &g->h;
    bool f32 = Type_which(t) == Type_which_float32;
    char lit[64];
    double d;
    if (f32) {
        uint32_t bits = Value_get_float32_bits(v);
        float f;
        memcpy(&f, &bits, 4);
        d = f;
    } else {
        uint64_t bits = Value_get_float64_bits(v);
        memcpy(&d, &bits, 8);
    }
    if (d != d)
        snprintf(lit, sizeof(lit), "%s", f32 ? "__builtin_nanf(\"\")" : "__builtin_nan(\"\")");
    else if (d > 1e308 * 10 || d < -1e308 * 10)
        snprintf(lit, sizeof(lit), "%s%s", d < 0 ? "-" : "",
                 f32 ? "__builtin_inff()" : "__builtin_inf()");
    else
        snprintf(lit, sizeof(lit), "%a%s", d, f32 ? "f" : "");
    sym_add(g, "%s_BITS", name);
    bprintf(h, "static const %s %s_BITS = %s;\n", f32 ? "uint32_t" : "uint64_t", name,
            value_literal(g, t, v));
    bprintf(h, "#ifdef CAPN_HAVE_FLOAT\nstatic const %s %s = %s;\n#endif\n",
            f32 ? "float" : "double", name, lit);
}

void gen_const(struct gen *g, const struct node *n)
{
    Node_const_r k = Node_get_const(n->n);
    Type_r t = Node_const_get_type(k);
    Value_r v = Node_const_get_value(k);
    struct ctype c = type_of(g, t);
    struct buf *h = &g->h;
    const char *name = n->cname;
    bprintf(h, "\n");
    emit_comment(h, doc_node(n), "");
    sym_add(g, "%s", name);
    switch (c.kind) {
    case K_VOID:
    case K_IFACE:
        bprintf(h, "/* %s: no value in C */\n", name);
        break;
    case K_BOOL:
    case K_INT:
    case K_ENUM:
        bprintf(h, "static const %s %s = (%s)%s;\n", c.c, name, c.c, value_literal(g, t, v));
        break;
    case K_FLOAT:
        float_const(g, name, t, v);
        break;
    case K_TEXT: {
        struct capn_text s = Value_get_text(v);
        bprintf(h, "static const struct capn_text %s = {%s, %u};\n", name,
                c_string((const uint8_t *)s.str, s.len), s.len);
        break;
    }
    case K_DATA: {
        struct capn_data d = Value_get_data(v);
        bprintf(h, "static const struct capn_data %s = {(const uint8_t *)%s, %u};\n", name,
                c_string(d.ptr, d.len), d.len);
        break;
    }
    case K_STRUCT:
    case K_LIST:
    case K_ANY: {
        struct capn_ptr p = c.kind == K_STRUCT ? Value_get_struct(v)
                            : c.kind == K_LIST ? Value_get_list(v)
                                               : Value_get_anyPointer(v);
        const char *seg = xprintf("%s_VALUE", name);
        value_segment(g, seg, p);
        bprintf(h, "static inline %s %s(void)\n{\n", c.c, name);
        bprintf(
            h,
            "    struct capn_ptr p = {.seg = &%s, .loc = %s.data, .nest = CAPN_NESTING_LIMIT};\n",
            seg, seg);
        if (c.kind == K_STRUCT)
            bprintf(h, "    %s v = {capn_ptr_struct(p, NULL)};\n    return v;\n", c.c);
        else if (c.kind == K_LIST)
            bprintf(h, "    %s v = {capn_ptr_list(p, %s, NULL)};\n    return v;\n", c.c,
                    esize_of(g, list_elem(t)));
        else
            bprintf(h, "    return p;\n");
        bprintf(h, "}\n");
        break;
    }
    }
}
