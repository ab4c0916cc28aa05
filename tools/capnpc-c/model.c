/*
 * The schema model: an index of the request's nodes, their C names, doc
 * comments, and the mapping of schema types to C types.
 *
 * C names are the node's scoped name with '.' and '$' turned into '_'
 * ("Console.write$Params" -> "Console_write_Params"). Cap'n Proto forbids
 * underscores in declaration names, so '_' always separates components and
 * generated suffixes never collide with schema names. A file's names get
 * its stem as a prefix only when one of them collides with a name of a file
 * it depends on (see needs_prefix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capnpc.h"

static int cmp_node(const void *a, const void *b)
{
    uint64_t x = ((const struct node *)a)->id, y = ((const struct node *)b)->id;
    return x < y ? -1 : x > y;
}

const struct node *node_find(const struct gen *g, uint64_t id)
{
    size_t lo = 0, hi = g->nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->nodes[mid].id == id)
            return &g->nodes[mid];
        if (g->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct node *node_need(const struct gen *g, uint64_t id)
{
    const struct node *n = node_find(g, id);
    if (n == NULL)
        fatal("node 0x%016llx missing from the request", (unsigned long long)id);
    return n;
}

static struct node *node_mut(struct gen *g, uint64_t id)
{
    return (struct node *)node_find(g, id);
}

/* The file a node belongs to: up the scope chain, or for the implicit
 * param and result structs (scope 0) by their display name's file part. */
static uint64_t file_of(struct gen *g, struct node *n)
{
    for (int depth = 0; depth < 256; depth++) {
        if (Node_which(n->n) == Node_which_file)
            return n->id;
        uint64_t scope = Node_get_scopeId(n->n);
        if (scope == 0)
            break;
        struct node *p = node_mut(g, scope);
        if (p == NULL)
            break;
        n = p;
    }
    const char *dn = txt(Node_get_displayName(n->n));
    const char *colon = strchr(dn, ':');
    size_t flen = colon ? (size_t)(colon - dn) : strlen(dn);
    for (size_t i = 0; i < g->nnodes; i++) {
        struct node *f = &g->nodes[i];
        const char *fdn = txt(Node_get_displayName(f->n));
        if (Node_which(f->n) == Node_which_file && strlen(fdn) == flen &&
            memcmp(fdn, dn, flen) == 0)
            return f->id;
    }
    fatal("cannot find the file of %s", dn);
}

static char *scoped_name(const struct gen *g, const struct node *n)
{
    if (Node_which(n->n) == Node_which_file)
        return "";
    const char *dn = txt(Node_get_displayName(n->n));
    const char *fdn = txt(Node_get_displayName(node_need(g, n->file)->n));
    size_t skip = strlen(fdn) + 1;
    if (strlen(dn) < skip)
        fatal("odd display name %s", dn);
    char *s = xstrndup(dn + skip, strlen(dn) - skip);
    for (char *p = s; *p; p++)
        if (*p == '.' || *p == '$')
            *p = '_';
    return s;
}

/* ---- File prefixes ---- */

static void type_files(const struct gen *g, Type_r t, uint64_t *deps, size_t *n, size_t max);

static void add_dep(const struct gen *g, uint64_t id, uint64_t *deps, size_t *n, size_t max)
{
    const struct node *d = node_find(g, id);
    if (d == NULL)
        return;
    for (size_t i = 0; i < *n; i++)
        if (deps[i] == d->file)
            return;
    if (*n < max)
        deps[(*n)++] = d->file;
}

static void type_files(const struct gen *g, Type_r t, uint64_t *deps, size_t *n, size_t max)
{
    switch (Type_which(t)) {
    case Type_which_list:
        type_files(g, Type_list_get_elementType(Type_get_list(t)), deps, n, max);
        break;
    case Type_which_struct:
        add_dep(g, Type_struct_get_typeId(Type_get_struct(t)), deps, n, max);
        break;
    case Type_which_enum:
        add_dep(g, Type_enum_get_typeId(Type_get_enum(t)), deps, n, max);
        break;
    case Type_which_interface:
        add_dep(g, Type_interface_get_typeId(Type_get_interface(t)), deps, n, max);
        break;
    default:
        break;
    }
}

