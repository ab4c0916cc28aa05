/*
 * Typed list wrappers: List_<Elem>_r / List_<Elem>_b around the runtime's
 * capn_list / capn_blist, with len, get and set (or init / at for pointer
 * elements). A wrapper is emitted in every file that uses the list type,
 * under an include guard, so two generated headers may define the same one.
 */
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

static bool seen(struct gen *g, const char *name)
{
    for (size_t i = 0; i < g->nlists; i++)
        if (!strcmp(g->lists[i], name))
            return true;
    if (g->nlists == g->caplists) {
        g->caplists = g->caplists ? g->caplists * 2 : 64;
        g->lists = realloc(g->lists, g->caplists * sizeof(*g->lists));
        if (g->lists == NULL)
            fatal("out of memory");
    }
    g->lists[g->nlists++] = xstrndup(name, strlen(name));
    return false;
}

/* static inline RET W_NAME(ARGS) { BODY } in the project's style. */
static void fn(struct buf *h, const char *ret, const char *w, const char *name, const char *args,
               const char *body)
{
    bprintf(h, "static inline %s%s%s_%s(%s)\n{\n%s}\n", ret, ret[strlen(ret) - 1] == '*' ? "" : " ",
            w, name, args, body);
}

static void gen_elem_access(struct gen *g, const char *w, Type_r elem, const struct ctype *e)
{
    struct buf *h = &g->h;
    const char *rl = xprintf("%s_r l, uint32_t i", w), *bl = xprintf("%s_b l, uint32_t i", w);
    switch (e->kind) {
    case K_VOID:
        break;
    case K_BOOL:
    case K_INT:
        fn(h, e->c, w, "get", rl, xprintf("    return capn_list_%s(&l.l, i);\n", e->acc));
        fn(h, "void", w, "set", xprintf("%s, %s v", bl, e->c),
           xprintf("    capn_blist_set_%s(&l.l, i, v);\n", e->acc));
        break;
    case K_FLOAT: {
        const char *u = e->bits == 32 ? "uint32_t" : "uint64_t";
        const char *ua = e->bits == 32 ? "u32" : "u64";
        bprintf(h, "#ifdef CAPN_HAVE_FLOAT\n");
        fn(h, e->c, w, "get", rl, xprintf("    return capn_list_%s(&l.l, i);\n", e->acc));
        fn(h, "void", w, "set", xprintf("%s, %s v", bl, e->c),
           xprintf("    capn_blist_set_%s(&l.l, i, v);\n", e->acc));
        bprintf(h, "#endif\n");
        fn(h, u, w, "get_bits", rl, xprintf("    return capn_list_%s(&l.l, i);\n", ua));
        fn(h, "void", w, "set_bits", xprintf("%s, %s v", bl, u),
           xprintf("    capn_blist_set_%s(&l.l, i, v);\n", ua));
        break;
    }
    case K_ENUM:
        fn(h, e->c, w, "get", rl, xprintf("    return (%s)capn_list_u16(&l.l, i);\n", e->c));
        fn(h, "void", w, "set", xprintf("%s, %s v", bl, e->c),
           "    capn_blist_set_u16(&l.l, i, (uint16_t)v);\n");
        break;
    case K_TEXT:
        fn(h, e->c, w, "get", rl, "    return capn_ptr_text(capn_list_ptr(&l.l, i), NULL, 0);\n");
        fn(h, "bool", w, "set", xprintf("%s, const char *s, uint32_t len", bl),
           "    return capn_bptr_set_text(capn_blist_ptr(&l.l, i), s, len);\n");
        fn(h, "char *", w, "init", xprintf("%s, uint32_t len", bl),
           "    return capn_bptr_init_text(capn_blist_ptr(&l.l, i), len);\n");
        break;
    case K_DATA:
        fn(h, e->c, w, "get", rl, "    return capn_ptr_data(capn_list_ptr(&l.l, i), NULL, 0);\n");
        fn(h, "bool", w, "set", xprintf("%s, const void *d, uint32_t len", bl),
           "    return capn_bptr_set_data(capn_blist_ptr(&l.l, i), d, len);\n");
        fn(h, "uint8_t *", w, "init", xprintf("%s, uint32_t len", bl),
           "    return capn_bptr_init_data(capn_blist_ptr(&l.l, i), len);\n");
        break;
    case K_STRUCT:
        fn(h, e->c, w, "get", rl,
           xprintf("    %s v = {capn_list_struct(&l.l, i)};\n    return v;\n", e->c));
        fn(h, e->b, w, "at", bl,
           xprintf("    %s v = {capn_blist_struct(&l.l, i)};\n    return v;\n", e->b));
        break;
    case K_LIST: {
        Type_r inner = list_elem(elem);
        struct ctype ie = type_of(g, inner);
        const char *init;
        if (ie.kind == K_STRUCT) {
            const char *sn = node_need(g, ie.id)->cname;
            init = xprintf("capn_bptr_init_struct_list(capn_blist_ptr(&l.l, i), n, "
                           "%s_DATA_WORDS, %s_PTR_COUNT)",
                           sn, sn);
        } else {
            init =
                xprintf("capn_bptr_init_list(capn_blist_ptr(&l.l, i), %s, n)", esize_of(g, inner));
        }
        fn(h, e->c, w, "get", rl,
           xprintf("    %s v = {capn_ptr_list(capn_list_ptr(&l.l, i), %s, NULL)};\n"
                   "    return v;\n",
                   e->c, esize_of(g, inner)));
        fn(h, e->b, w, "init", xprintf("%s, uint32_t n", bl),
           xprintf("    %s v = {%s};\n    return v;\n", e->b, init));
        fn(h, "enum capn_err", w, "set", xprintf("%s, %s v", bl, e->c),
           "    return capn_bptr_copy_list(capn_blist_ptr(&l.l, i), &v.l);\n");
        break;
    }
    case K_IFACE:
        fn(h, "uint32_t", w, "get", rl,
           "    uint32_t index;\n"
           "    return capn_ptr_cap(capn_list_ptr(&l.l, i), &index) ? index : CAPNPC_NO_CAP;\n");
        fn(h, "void", w, "set", xprintf("%s, uint32_t index", bl),
           "    capn_bptr_set_cap(capn_blist_ptr(&l.l, i), index);\n");
        break;
    case K_ANY:
        fn(h, "struct capn_ptr", w, "get", rl, "    return capn_list_ptr(&l.l, i);\n");
        fn(h, "struct capn_bptr", w, "at", bl, "    return capn_blist_ptr(&l.l, i);\n");
        break;
    }
}

void gen_list(struct gen *g, Type_r elem)
{
    struct ctype e = type_of(g, elem);
    if (e.kind == K_LIST)
        gen_list(g, list_elem(elem));
    const char *w = e.list;
    if (seen(g, w))
        return;
    sym_add(g, "%s_r", w);
    sym_add(g, "%s_b", w);
    struct buf *h = &g->h;
    bprintf(h, "\n#ifndef CAPNPC_HAVE_%s\n#define CAPNPC_HAVE_%s\n", w, w);
    bprintf(h, "typedef struct %s_r {\n    struct capn_list l;\n} %s_r;\n", w, w);
    bprintf(h, "typedef struct %s_b {\n    struct capn_blist l;\n} %s_b;\n", w, w);
    fn(h, "uint32_t", w, "len", xprintf("%s_r l", w), "    return l.l.len;\n");
    fn(h, "uint32_t", w, "blen", xprintf("%s_b l", w), "    return l.l.len;\n");
    gen_elem_access(g, w, elem, &e);
    bprintf(h, "#endif\n");
}
