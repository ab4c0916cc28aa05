/*
 * Interfaces: ids and method ordinals, param and result types, client stubs
 * and server dispatch tables.
 *
 * For interface I and method m:
 *   I_INTERFACE_ID, I_m_METHOD, I_METHOD_COUNT
 *   I_m_Params_r/_b, I_m_Results_r/_b (typedefs when the method names a
 *     struct of its own instead of a parameter list)
 *   client: I_m_begin(call) -> params builder; I_m_send(t, cap, call, &res);
 *     I_m_call(t, cap, call, <params as C arguments>, &res) does both
 *   server: struct I_ops (one handler per method), I_METHODS[] (name and
 *     invoker by ordinal), I_IFACE, I_dispatch(ops, self, ordinal, params,
 *     results, ctx)
 */
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

struct method {
    const char *name; /* schema name */
    const char *id;   /* C identifier for a struct member */
    const struct node *params, *results;
    const char *P, *R; /* I_m_Params, I_m_Results */
};

static struct method method_at(const struct gen *g, const struct node *n, Method_r m)
{
    struct method r;
    r.name = txt(Method_get_name(m));
    r.id = c_ident(r.name);
    r.params = node_need(g, Method_get_paramStructType(m));
    r.results = node_need(g, Method_get_resultStructType(m));
    r.P = xprintf("%s_%s_Params", n->cname, r.name);
    r.R = xprintf("%s_%s_Results", n->cname, r.name);
    return r;
}

/* Whether a params struct can be passed as plain C arguments: no unions
 * and no groups. Sets *floats if any argument is a float. */
static bool plain_params(const struct gen *g, const struct node *p, bool *floats)
{
    Node_struct_r s = Node_get_struct(p->n);
    List_Field_r fs = Node_struct_get_fields(s);
    *floats = false;
    if (Node_struct_get_discriminantCount(s) > 0)
        return false;
    for (uint32_t i = 0; i < List_Field_len(fs); i++) {
        Field_r f = List_Field_get(fs, i);
        if (Field_which(f) != Field_which_slot)
            return false;
        if (type_of(g, Field_slot_get_type(Field_get_slot(f))).kind == K_FLOAT)
            *floats = true;
    }
    return true;
}

/* The _call stub's C parameters for the params struct's fields. */
static char *call_args(const struct gen *g, const struct node *p)
{
    Node_struct_r s = Node_get_struct(p->n);
    List_Field_r fs = Node_struct_get_fields(s);
    uint32_t nf;
    uint32_t *order = fields_in_code_order(s, &nf);
    struct buf b = {0};
    for (uint32_t i = 0; i < nf; i++) {
        Field_r f = List_Field_get(fs, order[i]);
        struct ctype c = type_of(g, Field_slot_get_type(Field_get_slot(f)));
        const char *a = c_ident(txt(Field_get_name(f)));
        switch (c.kind) {
        case K_VOID:
            break;
        case K_TEXT:
            bprintf(&b, ", const char *%s, uint32_t %s_len", a, a);
            break;
        case K_DATA:
            bprintf(&b, ", const void *%s, uint32_t %s_len", a, a);
            break;
        case K_IFACE:
            bprintf(&b, ", uint32_t %s", a);
            break;
        default:
            bprintf(&b, ", %s %s", c.c, a);
            break;
        }
    }
    free(order);
    return b.p ? b.p : "";
}

static char *call_proto(const struct node *n, const struct method *m, const char *args)
{
    return xprintf("int %s_%s_call(const struct capnpc_transport *t, uint32_t cap, "
                   "struct capnpc_call *c%s, %s_r *out)",
                   n->cname, m->name, args, m->R);
}

static void alias(struct gen *g, const char *name, const struct node *s)
{
    if (!strcmp(name, s->cname))
        return;
    sym_add(g, "%s_r", name);
    sym_add(g, "%s_b", name);
    bprintf(&g->h, "typedef %s_r %s_r;\ntypedef %s_b %s_b;\n", s->cname, name, s->cname, name);
}

