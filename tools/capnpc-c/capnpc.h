/*
 * capnpc-c: a C code generator plugin for the official Cap'n Proto compiler.
 * Shared declarations of the generator's parts:
 *
 *   main.c       read the CodeGeneratorRequest, write the output files
 *   buf.c        output buffers and files
 *   model.c      node index, C names, collisions, types
 *   gen_file.c   one header and one source per schema file
 *   gen_struct.c struct, group and union accessors
 *   gen_list.c   typed list wrappers
 *   gen_value.c  defaults and constants
 *   gen_check.c  N_check: every pointer of a struct read before a handler runs
 *   gen_iface.c  interface ids, stubs and dispatch tables
 *   gen_doc.c    the Markdown interface reference
 *
 * The request is read with lib/capnp through schema.capnp.h, which this
 * generator produced from /usr/include/capnp/schema.capnp.
 */
#ifndef CAPNPC_H
#define CAPNPC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.capnp.h"

/* ---- buf.c ---- */

struct buf {
    char *p;
    size_t len;
    size_t cap;
};

void buf_put(struct buf *b, const char *s, size_t n);
void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);
/* Break long code lines (see buf.c). */
void buf_wrap(struct buf *b, size_t width);
/* Write b to path (creating directories); false and a message on error. */
bool buf_write_file(const struct buf *b, const char *path);
/* Formatted string in malloc'd memory. */
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrndup(const char *s, size_t n);
void *xcalloc(size_t n, size_t size);
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- model.c ---- */

struct node {
    uint64_t id;
    Node_r n;
    uint64_t file;      /* id of the file node it belongs to */
    const char *scoped; /* e.g. "Console_write_Params", "" for files */
    const char *cname;  /* scoped, with the file stem prefix if needed */
    const char *dotted; /* schema spelling, e.g. "CapException.Type" */
    Node_SourceInfo_r info;
    bool has_info;
};

struct gen {
    struct capn_msg *msg;
    CodeGeneratorRequest_r req;
    struct node *nodes; /* sorted by id */
    size_t nnodes;
    /* The file being generated. */
    const struct node *file;
    const char *filename; /* as requested, e.g. "capos.capnp" */
    const char *stem;     /* C identifier from the file name, e.g. "capos" */
    struct buf h, c, md;
    /* Identifiers defined in this file, to detect collisions. */
    char **syms;
    size_t nsyms, capsyms;
    /* List types already emitted in this file (by wrapper name). */
    char **lists;
    size_t nlists, caplists;
};

void model_init(struct gen *g, struct capn_msg *msg);
const struct node *node_find(const struct gen *g, uint64_t id);
const struct node *node_need(const struct gen *g, uint64_t id);
/* C identifier from a file's name ("capos.capnp" -> "capos"). */
const char *stem_of(const struct gen *g, uint64_t file);
/* Files whose types a file's nodes use (itself included); returns count. */
size_t file_deps(const struct gen *g, uint64_t file, uint64_t *deps, size_t max);
/* Register an identifier defined by the generated code. */
void sym_add(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fail with a clear message if two definitions share a name. */
void sym_check(struct gen *g);

/* Text of a reader field as a NUL-terminated string (the reader guarantees
 * the NUL). */
static inline const char *txt(struct capn_text t)
{
    return t.str;
}

/* Member doc comment (field, enumerant or method index), or NULL. */
const char *doc_member(const struct node *n, uint32_t index);
const char *doc_node(const struct node *n);

/* A field's name made safe as a C identifier (keywords get a '_'). */
const char *c_ident(const char *name);

/* Fields of a struct or group in declaration (code) order: returns a
 * malloc'd array of indices into the fields list. */
uint32_t *fields_in_code_order(Node_struct_r s, uint32_t *count);

/* Type helpers. */
enum kind {
    K_VOID,
    K_BOOL,
    K_INT,   /* signed or unsigned integer, width in bits */
    K_FLOAT, /* 32 or 64 */
    K_ENUM,
    K_TEXT,
    K_DATA,
    K_STRUCT,
    K_LIST,
    K_IFACE,
    K_ANY
};

struct ctype {
    enum kind kind;
    unsigned bits;    /* data width, 0 for pointers */
    bool is_signed;   /* K_INT */
    const char *c;    /* C type of a reader value, e.g. "uint32_t", "Inner_r" */
    const char *b;    /* C type of a builder, for struct and list */
    const char *acc;  /* runtime accessor suffix: "u32", "i8", "bool" */
    const char *name; /* schema spelling, e.g. "UInt32", "List(Text)" */
    const char *list; /* wrapper name of List(this type), e.g. "List_UInt32" */
    uint64_t id;      /* struct, enum, interface */
};

struct ctype type_of(const struct gen *g, Type_r t);
/* The element type of a list type. */
Type_r list_elem(Type_r t);
/* The list element size a reader asks for, e.g. "CAPN_FOUR". */
const char *esize_of(const struct gen *g, Type_r elem);

/* ---- gen_list.c ---- */

/* Emit the wrapper for List(elem) (and lists it contains) once. */
void gen_list(struct gen *g, Type_r elem);

/* ---- gen_value.c ---- */

/* C literal of a primitive default or constant (raw bits for floats). */
char *value_literal(const struct gen *g, Type_r t, Value_r v);
/* A C string literal for n bytes. */
char *c_string(const uint8_t *s, size_t n);
/* Emit a constant segment `name` holding a pointer value. */
void value_segment(struct gen *g, const char *name, struct capn_ptr p);
void gen_const(struct gen *g, const struct node *n);

/* ---- gen_struct.c ---- */

void gen_struct_types(struct gen *g, const struct node *n);
void gen_struct_funcs(struct gen *g, const struct node *n);
/* Every list type a struct's fields use. */
void gen_struct_lists(struct gen *g, const struct node *n);

/* ---- gen_check.c ---- */

/* N_check for struct n (not a group): reads every pointer it holds. */
void gen_check(struct gen *g, const struct node *n);

/* ---- gen_iface.c ---- */

void gen_iface_header(struct gen *g, const struct node *n);
void gen_iface_source(struct gen *g, const struct node *n);
void gen_iface_table(struct gen *g, const struct node *const *ifaces, size_t n);

/* ---- gen_doc.c ---- */

void gen_doc(struct gen *g, const struct node *const *order, size_t n);

/* ---- gen_file.c ---- */

void gen_file(struct gen *g, uint64_t file_id, const char *filename);

/* Doc comment as a C comment block at indent 0 (nothing if NULL). */
void emit_comment(struct buf *b, const char *doc, const char *indent);

#endif