/* Files whose types the nodes of `file` refer to (including itself). */
size_t file_deps(const struct gen *g, uint64_t file, uint64_t *deps, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < g->nnodes; i++) {
        const struct node *nd = &g->nodes[i];
        if (nd->file != file)
            continue;
        switch (Node_which(nd->n)) {
        case Node_which_struct: {
            List_Field_r fs = Node_struct_get_fields(Node_get_struct(nd->n));
            for (uint32_t j = 0; j < List_Field_len(fs); j++) {
                Field_r f = List_Field_get(fs, j);
                if (Field_which(f) == Field_which_slot)
                    type_files(g, Field_slot_get_type(Field_get_slot(f)), deps, &n, max);
            }
            break;
        }
        case Node_which_const:
            type_files(g, Node_const_get_type(Node_get_const(nd->n)), deps, &n, max);
            break;
        case Node_which_interface: {
            Node_interface_r in = Node_get_interface(nd->n);
            List_Method_r ms = Node_interface_get_methods(in);
            for (uint32_t j = 0; j < List_Method_len(ms); j++) {
                Method_r m = List_Method_get(ms, j);
                add_dep(g, Method_get_paramStructType(m), deps, &n, max);
                add_dep(g, Method_get_resultStructType(m), deps, &n, max);
            }
            List_Superclass_r ss = Node_interface_get_superclasses(in);
            for (uint32_t j = 0; j < List_Superclass_len(ss); j++)
                add_dep(g, Superclass_get_id(List_Superclass_get(ss, j)), deps, &n, max);
            break;
        }
        default:
            break;
        }
    }
    return n;
}

/* 0 unknown, 1 being decided, 2 no prefix, 3 prefix. */
static int *prefix_state;

static const char *file_stem(const struct gen *g, uint64_t file);
static bool needs_prefix(struct gen *g, size_t fi);

static const char *final_name(struct gen *g, const struct node *n)
{
    size_t fi = (size_t)(node_need(g, n->file) - g->nodes);
    if (needs_prefix(g, fi))
        return xprintf("%s_%s", file_stem(g, n->file), n->scoped);
    return n->scoped;
}

static bool needs_prefix(struct gen *g, size_t fi)
{
    if (prefix_state[fi] >= 2)
        return prefix_state[fi] == 3;
    if (prefix_state[fi] == 1)
        return false; /* import cycle: decided by the outer call */
    prefix_state[fi] = 1;
    uint64_t deps[256];
    size_t nd = file_deps(g, g->nodes[fi].id, deps, 256);
    bool clash = false;
    for (size_t d = 0; d < nd && !clash; d++) {
        if (deps[d] == g->nodes[fi].id)
            continue;
        for (size_t i = 0; i < g->nnodes && !clash; i++) {
            const struct node *m = &g->nodes[i];
            if (m->file != deps[d] || m->scoped[0] == 0)
                continue;
            const char *mname = final_name(g, m);
            for (size_t j = 0; j < g->nnodes && !clash; j++) {
                const struct node *n = &g->nodes[j];
                clash = n->file == g->nodes[fi].id && n->scoped[0] && !strcmp(n->scoped, mname);
            }
        }
    }
    prefix_state[fi] = clash ? 3 : 2;
    return clash;
}

static const char *file_stem(const struct gen *g, uint64_t file)
{
    const char *dn = txt(Node_get_displayName(node_need(g, file)->n));
    const char *base = strrchr(dn, '/');
    base = base ? base + 1 : dn;
    const char *dot = strchr(base, '.');
    size_t n = dot ? (size_t)(dot - base) : strlen(base);
    char *s =
        xprintf("%s%.*s", (n == 0 || (base[0] >= '0' && base[0] <= '9')) ? "_" : "", (int)n, base);
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    return s;
}