void gen_iface_header(struct gen *g, const struct node *n)
{
    struct buf *h = &g->h;
    const char *I = n->cname;
    List_Method_r ms = Node_interface_get_methods(Node_get_interface(n->n));
    uint32_t nm = List_Method_len(ms);

    bprintf(h, "\n");
    emit_comment(h, doc_node(n), "");
    sym_add(g, "%s_INTERFACE_ID", I);
    sym_add(g, "%s_METHOD_COUNT", I);
    bprintf(h, "#define %s_INTERFACE_ID UINT64_C(0x%016llx)\n", I, (unsigned long long)n->id);
    bprintf(h, "enum {\n");
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        sym_add(g, "%s_%s_METHOD", I, m.name);
        bprintf(h, "    %s_%s_METHOD = %u,\n", I, m.name, i);
    }
    bprintf(h, "    %s_METHOD_COUNT = %u\n};\n", I, nm);
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        alias(g, m.P, m.params);
        alias(g, m.R, m.results);
    }

    /* Server side. */
    sym_add(g, "struct %s_ops", I);
    bprintf(h, "\n/* Handlers of %s, one per method; NULL ones answer CAPNPC_E_BAD_METHOD. */\n",
            n->dotted);
    bprintf(h, "struct %s_ops {\n", I);
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        emit_comment(h, doc_member(n, i), "    ");
        bprintf(h, "    int (*%s)(void *self, %s_r params, %s_b results, void *ctx);\n", m.id, m.P,
                m.R);
    }
    if (nm == 0)
        bprintf(h, "    int unused_;\n");
    bprintf(h, "};\n");
    sym_add(g, "%s_METHODS", I);
    sym_add(g, "%s_IFACE", I);
    sym_add(g, "%s_dispatch", I);
    bprintf(h, "extern const struct capnpc_method %s_METHODS[];\n", I);
    bprintf(h, "extern const struct capnpc_iface %s_IFACE;\n", I);
    bprintf(h,
            "int %s_dispatch(const struct %s_ops *ops, void *self, uint16_t method,\n"
            "    struct capn_msg *params, struct capn_bld *results, void *ctx);\n",
            I, I);

    /* Client side. */
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        const struct node *P = m.params;
        sym_add(g, "%s_%s_begin", I, m.name);
        sym_add(g, "%s_%s_send", I, m.name);
        bprintf(h, "\n/* %s.%s */\n", n->dotted, m.name);
        bprintf(h,
                "static inline %s_b %s_%s_begin(struct capnpc_call *c)\n{\n"
                "    %s_b p = {capnpc_call_begin(c, %s_DATA_WORDS, %s_PTR_COUNT)};\n"
                "    return p;\n}\n",
                m.P, I, m.name, m.P, P->cname, P->cname);
        /* The results are read straight into *out: these views are 48
         * bytes, and a copy through a local costs more than the read. */
        bprintf(h,
                "static inline int %s_%s_send(const struct capnpc_transport *t, uint32_t cap,\n"
                "    struct capnpc_call *c, %s_r *out)\n{\n"
                "    return capnpc_call_send(t, cap, %s_INTERFACE_ID, %s_%s_METHOD, c,\n"
                "        out != NULL ? &out->s : NULL);\n}\n",
                I, m.name, m.R, I, I, m.name);
        bool floats;
        if (!plain_params(g, P, &floats))
            continue;
        sym_add(g, "%s_%s_call", I, m.name);
        if (floats)
            bprintf(h, "#ifdef CAPN_HAVE_FLOAT\n");
        bprintf(h, "%s;\n", call_proto(n, &m, call_args(g, P)));
        if (floats)
            bprintf(h, "#endif\n");
    }
}

