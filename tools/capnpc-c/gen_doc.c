/*
 * The Markdown interface reference: every interface with its methods, then
 * structures, enumerations and constants, each with the doc comments the
 * compiler passes in the request's sourceInfo.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

/* A doc comment as one table cell: lines joined, '|' escaped. */
static void cell(struct buf *b, const char *doc)
{
    if (doc == NULL)
        return;
    bool space = false;
    for (const char *p = doc; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t') {
            space = true;
            continue;
        }
        if (space && b->len > 0 && b->p[b->len - 1] != ' ' && b->p[b->len - 1] != '|')
            buf_put(b, " ", 1);
        space = false;
        if (*p == '|')
            buf_put(b, "\\|", 2);
        else
            buf_put(b, p, 1);
    }
}

/* A doc comment as paragraphs, as written. */
static void para(struct buf *b, const char *doc)
{
    if (doc == NULL)
        return;
    size_t n = strlen(doc);
    while (n > 0 && (doc[n - 1] == '\n' || doc[n - 1] == ' '))
        n--;
    buf_put(b, doc, n);
    bprintf(b, "\n\n");
}

static const char *type_name(const struct gen *g, Type_r t)
{
    return type_of(g, t).name;
}

static void value_text(const struct gen *g, struct buf *b, Type_r t, Value_r v)
{
    struct ctype c = type_of(g, t);
    switch (c.kind) {
    case K_TEXT: {
        struct capn_text s = Value_get_text(v);
        bprintf(b, "`%s`", c_string((const uint8_t *)s.str, s.len));
        return;
    }
    case K_FLOAT: {
        double d;
        if (c.bits == 32) {
            uint32_t bits = Value_get_float32_bits(v);
            float f;
            memcpy(&f, &bits, 4);
            d = f;
        } else {
            uint64_t bits = Value_get_float64_bits(v);
            memcpy(&d, &bits, 8);
        }
        bprintf(b, "`%g`", d);
        return;
    }
    case K_ENUM: {
        const struct node *e = node_need(g, c.id);
        List_Enumerant_r es = Node_enum_get_enumerants(Node_get_enum(e->n));
        uint16_t x = Value_get_enum(v);
        if (x < List_Enumerant_len(es))
            bprintf(b, "`%s`", txt(Enumerant_get_name(List_Enumerant_get(es, x))));
        else
            bprintf(b, "`%u`", x);
        return;
    }
    case K_BOOL:
    case K_INT: {
        const char *lit = value_literal(g, t, v);
        const char *open = strchr(lit, '(');
        if (open != NULL && lit[0] != '(')
            bprintf(b, "`%.*s`", (int)(strlen(open + 1) - 1), open + 1);
        else if (lit[0] == '(')
            bprintf(b, "`%s`", c.bits == 64 ? "-9223372036854775808" : "-2147483648");
        else
            bprintf(b, "`%s`", lit);
        return;
    }
    default:
        bprintf(b, "(a %s value; see the schema)", c.name);
        return;
    }
}

static void field_rows(const struct gen *g, struct buf *b, const struct node *n, const char *prefix)
{
    Node_struct_r s = Node_get_struct(n->n);
    List_Field_r fs = Node_struct_get_fields(s);
    uint32_t nf;
    uint32_t *order = fields_in_code_order(s, &nf);
    for (uint32_t i = 0; i < nf; i++) {
        Field_r f = List_Field_get(fs, order[i]);
        const char *name = txt(Field_get_name(f));
        bool uni = Field_get_discriminantValue(f) != Field_noDiscriminant;
        Field_ordinal_r ord = Field_get_ordinal(f);
        bprintf(b, "| `%s%s", prefix, name);
        if (Field_ordinal_which(ord) == Field_ordinal_which_explicit)
            bprintf(b, " @%u", Field_ordinal_get_explicit(ord));
        bprintf(b, "`%s | ", uni ? " (union)" : "");
        if (Field_which(f) == Field_which_group) {
            const struct node *gn = node_need(g, Field_group_get_typeId(Field_get_group(f)));
            bool isu = Node_struct_get_discriminantCount(Node_get_struct(gn->n)) > 0;
            bprintf(b, "%s | | ", isu ? "union" : "group");
            cell(b, doc_member(n, order[i]));
            bprintf(b, " |\n");
            field_rows(g, b, gn, xprintf("%s%s.", prefix, name));
            continue;
        }
        Field_slot_r sl = Field_get_slot(f);
        bprintf(b, "`%s` | ", type_name(g, Field_slot_get_type(sl)));
        if (Field_slot_get_hadExplicitDefault(sl))
            value_text(g, b, Field_slot_get_type(sl), Field_slot_get_defaultValue(sl));
        bprintf(b, " | ");
        cell(b, doc_member(n, order[i]));
        bprintf(b, " |\n");
    }
    free(order);
}

static const char *params_text(const struct gen *g, const struct node *p)
{
    if (Node_get_scopeId(p->n) != 0)
        return p->dotted;
    struct buf b = {0};
    bprintf(&b, "(");
    List_Field_r fs = Node_struct_get_fields(Node_get_struct(p->n));
    for (uint32_t i = 0; i < List_Field_len(fs); i++) {
        Field_r f = List_Field_get(fs, i);
        bprintf(&b, "%s%s", i ? ", " : "", txt(Field_get_name(f)));
        if (Field_which(f) == Field_which_slot)
            bprintf(&b, " :%s", type_name(g, Field_slot_get_type(Field_get_slot(f))));
    }
    bprintf(&b, ")");
    return b.p;
}