const char *stem_of(const struct gen *g, uint64_t file)
{
    return file_stem(g, file);
}

/* ---- Setup ---- */

void model_init(struct gen *g, struct capn_msg *msg)
{
    g->msg = msg;
    g->req = CodeGeneratorRequest_read_root(msg);
    List_Node_r nodes = CodeGeneratorRequest_get_nodes(g->req);
    g->nnodes = List_Node_len(nodes);
    g->nodes = xcalloc(g->nnodes, sizeof(*g->nodes));
    for (uint32_t i = 0; i < g->nnodes; i++) {
        g->nodes[i].n = List_Node_get(nodes, i);
        g->nodes[i].id = Node_get_id(g->nodes[i].n);
    }
    qsort(g->nodes, g->nnodes, sizeof(*g->nodes), cmp_node);
    for (size_t i = 0; i + 1 < g->nnodes; i++)
        if (g->nodes[i].id == g->nodes[i + 1].id)
            fatal("duplicate node id 0x%016llx", (unsigned long long)g->nodes[i].id);
    for (size_t i = 0; i < g->nnodes; i++)
        g->nodes[i].file = file_of(g, &g->nodes[i]);
    for (size_t i = 0; i < g->nnodes; i++) {
        const char *dn = txt(Node_get_displayName(g->nodes[i].n));
        const char *colon = strchr(dn, ':');
        g->nodes[i].scoped = scoped_name(g, &g->nodes[i]);
        g->nodes[i].dotted = colon ? colon + 1 : dn;
    }
    prefix_state = xcalloc(g->nnodes, sizeof(int));
    for (size_t i = 0; i < g->nnodes; i++)
        g->nodes[i].cname = final_name(g, &g->nodes[i]);
    List_Node_SourceInfo_r infos = CodeGeneratorRequest_get_sourceInfo(g->req);
    for (uint32_t i = 0; i < List_Node_SourceInfo_len(infos); i++) {
        Node_SourceInfo_r si = List_Node_SourceInfo_get(infos, i);
        struct node *n = node_mut(g, Node_SourceInfo_get_id(si));
        if (n != NULL) {
            n->info = si;
            n->has_info = true;
        }
    }
    if (!capn_ok(msg))
        fatal("malformed request: %s", capn_err_str(msg->err));
}

/* ---- Doc comments ---- */

static const char *nonempty(struct capn_text t)
{
    return t.len > 0 ? t.str : NULL;
}

const char *doc_node(const struct node *n)
{
    return n->has_info ? nonempty(Node_SourceInfo_get_docComment(n->info)) : NULL;
}

const char *doc_member(const struct node *n, uint32_t index)
{
    if (!n->has_info)
        return NULL;
    List_Node_SourceInfo_Member_r ms = Node_SourceInfo_get_members(n->info);
    if (index >= List_Node_SourceInfo_Member_len(ms))
        return NULL;
    return nonempty(
        Node_SourceInfo_Member_get_docComment(List_Node_SourceInfo_Member_get(ms, index)));
}

/* ---- Symbols ---- */

