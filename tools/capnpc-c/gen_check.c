/*
 * Params checks: for every struct N, `bool N_check(N_r r)` reads every
 * pointer it holds (text, data, lists and their elements, nested structs,
 * capabilities; of a union only the member that is set; an AnyPointer as a
 * pointer only, since only the handler knows its type), so that a
 * malformed pointer anywhere in it records the message's sticky error.
 * It returns whether the message is still error-free.
 *
 * Server dispatch calls the params struct's check before the handler runs
 * (decode, then perform): a handler never sees a field that read as its
 * default because its pointer was bad. Work is bounded by the reader, not
 * by this code: every pointer followed is charged to the message's
 * traversal budget, and nested structs to its nesting limit, so a hostile
 * message cannot make a check loop or recurse without end.
 */
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

static bool in_union(Field_r f)
{
    return Field_get_discriminantValue(f) != Field_noDiscriminant;
}

/* Whether a value of type t holds a pointer a check must follow. */
static bool has_pointers(const struct gen *g, Type_r t)
{
    switch (type_of(g, t).kind) {
    case K_TEXT:
    case K_DATA:
    case K_STRUCT:
    case K_LIST:
    case K_IFACE:
    case K_ANY:
        return true;
    default:
        return false;
    }
}

/* Statements that check `expr`, a reader value of type t. `depth` keeps
 * the loop variables of nested lists apart. */
static void check_value(const struct gen *g, struct buf *c, Type_r t, const char *expr,
                        unsigned depth, const char *ind)
{
    struct ctype ct = type_of(g, t);
    switch (ct.kind) {
    case K_STRUCT: {
        /* Only a struct that is there: a null one reads as defaults, and
         * following its (null) fields again would never end for a type
         * that contains itself. */
        const char *S = node_need(g, ct.id)->cname;
        bprintf(c,
                "%s{\n%s    %s_r s%u = %s;\n%s    if (s%u.s.seg != NULL)\n%s        "
                "(void)%s_check(s%u);\n%s}\n",
                ind, ind, S, depth, expr, ind, depth, ind, S, depth, ind);
        return;
    }
    case K_LIST: {
        Type_r e = list_elem(t);
        struct ctype et = type_of(g, e);
        bprintf(c, "%s{\n%s    %s l%u = %s;\n", ind, ind, ct.c, depth, expr);
        if (has_pointers(g, e) && et.kind != K_IFACE) {
            /* The wrapper of this list type is ct.c without its "_r". */
            size_t n = strlen(ct.c) - 2;
            char *w = xstrndup(ct.c, n);
            char *el = xprintf("%s_get(l%u, i%u)", w, depth, depth);
            char *ind2 = xprintf("%s        ", ind);
            bprintf(c,
                    "%s    for (uint32_t i%u = 0; i%u < %s_len(l%u) && capnpc_msg_ok(l%u.l.msg); "
                    "i%u++)\n%s    {\n",
                    ind, depth, depth, w, depth, depth, depth, ind);
            if (et.kind == K_STRUCT || et.kind == K_LIST)
                check_value(g, c, e, el, depth + 1, ind2);
            else
                bprintf(c, "%s(void)%s;\n", ind2, el);
            bprintf(c, "%s    }\n", ind);
        } else {
            bprintf(c, "%s    (void)l%u;\n", ind, depth);
        }
        bprintf(c, "%s}\n", ind);
        return;
    }
    case K_TEXT:
    case K_DATA:
    case K_IFACE:
    case K_ANY:
        bprintf(c, "%s(void)%s;\n", ind, expr);
        return;
    default:
        return;
    }
}

/* The checks of every field of struct or group n, read through `r`. */
static void check_fields(const struct gen *g, struct buf *c, const struct node *n, const char *r)
{
    Node_struct_r s = Node_get_struct(n->n);
    List_Field_r fs = Node_struct_get_fields(s);
    uint32_t nf;
    uint32_t *order = fields_in_code_order(s, &nf);
    for (uint32_t i = 0; i < nf; i++) {
        Field_r f = List_Field_get(fs, order[i]);
        const char *F = txt(Field_get_name(f));
        struct buf one = {0};
        if (Field_which(f) == Field_which_group) {
            const struct node *gn = node_need(g, Field_group_get_typeId(Field_get_group(f)));
            char *gr = xprintf("%s_get_%s(%s)", n->cname, F, r);
            check_fields(g, &one, gn, gr);
        } else {
            Type_r t = Field_slot_get_type(Field_get_slot(f));
            check_value(g, &one, t, xprintf("%s_get_%s(%s)", n->cname, F, r), 0,
                        in_union(f) ? "        " : "    ");
        }
        if (one.p == NULL)
            continue;
        if (in_union(f))
            bprintf(c, "    if (%s_which(%s) == %s_which_%s) {\n%s    }\n", n->cname, r, n->cname,
                    F, one.p);
        else
            bprintf(c, "%s", one.p);
        buf_free(&one);
    }
    free(order);
}

void gen_check(struct gen *g, const struct node *n)
{
    const char *N = n->cname;
    sym_add(g, "%s_check", N);
    bprintf(&g->h,
            "/* Read every pointer of r (recursively); false if the message has an error. */\n"
            "bool %s_check(%s_r r);\n",
            N, N);
    struct buf body = {0};
    check_fields(g, &body, n, "r");
    bprintf(&g->c, "\nbool %s_check(%s_r r)\n{\n%s    return capnpc_msg_ok(r.s.msg);\n}\n", N, N,
            body.p ? body.p : "");
    buf_free(&body);
}