static void doc_iface(struct gen *g, const struct node *n)
{
    struct buf *b = &g->md;
    Node_interface_r in = Node_get_interface(n->n);
    bprintf(b, "### %s\n\nInterface id `0x%016" PRIx64 "`", n->dotted, n->id);
    List_Superclass_r ss = Node_interface_get_superclasses(in);
    for (uint32_t i = 0; i < List_Superclass_len(ss); i++)
        bprintf(b, "%s`%s`", i ? ", " : "; extends ",
                node_need(g, Superclass_get_id(List_Superclass_get(ss, i)))->dotted);
    bprintf(b, ".\n\n");
    para(b, doc_node(n));
    bprintf(b,
            "C: `%s_INTERFACE_ID`, `struct %s_ops`, `%s_dispatch`, stubs `%s_<method>_call`.\n\n",
            n->cname, n->cname, n->cname, n->cname);
    List_Method_r ms = Node_interface_get_methods(in);
    if (List_Method_len(ms) == 0) {
        bprintf(b, "No methods.\n\n");
        return;
    }
    bprintf(b, "| # | Method | Description |\n|---:|---|---|\n");
    for (uint32_t i = 0; i < List_Method_len(ms); i++) {
        Method_r m = List_Method_get(ms, i);
        bprintf(b, "| %u | `%s %s -> %s` | ", i, txt(Method_get_name(m)),
                params_text(g, node_need(g, Method_get_paramStructType(m))),
                params_text(g, node_need(g, Method_get_resultStructType(m))));
        cell(b, doc_member(n, i));
        bprintf(b, " |\n");
    }
    bprintf(b, "\n");
}

static void doc_struct(struct gen *g, const struct node *n)
{
    struct buf *b = &g->md;
    bprintf(b, "### %s\n\n", n->dotted);
    para(b, doc_node(n));
    bprintf(b, "C: `%s_r` (reader), `%s_b` (builder).\n\n", n->cname, n->cname);
    if (List_Field_len(Node_struct_get_fields(Node_get_struct(n->n))) == 0) {
        bprintf(b, "No fields.\n\n");
        return;
    }
    bprintf(b, "| Field | Type | Default | Description |\n|---|---|---|---|\n");
    field_rows(g, b, n, "");
    bprintf(b, "\n");
}

static void doc_enum(struct gen *g, const struct node *n)
{
    struct buf *b = &g->md;
    bprintf(b, "### %s\n\n", n->dotted);
    para(b, doc_node(n));
    bprintf(b, "C: `%s`, values `%s_<name>`.\n\n", n->cname, n->cname);
    bprintf(b, "| Value | Name | Description |\n|---:|---|---|\n");
    List_Enumerant_r es = Node_enum_get_enumerants(Node_get_enum(n->n));
    for (uint32_t i = 0; i < List_Enumerant_len(es); i++) {
        bprintf(b, "| %u | `%s` | ", i, txt(Enumerant_get_name(List_Enumerant_get(es, i))));
        cell(b, doc_member(n, i));
        bprintf(b, " |\n");
    }
    bprintf(b, "\n");
}

static void doc_const(struct gen *g, const struct node *n)
{
    struct buf *b = &g->md;
    Node_const_r k = Node_get_const(n->n);
    bprintf(b, "| `%s` | `%s` | ", n->dotted, type_name(g, Node_const_get_type(k)));
    value_text(g, b, Node_const_get_type(k), Node_const_get_value(k));
    bprintf(b, " | ");
    cell(b, doc_node(n));
    bprintf(b, " |\n");
}

static size_t count(const struct node *const *order, size_t n, enum Node_which w)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += Node_which(order[i]->n) == w;
    return k;
}

void gen_doc(struct gen *g, const struct node *const *order, size_t n)
{
    struct buf *b = &g->md;
    bprintf(b, "# %s\n\n", g->filename);
    bprintf(b, "<!-- Generated by capnpc-c from %s; do not edit. -->\n\n", g->filename);
    para(b, doc_node(g->file));
    bprintf(b, "File id `0x%016" PRIx64 "`. C names follow the conventions in docs/capnp.md.\n\n",
            g->file->id);
    static const struct {
        enum Node_which w;
        const char *title;
    } sections[] = {{Node_which_interface, "Interfaces"},
                    {Node_which_struct, "Structures"},
                    {Node_which_enum, "Enumerations"},
                    {Node_which_const, "Constants"}};
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        enum Node_which w = sections[s].w;
        if (count(order, n, w) == 0)
            continue;
        bprintf(b, "## %s\n\n", sections[s].title);
        if (w == Node_which_const)
            bprintf(b, "| Name | Type | Value | Description |\n|---|---|---|---|\n");
        for (size_t i = 0; i < n; i++) {
            if (Node_which(order[i]->n) != w)
                continue;
            if (w == Node_which_interface)
                doc_iface(g, order[i]);
            else if (w == Node_which_struct)
                doc_struct(g, order[i]);
            else if (w == Node_which_enum)
                doc_enum(g, order[i]);
            else
                doc_const(g, order[i]);
        }
        if (w == Node_which_const)
            bprintf(b, "\n");
    }
    /* One trailing newline. */
    while (b->len > 1 && b->p[b->len - 1] == '\n' && b->p[b->len - 2] == '\n')
        b->p[--b->len] = 0;
}
