/*
 * One schema file: its header (<file>.h), source (<file>.c) and Markdown
 * reference. The header is laid out so that everything is defined before
 * use: enums, struct wrapper types, list wrappers, accessors, constants,
 * then interfaces.
 */
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

void emit_comment(struct buf *b, const char *doc, const char *indent)
{
    if (doc == NULL)
        return;
    size_t n = strlen(doc);
    while (n > 0 && (doc[n - 1] == '\n' || doc[n - 1] == ' '))
        n--;
    bprintf(b, "%s/*", indent);
    bool start = true;
    for (size_t i = 0; i < n; i++) {
        if (start) {
            bprintf(b, "%s", doc[i] == '\n' ? "" : " ");
            start = false;
        }
        if (doc[i] == '\n') {
            bprintf(b, "\n%s *", indent);
            start = true;
        } else if (doc[i] == '*' && i + 1 < n && doc[i + 1] == '/') {
            /* A star then a slash would end the C comment early. */
            bprintf(b, "* ");
        } else if (doc[i] == '/' && i + 1 < n && doc[i + 1] == '*') {
            /* A slash then a star inside a comment is an error under
             * -Werror=comment: the two are split by a space. */
            bprintf(b, "/ ");
        } else {
            buf_put(b, &doc[i], 1);
        }
    }
    bprintf(b, " */\n");
}

/* Nodes of the file in declaration order, without groups (their parents
 * generate them) but with the implicit param and result structs. */
struct order {
    const struct node **v;
    size_t n, cap;
};

static void push(struct order *o, const struct node *n)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->v = realloc(o->v, o->cap * sizeof(*o->v));
        if (o->v == NULL)
            fatal("out of memory");
    }
    o->v[o->n++] = n;
}

static void walk(const struct gen *g, const struct node *n, struct order *all, struct order *docs)
{
    List_Node_NestedNode_r nest = Node_get_nestedNodes(n->n);
    for (uint32_t i = 0; i < List_Node_NestedNode_len(nest); i++) {
        const struct node *c =
            node_find(g, Node_NestedNode_get_id(List_Node_NestedNode_get(nest, i)));
        if (c == NULL)
            continue;
        enum Node_which w = Node_which(c->n);
        if (w == Node_which_annotation || w == Node_which_file)
            continue;
        push(all, c);
        push(docs, c);
        walk(g, c, all, docs);
        if (w != Node_which_interface)
            continue;
        List_Method_r ms = Node_interface_get_methods(Node_get_interface(c->n));
        for (uint32_t j = 0; j < List_Method_len(ms); j++) {
            Method_r m = List_Method_get(ms, j);
            uint64_t ids[2] = {Method_get_paramStructType(m), Method_get_resultStructType(m)};
            for (int k = 0; k < 2; k++) {
                const struct node *p = node_need(g, ids[k]);
                if (Node_get_scopeId(p->n) == 0 && p->file == g->file->id)
                    push(all, p);
            }
        }
    }
}

/* schema/c.capnp: `annotation implements (enumerant) :Text`. */
#define ANNOTATION_IMPLEMENTS UINT64_C(0x9b15f3978f14a4af)

/* The interface an enumerant's $C.implements names, NULL without one;
 * fails the build if the name is not an interface of this file. */
static const struct node *implemented_iface(const struct gen *g, const struct node *e,
                                            Enumerant_r en)
{
    List_Annotation_r as = Enumerant_get_annotations(en);
    for (uint32_t i = 0; i < List_Annotation_len(as); i++) {
        Annotation_r a = List_Annotation_get(as, i);
        if (Annotation_get_id(a) != ANNOTATION_IMPLEMENTS)
            continue;
        const char *want = txt(Value_get_text(Annotation_get_value(a)));
        for (size_t k = 0; k < g->nnodes; k++) {
            const struct node *c = &g->nodes[k];
            if (c->file == e->file && Node_which(c->n) == Node_which_interface &&
                !strcmp(c->dotted, want))
                return c;
        }
        fatal("%s: enumerant %s.%s: $C.implements(\"%s\") names no interface of this file",
              g->filename, e->dotted, txt(Enumerant_get_name(en)), want);
    }
    return NULL;
}

/* E_IFACES[] for an enum whose enumerants are annotated $C.implements. */
static void gen_enum_ifaces(struct gen *g, const struct node *n)
{
    const char *E = n->cname;
    List_Enumerant_r es = Node_enum_get_enumerants(Node_get_enum(n->n));
    uint32_t ne = List_Enumerant_len(es);
    bool any = false;
    for (uint32_t i = 0; i < ne && !any; i++)
        any = implemented_iface(g, n, List_Enumerant_get(es, i)) != NULL;
    if (!any)
        return;
    sym_add(g, "%s_IFACES", E);
    bprintf(&g->h, "/* The interface each %s implements ($C.implements), NULL for none. */\n", E);
    bprintf(&g->h, "extern const struct capnpc_iface *const %s_IFACES[%u];\n", E, ne);
    bprintf(&g->c, "\nconst struct capnpc_iface *const %s_IFACES[%u] = {\n", E, ne);
    for (uint32_t i = 0; i < ne; i++) {
        const struct node *f = implemented_iface(g, n, List_Enumerant_get(es, i));
        bprintf(&g->c, "    %s%s%s,\n", f ? "&" : "", f ? f->cname : "NULL", f ? "_IFACE" : "");
    }
    bprintf(&g->c, "};\n");
}