static void gen_call(struct gen *g, const struct node *n, const struct method *m)
{
    struct buf *c = &g->c;
    const struct node *P = m->params;
    bool floats;
    if (!plain_params(g, P, &floats))
        return;
    Node_struct_r s = Node_get_struct(P->n);
    List_Field_r fs = Node_struct_get_fields(s);
    uint32_t nf;
    uint32_t *order = fields_in_code_order(s, &nf);
    bprintf(c, "\n%s%s\n{\n", floats ? "#ifdef CAPN_HAVE_FLOAT\n" : "",
            call_proto(n, m, call_args(g, P)));
    if (Node_struct_get_dataWordCount(s) == 0 && Node_struct_get_pointerCount(s) == 0) {
        /* No parameters: a constant params message, no builder. */
        bprintf(c,
                "    return capnpc_call_send_empty(t, cap, %s_INTERFACE_ID, %s_%s_METHOD, c,\n"
                "        out != NULL ? &out->s : NULL);\n}\n%s",
                n->cname, n->cname, m->name, floats ? "#endif\n" : "");
        free(order);
        return;
    }
    uint32_t nargs = 0;
    for (uint32_t i = 0; i < nf; i++)
        nargs +=
            type_of(g, Field_slot_get_type(Field_get_slot(List_Field_get(fs, i)))).kind != K_VOID;
    if (nargs == 0)
        bprintf(c, "    (void)%s_%s_begin(c);\n", n->cname, m->name);
    else
        bprintf(c, "    %s_b p = %s_%s_begin(c);\n", m->P, n->cname, m->name);
    for (uint32_t i = 0; i < nf; i++) {
        Field_r f = List_Field_get(fs, order[i]);
        struct ctype ct = type_of(g, Field_slot_get_type(Field_get_slot(f)));
        const char *F = txt(Field_get_name(f)), *a = c_ident(F);
        switch (ct.kind) {
        case K_VOID:
            break;
        case K_TEXT:
        case K_DATA:
            bprintf(c, "    %s_set_%s(p, %s, %s_len);\n", P->cname, F, a, a);
            break;
        case K_IFACE:
            bprintf(c, "    %s_set_%s(p, capnpc_call_add_cap(c, %s));\n", P->cname, F, a);
            break;
        case K_STRUCT:
        case K_LIST:
        case K_ANY:
            bprintf(c,
                    "    if (%s_set_%s(p, %s) != CAPN_OK && c->bld.err == CAPN_OK)\n"
                    "        return CAPNPC_E_BAD_PARAMS;\n",
                    P->cname, F, a);
            break;
        default:
            bprintf(c, "    %s_set_%s(p, %s);\n", P->cname, F, a);
            break;
        }
    }
    bprintf(c, "    return %s_%s_send(t, cap, c, out);\n}\n%s", n->cname, m->name,
            floats ? "#endif\n" : "");
    free(order);
}

/* The check of a method's params before its handler runs ("" when the
 * params hold no pointer, so there is nothing that could be malformed). */
static const char *params_check(const struct method *m, const char *p, const char *ind)
{
    if (Node_struct_get_pointerCount(Node_get_struct(m->params->n)) == 0)
        return "";
    return xprintf("%sif (!%s_check(%s))\n%s    return CAPNPC_E_BAD_PARAMS;\n", ind,
                   m->params->cname, p, ind);
}