void sym_add(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (g->nsyms == g->capsyms) {
        g->capsyms = g->capsyms ? g->capsyms * 2 : 1024;
        g->syms = realloc(g->syms, g->capsyms * sizeof(*g->syms));
        if (g->syms == NULL)
            fatal("out of memory");
    }
    g->syms[g->nsyms++] = xstrndup(tmp, strlen(tmp));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of parameters and locals in generated functions: a global of the
 * same name (a top-level constant) would be shadowed (-Wshadow). */
static const char *const locals[] = {
    "b", "bld", "c",   "cap", "ctx",    "d", "i",  "index",   "l", "len",  "m", "method", "n",
    "o", "ops", "out", "p",   "params", "r", "rc", "results", "s", "self", "t", "v"};

static bool is_reserved(const char *name);

void sym_check(struct gen *g)
{
    qsort(g->syms, g->nsyms, sizeof(*g->syms), cmp_str);
    for (size_t i = 0; i + 1 < g->nsyms; i++)
        if (!strcmp(g->syms[i], g->syms[i + 1]))
            fatal("%s: generated name %s is defined twice; rename a declaration", g->filename,
                  g->syms[i]);
    for (size_t i = 0; i < g->nsyms; i++) {
        bool local = false;
        for (size_t j = 0; j < sizeof(locals) / sizeof(locals[0]); j++)
            local |= !strcmp(g->syms[i], locals[j]);
        if (local || is_reserved(g->syms[i]))
            fatal("%s: the name %s cannot be a C global (a keyword or a name generated code "
                  "uses); rename it",
                  g->filename, g->syms[i]);
    }
}

/* ---- Identifiers ---- */

static const char *const reserved[] = {"_Alignas",      "_Alignof",  "_Atomic",
                                       "_Bool",         "_Complex",  "_Generic",
                                       "_Imaginary",    "_Noreturn", "_Static_assert",
                                       "_Thread_local", "auto",      "bool",
                                       "break",         "c",         "cap",
                                       "case",          "char",      "const",
                                       "continue",      "default",   "do",
                                       "double",        "else",      "enum",
                                       "extern",        "false",     "float",
                                       "for",           "goto",      "if",
                                       "inline",        "int",       "long",
                                       "out",           "p",         "register",
                                       "restrict",      "return",    "short",
                                       "signed",        "sizeof",    "static",
                                       "struct",        "switch",    "t",
                                       "true",          "typedef",   "union",
                                       "unsigned",      "void",      "volatile",
                                       "while"};

static bool is_reserved(const char *name)
{
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (!strcmp(name, reserved[i]))
            return true;
    return false;
}

const char *c_ident(const char *name)
{
    return is_reserved(name) ? xprintf("%s_", name) : name;
}

static Node_struct_r code_order_s;

static int cmp_code(const void *a, const void *b)
{
    List_Field_r fs = Node_struct_get_fields(code_order_s);
    uint16_t x = Field_get_codeOrder(List_Field_get(fs, *(const uint32_t *)a));
    uint16_t y = Field_get_codeOrder(List_Field_get(fs, *(const uint32_t *)b));
    return x < y ? -1 : x > y;
}

uint32_t *fields_in_code_order(Node_struct_r s, uint32_t *count)
{
    List_Field_r fs = Node_struct_get_fields(s);
    *count = List_Field_len(fs);
    uint32_t *idx = xcalloc(*count, sizeof(uint32_t));
    for (uint32_t i = 0; i < *count; i++)
        idx[i] = i;
    code_order_s = s;
    qsort(idx, *count, sizeof(uint32_t), cmp_code);
    return idx;
}

/* ---- Types ---- */

Type_r list_elem(Type_r t)
{
    return Type_list_get_elementType(Type_get_list(t));
}

static struct ctype prim(enum kind k, unsigned bits, bool sgn, const char *c, const char *acc,
                         const char *name)
{
    struct ctype t = {k, bits, sgn, c, NULL, acc, name, xprintf("List_%s", name), 0};
    return t;
}

struct ctype type_of(const struct gen *g, Type_r t)
{
    struct ctype r;
    const struct node *n;
    switch (Type_which(t)) {
    case Type_which_void:
        return prim(K_VOID, 0, false, "void", NULL, "Void");
    case Type_which_bool:
        return prim(K_BOOL, 1, false, "bool", "bool", "Bool");
    case Type_which_int8:
        return prim(K_INT, 8, true, "int8_t", "i8", "Int8");
    case Type_which_int16:
        return prim(K_INT, 16, true, "int16_t", "i16", "Int16");
    case Type_which_int32:
        return prim(K_INT, 32, true, "int32_t", "i32", "Int32");
    case Type_which_int64:
        return prim(K_INT, 64, true, "int64_t", "i64", "Int64");
    case Type_which_uint8:
        return prim(K_INT, 8, false, "uint8_t", "u8", "UInt8");
    case Type_which_uint16:
        return prim(K_INT, 16, false, "uint16_t", "u16", "UInt16");
    case Type_which_uint32:
        return prim(K_INT, 32, false, "uint32_t", "u32", "UInt32");
    case Type_which_uint64:
        return prim(K_INT, 64, false, "uint64_t", "u64", "UInt64");
    case Type_which_float32:
        return prim(K_FLOAT, 32, true, "float", "f32", "Float32");
    case Type_which_float64:
        return prim(K_FLOAT, 64, true, "double", "f64", "Float64");
    case Type_which_text:
        return prim(K_TEXT, 0, false, "struct capn_text", NULL, "Text");
    case Type_which_data:
        return prim(K_DATA, 0, false, "struct capn_data", NULL, "Data");
    case Type_which_list: {
        struct ctype e = type_of(g, list_elem(t));
        r = prim(K_LIST, 0, false, xprintf("%s_r", e.list), NULL, xprintf("List(%s)", e.name));
        r.b = xprintf("%s_b", e.list);
        r.list = xprintf("List_%s", e.list);
        return r;
    }
    case Type_which_enum:
        n = node_need(g, Type_enum_get_typeId(Type_get_enum(t)));
        r = prim(K_ENUM, 16, false, n->cname, "u16", n->dotted);
        r.list = xprintf("List_%s", n->cname);
        r.id = n->id;
        return r;
    case Type_which_struct:
        n = node_need(g, Type_struct_get_typeId(Type_get_struct(t)));
        r = prim(K_STRUCT, 0, false, xprintf("%s_r", n->cname), NULL, n->dotted);
        r.b = xprintf("%s_b", n->cname);
        r.list = xprintf("List_%s", n->cname);
        r.id = n->id;
        return r;
    case Type_which_interface:
        n = node_need(g, Type_interface_get_typeId(Type_get_interface(t)));
        r = prim(K_IFACE, 0, false, "uint32_t", NULL, n->dotted);
        r.list = xprintf("List_%s", n->cname);
        r.id = n->id;
        return r;
    case Type_which_anyPointer: {
        /* A Capability (any interface) reads as a capability-table index,
         * like a typed interface field. */
        Type_anyPointer_r ap = Type_get_anyPointer(t);
        if (Type_anyPointer_which(ap) == Type_anyPointer_which_unconstrained &&
            Type_anyPointer_unconstrained_which(Type_anyPointer_get_unconstrained(ap)) ==
                Type_anyPointer_unconstrained_which_capability)
            return prim(K_IFACE, 0, false, "uint32_t", NULL, "Capability");
    }
    /* fall through */
    default:
        /* Generic parameters are read as AnyPointer. */
        r = prim(K_ANY, 0, false, "struct capn_ptr", NULL, "AnyPointer");
        r.b = "struct capn_bptr";
        return r;
    }
}

const char *esize_of(const struct gen *g, Type_r elem)
{
    struct ctype e = type_of(g, elem);
    switch (e.kind) {
    case K_VOID:
        return "CAPN_VOID";
    case K_BOOL:
        return "CAPN_BIT";
    case K_INT:
    case K_FLOAT:
    case K_ENUM:
        return e.bits == 8    ? "CAPN_BYTE"
               : e.bits == 16 ? "CAPN_TWO"
               : e.bits == 32 ? "CAPN_FOUR"
                              : "CAPN_EIGHT";
    case K_STRUCT:
        return "CAPN_COMPOSITE";
    default:
        return "CAPN_PTR";
    }
}