static void gen_enum(struct gen *g, const struct node *n)
{
    struct buf *h = &g->h;
    const char *E = n->cname;
    List_Enumerant_r es = Node_enum_get_enumerants(Node_get_enum(n->n));
    uint32_t ne = List_Enumerant_len(es);
    bprintf(h, "\n");
    emit_comment(h, doc_node(n), "");
    sym_add(g, "%s_TYPE_ID", E);
    sym_add(g, "%s", E);
    sym_add(g, "%s_COUNT", E);
    sym_add(g, "%s_NAMES", E);
    bprintf(h, "#define %s_TYPE_ID UINT64_C(0x%016llx)\n", E, (unsigned long long)n->id);
    if (ne == 0) {
        bprintf(h, "typedef uint16_t %s;\n", E);
    } else {
        bprintf(h, "typedef enum %s {\n", E);
        for (uint32_t i = 0; i < ne; i++) {
            const char *name = txt(Enumerant_get_name(List_Enumerant_get(es, i)));
            sym_add(g, "%s_%s", E, name);
            emit_comment(h, doc_member(n, i), "    ");
            bprintf(h, "    %s_%s = %u,\n", E, name, i);
        }
        bprintf(h, "} %s;\n", E);
    }
    bprintf(h, "#define %s_COUNT %u\n", E, ne);
    bprintf(h, "extern const char *const %s_NAMES[];\n", E);
    bprintf(&g->c, "\nconst char *const %s_NAMES[] = {", E);
    for (uint32_t i = 0; i < ne; i++)
        bprintf(&g->c, "%s\"%s\",", i % 4 == 0 ? "\n    " : " ",
                txt(Enumerant_get_name(List_Enumerant_get(es, i))));
    bprintf(&g->c, "%s\n};\n", ne == 0 ? "\n    NULL," : "");
    gen_enum_ifaces(g, n);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void prologue(struct gen *g)
{
    struct buf *h = &g->h, *c = &g->c;
    CapnpVersion_r v = CodeGeneratorRequest_get_capnpVersion(g->req);
    const char *ver = xprintf("%u.%u.%u", CapnpVersion_get_major(v), CapnpVersion_get_minor(v),
                              CapnpVersion_get_micro(v));
    char *guard = xprintf("CAPNPC_%s_H", g->filename);
    for (char *p = guard; *p; p++)
        *p = (*p >= 'a' && *p <= 'z')                                 ? (char)(*p - 'a' + 'A')
             : ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) ? *p
                                                                      : '_';
    /* Generated files are compared byte for byte (the bootstrap check), so
     * "make format" must leave them alone. */
    bprintf(h, "/* Generated by capnpc-c (capnp %s) from %s; do not edit. */\n", ver, g->filename);
    bprintf(h, "/* clang-format off */\n");
    bprintf(h, "#ifndef %s\n#define %s\n\n", guard, guard);
    bprintf(h, "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n\n");
    bprintf(h, "#include \"capnp/capnpc_rt.h\"\n");
    uint64_t deps[256];
    size_t nd = file_deps(g, g->file->id, deps, 256);
    for (size_t i = 0; i < nd; i++)
        if (deps[i] != g->file->id)
            bprintf(h, "#include \"%s.h\"\n",
                    base_name(txt(Node_get_displayName(node_need(g, deps[i])->n))));
    sym_add(g, "%s_FILE_ID", g->stem);
    bprintf(h, "\n#define %s_FILE_ID UINT64_C(0x%016llx)\n", g->stem,
            (unsigned long long)g->file->id);
    bprintf(c, "/* Generated by capnpc-c (capnp %s) from %s; do not edit. */\n", ver, g->filename);
    bprintf(c, "/* clang-format off */\n");
    bprintf(c, "#include \"%s.h\"\n", base_name(g->filename));
}

void gen_file(struct gen *g, uint64_t file_id, const char *filename)
{
    struct order all = {0}, docs = {0};
    g->file = node_need(g, file_id);
    g->filename = filename;
    g->stem = stem_of(g, file_id);
    walk(g, g->file, &all, &docs);
    prologue(g);

    for (size_t i = 0; i < all.n; i++)
        if (Node_which(all.v[i]->n) == Node_which_enum)
            gen_enum(g, all.v[i]);
    for (size_t i = 0; i < all.n; i++)
        if (Node_which(all.v[i]->n) == Node_which_struct)
            gen_struct_types(g, all.v[i]);
    for (size_t i = 0; i < all.n; i++) {
        const struct node *n = all.v[i];
        if (Node_which(n->n) == Node_which_struct)
            gen_struct_lists(g, n);
        if (Node_which(n->n) == Node_which_const) {
            Type_r t = Node_const_get_type(Node_get_const(n->n));
            if (Type_which(t) == Type_which_list)
                gen_list(g, list_elem(t));
        }
    }
    for (size_t i = 0; i < all.n; i++)
        if (Node_which(all.v[i]->n) == Node_which_struct)
            gen_struct_funcs(g, all.v[i]);
    for (size_t i = 0; i < all.n; i++)
        if (Node_which(all.v[i]->n) == Node_which_struct)
            gen_check(g, all.v[i]);
    for (size_t i = 0; i < all.n; i++)
        if (Node_which(all.v[i]->n) == Node_which_const)
            gen_const(g, all.v[i]);

    struct order ifaces = {0};
    for (size_t i = 0; i < all.n; i++)
        if (Node_which(all.v[i]->n) == Node_which_interface)
            push(&ifaces, all.v[i]);
    for (size_t i = 0; i < ifaces.n; i++) {
        gen_iface_header(g, ifaces.v[i]);
        gen_iface_source(g, ifaces.v[i]);
    }
    gen_iface_table(g, ifaces.v, ifaces.n);
    bprintf(&g->h, "\n#endif\n");
    gen_doc(g, docs.v, docs.n);
    sym_check(g);
    free(all.v);
    free(docs.v);
    free(ifaces.v);
}