void gen_iface_source(struct gen *g, const struct node *n)
{
    struct buf *c = &g->c;
    const char *I = n->cname;
    Node_interface_r in = Node_get_interface(n->n);
    List_Method_r ms = Node_interface_get_methods(in);
    uint32_t nm = List_Method_len(ms);

    bprintf(c, "\n/* ---- %s ---- */\n", n->dotted);
    /* The params view is passed by pointer: it is 48 bytes, and copying it
     * through memory per call is a measurable part of a small call. */
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        bprintf(c,
                "\nstatic int %s_%s_invoke(const void *ops, void *self,\n"
                "    const struct capn_struct *params, struct capn_bld *results, void *ctx)\n{\n"
                "    const struct %s_ops *o = ops;\n"
                "    if (o->%s == NULL)\n        return CAPNPC_E_BAD_METHOD;\n"
                "    %s_r p = {*params};\n%s"
                "    %s_b r = {capn_bld_init_root(results, %s_DATA_WORDS, %s_PTR_COUNT)};\n"
                "    return o->%s(self, p, r, ctx);\n}\n",
                I, m.name, I, m.id, m.P, params_check(&m, "p", "    "), m.R, m.results->cname,
                m.results->cname, m.id);
    }
    bprintf(c, "\nconst struct capnpc_method %s_METHODS[] = {\n", I);
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        bprintf(c, "    {\"%s\", %s_%s_invoke},\n", m.name, I, m.name);
    }
    if (nm == 0)
        bprintf(c, "    {NULL, NULL},\n");
    bprintf(c, "};\n");
    List_Superclass_r ss = Node_interface_get_superclasses(in);
    uint32_t ns = List_Superclass_len(ss);
    if (ns > 0) {
        bprintf(c, "\nstatic const uint64_t %s_supers[] = {\n", I);
        for (uint32_t i = 0; i < ns; i++)
            bprintf(c, "    UINT64_C(0x%016llx),\n",
                    (unsigned long long)Superclass_get_id(List_Superclass_get(ss, i)));
        bprintf(c, "};\n");
    }
    bprintf(c,
            "\nconst struct capnpc_iface %s_IFACE = {\n"
            "    %s_INTERFACE_ID, \"%s\", %u, %u, %s_METHODS, %s,\n};\n",
            I, I, n->dotted, nm, ns, I, ns > 0 ? xprintf("%s_supers", I) : "NULL");
    /*
     * I_dispatch does what capnpc_dispatch does. The common case (params
     * whose root is a near struct, results in a fresh builder with room for
     * the largest results root) is handled with a switch and no call but
     * the handler's, so that it needs few registers and inlines everything;
     * anything else goes to I_dispatch_slow, a tail call to the general
     * code, before any side effect.
     */
    if (nm == 0) {
        bprintf(c,
                "\nint %s_dispatch(const struct %s_ops *ops, void *self, uint16_t method,\n"
                "    struct capn_msg *params, struct capn_bld *results, void *ctx)\n{\n"
                "    return CAPNPC_E_BAD_METHOD;\n}\n",
                I, I);
        return;
    }
    uint32_t maxw = 0;
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        Node_struct_r rs = Node_get_struct(m.results->n);
        uint32_t w = Node_struct_get_dataWordCount(rs) + Node_struct_get_pointerCount(rs);
        maxw = w > maxw ? w : maxw;
    }
    bprintf(c,
            "\nstatic __attribute__((noinline)) int %s_dispatch_slow(const struct %s_ops *ops,\n"
            "    void *self, uint16_t method, struct capn_msg *params, struct capn_bld *results,\n"
            "    void *ctx)\n{\n"
            "    return capnpc_dispatch(&%s_IFACE, ops, self, method, params, results, ctx);\n}\n",
            I, I, I);
    /* The params are read once into a union of every method's params type
     * (each wraps one struct capn_struct), so that the handler's argument
     * is copied from it directly rather than through another local. */
    bprintf(c,
            "\nint %s_dispatch(const struct %s_ops *ops, void *self, uint16_t method,\n"
            "    struct capn_msg *params, struct capn_bld *results, void *ctx)\n{\n"
            "    union {\n"
            "        struct capn_struct s;\n",
            I, I);
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        bprintf(c, "        %s_r m%u;\n", m.P, i);
    }
    bprintf(
        c,
        "    } p;\n"
        "    int rc;\n"
        "    if (ops == NULL || method >= %s_METHOD_COUNT)\n"
        "        return CAPNPC_E_BAD_METHOD;\n"
        "    /* Results roots take at most %u words. */\n"
        "    if (!capn_bld_root_fits_(results, %u) || !capn_msg_root_struct_fast_(params, &p.s))\n"
        "        return %s_dispatch_slow(ops, self, method, params, results, ctx);\n"
        "    switch (method) {\n",
        I, maxw, maxw, I);
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        bprintf(c,
                "    case %s_%s_METHOD:\n"
                "        if (ops->%s == NULL)\n"
                "            return CAPNPC_E_BAD_METHOD;\n%s"
                "        rc = ops->%s(self, p.m%u, (%s_b){capn_bld_init_root_fast_(results,\n"
                "            %s_DATA_WORDS, %s_PTR_COUNT)}, ctx);\n"
                "        break;\n",
                I, m.name, m.id, params_check(&m, xprintf("p.m%u", i), "        "), m.id, i, m.R,
                m.results->cname, m.results->cname);
    }
    bprintf(c, "    default:\n"
               "        return CAPNPC_E_BAD_METHOD;\n"
               "    }\n"
               "    return capnpc_dispatch_status(rc, results);\n}\n");
    for (uint32_t i = 0; i < nm; i++) {
        struct method m = method_at(g, n, List_Method_get(ms, i));
        gen_call(g, n, &m);
    }
}

void gen_iface_table(struct gen *g, const struct node *const *ifaces, size_t n)
{
    const char *S = g->stem;
    sym_add(g, "%s_INTERFACES", S);
    sym_add(g, "%s_INTERFACE_COUNT", S);
    bprintf(&g->h, "\n/* Every interface of %s, for lookups by id. */\n", g->filename);
    bprintf(&g->h, "#define %s_INTERFACE_COUNT %zu\n", S, n);
    bprintf(&g->h, "extern const struct capnpc_iface *const %s_INTERFACES[];\n", S);
    bprintf(&g->c, "\nconst struct capnpc_iface *const %s_INTERFACES[] = {\n", S);
    for (size_t i = 0; i < n; i++)
        bprintf(&g->c, "    &%s_IFACE,\n", ifaces[i]->cname);
    if (n == 0)
        bprintf(&g->c, "    NULL,\n");
    bprintf(&g->c, "};\n");
}
