/*
 * Cap'n Proto runtime: reader, builder, framing and packing.
 *
 * Freestanding C: no libc, no allocation. A reader walks caller-owned bytes;
 * a builder writes into caller-provided segments and asks an optional
 * callback for more. The same code runs in the kernel, in userspace and in
 * host tests.
 *
 * Reading is safe on any input. Every pointer is bounds-checked against its
 * segment, a traversal budget (words read) and a nesting limit bound the work
 * a hostile message can cause, and a malformed pointer reads as the field's
 * default value while the first error is recorded in the message
 * (capn_msg.err). Hot accessors are inline below; docs/capnp.md describes the
 * API and the limits.
 *
 * Offsets: struct data fields are addressed by byte offset (bool fields by
 * bit offset) into the data section, pointer fields by index into the pointer
 * section. Primitive defaults are XOR-encoded: callers pass the schema
 * default and get or set the plain value.
 *
 * Functions on pointer slots come in pairs: capn_x(p, ...) takes the slot by
 * value and is an inline wrapper around capn_x_(&p, ...), which takes it by
 * const pointer. Passing the 24-32 byte views through memory by value costs
 * a store-forwarding stall per call on x86_64; the wrappers avoid it.
 */
#ifndef CAPOS_LIB_CAPNP_H
#define CAPOS_LIB_CAPNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Float accessors need FPU registers, which kernel code (built with
 * -mgeneral-regs-only) does not have; it reads the bit patterns instead. */
#if !defined(_SOFT_FLOAT) && !defined(CAPN_NO_FLOAT)
#define CAPN_HAVE_FLOAT 1
#endif

/* Limits. The traversal default matches the reference implementation. */
#define CAPN_TRAVERSAL_LIMIT (8u * 1024 * 1024) /* words */
#define CAPN_NESTING_LIMIT   64
/* Segments in a framed message: the official library refuses 512 or more. */
#define CAPN_MAX_SEGS      511
#define CAPN_MAX_SEG_WORDS ((1u << 29) - 1) /* so every offset fits its field */
#define CAPN_MAX_LIST_LEN  ((1u << 29) - 1)

enum capn_err {
    CAPN_OK = 0,
    CAPN_ERR_ARG,              /* invalid argument (NULL, size out of range) */
    CAPN_ERR_TRUNCATED,        /* frame shorter than its segment table says */
    CAPN_ERR_SEG_COUNT,        /* segment count zero or above the limit */
    CAPN_ERR_SEG_SIZE,         /* a segment larger than CAPN_MAX_SEG_WORDS */
    CAPN_ERR_BOUNDS,           /* pointer target outside its segment */
    CAPN_ERR_FAR_SEGMENT,      /* far pointer names a missing segment */
    CAPN_ERR_FAR_PAD,          /* landing pad out of bounds or malformed */
    CAPN_ERR_PTR_KIND,         /* e.g. a list where a struct was expected */
    CAPN_ERR_RESERVED,         /* "other" pointer that is not a capability */
    CAPN_ERR_ELEM_SIZE,        /* list element size incompatible with schema */
    CAPN_ERR_COMPOSITE_TAG,    /* inline-composite tag malformed or overruns */
    CAPN_ERR_TEXT,             /* text not NUL-terminated or not bytes */
    CAPN_ERR_CAP_INDEX,        /* capability index outside the cap table */
    CAPN_ERR_TRAVERSAL,        /* traversal limit reached */
    CAPN_ERR_NESTING,          /* nesting limit reached */
    CAPN_ERR_NO_SPACE,         /* builder: arena exhausted */
    CAPN_ERR_TOO_BIG,          /* builder: object too large to encode */
    CAPN_ERR_PACKED_TRUNCATED, /* packed input ends inside a word or run */
    CAPN_ERR_OVERFLOW,         /* output buffer too small */
    CAPN_ERR_FOREIGN,          /* builder object from another builder */
    CAPN_ERR_COUNT_
};

const char *capn_err_str(enum capn_err e);

/* Encoded list element sizes (the C field of a list pointer). */
enum capn_esize {
    CAPN_VOID = 0,
    CAPN_BIT = 1,
    CAPN_BYTE = 2,
    CAPN_TWO = 3,
    CAPN_FOUR = 4,
    CAPN_EIGHT = 5,
    CAPN_PTR = 6,
    CAPN_COMPOSITE = 7,
    CAPN_ANY = 8 /* reading only: accept whatever was written */
};

enum capn_ptype { CAPN_PT_NULL = 0, CAPN_PT_STRUCT, CAPN_PT_LIST, CAPN_PT_CAP, CAPN_PT_INVALID };

/*
 * A segment: `words` words at `data` (any alignment). In a builder `words` is
 * the part in use and `cap` the capacity; a reader ignores `cap`. The builder
 * writes through `data` (it owns those buffers), so a builder's segment
 * array can be read back as a message directly.
 */
struct capn_seg {
    const uint8_t *data;
    uint32_t words;
    uint32_t cap;
};

/* A message being read. Mutable state: the traversal budget and errors. */
struct capn_msg {
    const struct capn_seg *segs;
    uint32_t nsegs;
    uint32_t cap_count; /* capability table size; indices >= are errors */
    uint64_t read_left; /* traversal budget in words */
    int32_t nest_limit; /* depth given to the root pointer */
    enum capn_err err;  /* first error seen, CAPN_OK if none */
    enum capn_err last; /* most recent error */
    uint32_t nerr;      /* number of errors seen */
};

/*
 * Reader views. All are small values; a zeroed one is "null" and reads as
 * defaults. `seg` is either in msg->segs or a constant default segment (which
 * may not contain far pointers). msg may be NULL for trusted constants.
 */
struct capn_ptr {
    struct capn_msg *msg;
    const struct capn_seg *seg;
    const uint8_t *loc; /* the pointer word, NULL for "no pointer" */
    int32_t nest;       /* depth left for what it points at */
};

struct capn_struct {
    struct capn_msg *msg;
    const struct capn_seg *seg;
    const uint8_t *data; /* data section */
    const uint8_t *ptrs; /* pointer section */
    uint32_t data_bytes;
    uint16_t nptrs;
    int32_t nest;
};

struct capn_list {
    struct capn_msg *msg;
    const struct capn_seg *seg;
    const uint8_t *data; /* first element */
    uint32_t len;
    uint32_t step;      /* bits from one element to the next */
    uint32_t data_bits; /* data bits in each element */
    uint16_t nptrs;     /* pointers in each element, after its data */
    uint8_t esize;      /* enum capn_esize as encoded */
    int32_t nest;
};

struct capn_text {
    const char *str; /* NUL at str[len] */
    uint32_t len;
};

/* Whether two texts have the same bytes. */
static inline bool capn_text_eq(struct capn_text a, struct capn_text b)
{
    if (a.len != b.len)
        return false;
    for (uint32_t i = 0; i < a.len; i++)
        if (a.str[i] != b.str[i])
            return false;
    return true;
}

struct capn_data {
    const uint8_t *ptr;
    uint32_t len;
};

/* ---- Framing (segment table) ---- */

/* Parse a framed message in buf[0..len): fills segs[0..*nsegs) with pointers
 * into buf. *used (optional) gets the frame's total size. */
enum capn_err capn_frame_read(const void *buf, size_t len, struct capn_seg *segs, uint32_t max_segs,
                              uint32_t *nsegs, size_t *used);
/* Bytes needed to frame these segments; 0 if they cannot be framed. */
size_t capn_frame_size(const struct capn_seg *segs, uint32_t nsegs);
/* Write the segment table and segments. *len gets the bytes written. */
enum capn_err capn_frame_write(const struct capn_seg *segs, uint32_t nsegs, void *out, size_t cap,
                               size_t *len);
/* Write only the segment table (for gather I/O). */
enum capn_err capn_frame_header(const struct capn_seg *segs, uint32_t nsegs, void *out, size_t cap,
                                size_t *len);

/* ---- Packed encoding ---- */

/* Worst-case packed size of `bytes` unpacked bytes. */
static inline size_t capn_pack_bound(size_t bytes)
{
    return bytes / 8 * 10 + 10;
}
/* Pack in[0..len) (len a multiple of 8). */
enum capn_err capn_pack(const void *in, size_t len, void *out, size_t cap, size_t *out_len);
/* Unpack all of in[0..len); at most `cap` bytes are produced. */
enum capn_err capn_unpack(const void *in, size_t len, void *out, size_t cap, size_t *out_len);

/* ---- Reading ---- */

static inline uint32_t capn_load32_(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

static inline uint64_t capn_load64_(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

/* Read over existing segments with the default limits and no capabilities. */
static inline void capn_msg_init(struct capn_msg *m, const struct capn_seg *segs, uint32_t nsegs)
{
    m->segs = segs;
    m->nsegs = nsegs;
    m->cap_count = 0;
    m->read_left = CAPN_TRAVERSAL_LIMIT;
    m->nest_limit = CAPN_NESTING_LIMIT;
    m->err = CAPN_OK;
    m->last = CAPN_OK;
    m->nerr = 0;
}

/*
 * Functions with an inline fast path: the wrapper handles the common case
 * (one segment, a near pointer, everything in bounds) in a few instructions
 * and leaves everything else, including every error, to the out-of-line
 * `_slow_` function, which does the complete work from the start. A fast
 * path has no side effect unless it succeeds, so the two always agree.
 */

/* The fast path of capn_msg_read on its own: a one-segment frame (segment
 * count field 0) that fits the buffer. True with *m read over it; false,
 * with nothing changed, for anything else. */
static inline bool capn_msg_read_fast_(struct capn_msg *m, struct capn_seg *segs, uint32_t max_segs,
                                       const void *buf, size_t len, size_t *used)
{
    const uint8_t *b = (const uint8_t *)buf;
    if (b == NULL || segs == NULL || max_segs == 0 || len < 8 || capn_load32_(b) != 0)
        return false;
    uint32_t words = capn_load32_(b + 4);
    if (words > CAPN_MAX_SEG_WORDS || (uint64_t)words * 8 > len - 8)
        return false;
    segs[0].data = b + 8;
    segs[0].words = words;
    segs[0].cap = words;
    capn_msg_init(m, segs, 1);
    if (used != NULL)
        *used = 8 + (size_t)words * 8;
    return true;
}

enum capn_err capn_msg_read_slow_(struct capn_msg *m, struct capn_seg *segs, uint32_t max_segs,
                                  const void *buf, size_t len, size_t *used);
/* capn_frame_read + capn_msg_init. segs must outlive m. */
static inline enum capn_err capn_msg_read(struct capn_msg *m, struct capn_seg *segs,
                                          uint32_t max_segs, const void *buf, size_t len,
                                          size_t *used)
{
    if (capn_msg_read_fast_(m, segs, max_segs, buf, len, used))
        return CAPN_OK;
    return capn_msg_read_slow_(m, segs, max_segs, buf, len, used);
}
/* Record an error (first one wins). msg may be NULL. */
void capn_msg_fail(struct capn_msg *m, enum capn_err e);
struct capn_ptr capn_msg_root(struct capn_msg *m);

static inline bool capn_ok(const struct capn_msg *m)
{
    return m->err == CAPN_OK;
}

enum capn_ptype capn_ptr_type_(const struct capn_ptr *p);
static inline enum capn_ptype capn_ptr_type(struct capn_ptr p)
{
    return capn_ptr_type_(&p);
}
/*
 * Dereference. A null pointer reads as `def` (a constant segment whose word 0
 * is the default pointer; NULL for none), a malformed one records an error
 * and reads as def too. Lists are checked against `want` with the schema
 * evolution rules (docs/capnp.md); CAPN_ANY accepts any list.
 */
struct capn_struct capn_ptr_struct_(const struct capn_ptr *p, const struct capn_seg *def);
static inline struct capn_struct capn_ptr_struct(struct capn_ptr p, const struct capn_seg *def)
{
    return capn_ptr_struct_(&p, def);
}
struct capn_list capn_ptr_list_(const struct capn_ptr *p, enum capn_esize want,
                                const struct capn_seg *def);
static inline struct capn_list capn_ptr_list(struct capn_ptr p, enum capn_esize want,
                                             const struct capn_seg *def)
{
    return capn_ptr_list_(&p, want, def);
}
struct capn_text capn_ptr_text_(const struct capn_ptr *p, const char *def, uint32_t def_len);
static inline struct capn_text capn_ptr_text(struct capn_ptr p, const char *def, uint32_t def_len)
{
    return capn_ptr_text_(&p, def, def_len);
}
struct capn_data capn_ptr_data_(const struct capn_ptr *p, const void *def, uint32_t def_len);
static inline struct capn_data capn_ptr_data(struct capn_ptr p, const void *def, uint32_t def_len)
{
    return capn_ptr_data_(&p, def, def_len);
}
/* true and *index set if p is a capability pointer with a valid index. */
bool capn_ptr_cap_(const struct capn_ptr *p, uint32_t *index);
static inline bool capn_ptr_cap(struct capn_ptr p, uint32_t *index)
{
    return capn_ptr_cap_(&p, index);
}

/*
 * The fast path of capn_msg_root_struct on its own: a near struct pointer in
 * segment 0 whose content is in bounds, with depth and budget left. True
 * with *out set (the result is CAPN_PT_STRUCT); false, with nothing changed,
 * for anything else. For callers with a fallback of their own.
 */
static inline bool capn_msg_root_struct_fast_(struct capn_msg *m, struct capn_struct *out)
{
    if (m->nsegs == 0 || m->segs[0].words == 0 || m->nest_limit <= 0)
        return false;
    const struct capn_seg *seg = &m->segs[0];
    uint64_t w = capn_load64_(seg->data);
    /* Low half: kind (0, struct) and the signed offset in words from the
     * end of the root word; high half: data words, then pointers. */
    uint32_t lo = (uint32_t)w, hi = (uint32_t)(w >> 32);
    int64_t pos = 1 + (int64_t)((int32_t)(lo & ~3u) / 4);
    uint32_t dw = hi & 0xffff, size = dw + (hi >> 16);
    if ((lo & 3) != 0 || w == 0 || pos < 0 || (uint64_t)pos + size > seg->words ||
        size > m->read_left)
        return false;
    m->read_left -= size;
    const uint8_t *data = seg->data + (size_t)pos * 8;
    out->msg = m;
    out->seg = seg;
    out->data = data;
    out->ptrs = data + (size_t)dw * 8;
    out->data_bytes = dw * 8;
    out->nptrs = (uint16_t)(hi >> 16);
    out->nest = m->nest_limit - 1;
    return true;
}

enum capn_ptype capn_msg_root_struct_slow_(struct capn_msg *m, struct capn_struct *out);
/*
 * The root pointer, classified and read as a struct in one step (what a
 * server does with a call's params and a client with its results): the
 * same as capn_ptr_type(capn_msg_root(m)) followed, when that is
 * CAPN_PT_STRUCT or CAPN_PT_NULL, by *out = capn_ptr_struct(root, NULL).
 * For any other type *out is zeroed and nothing is recorded. A struct root
 * that fails to read (bounds, limits) gives CAPN_PT_STRUCT with a null
 * *out (out->seg == NULL) and the error recorded.
 */
static inline enum capn_ptype capn_msg_root_struct(struct capn_msg *m, struct capn_struct *out)
{
    if (capn_msg_root_struct_fast_(m, out))
        return CAPN_PT_STRUCT;
    return capn_msg_root_struct_slow_(m, out);
}

static inline bool capn_ptr_is_null(struct capn_ptr p)
{
    return p.loc == NULL || capn_load64_(p.loc) == 0;
}

static inline struct capn_ptr capn_struct_ptr(const struct capn_struct *s, uint32_t i)
{
    struct capn_ptr p = {s->msg, s->seg, NULL, s->nest};
    if (i < s->nptrs)
        p.loc = s->ptrs + (size_t)i * 8;
    return p;
}

static inline bool capn_struct_bool(const struct capn_struct *s, uint32_t bit, bool def)
{
    if (bit / 8 >= s->data_bytes)
        return def;
    return (((s->data[bit / 8] >> (bit % 8)) & 1) != 0) != def;
}

/* Struct data fields: capn_struct_u32(s, byte_offset, default) etc. */
#define CAPN_STRUCT_GET_(name, type, utype)                                                        \
    static inline type capn_struct_##name(const struct capn_struct *s, uint32_t off, type def)     \
    {                                                                                              \
        utype v;                                                                                   \
        if ((size_t)off + sizeof(v) > s->data_bytes)                                               \
            return def;                                                                            \
        __builtin_memcpy(&v, s->data + off, sizeof(v));                                            \
        return (type)(v ^ (utype)def);                                                             \
    }
CAPN_STRUCT_GET_(u8, uint8_t, uint8_t)
CAPN_STRUCT_GET_(u16, uint16_t, uint16_t)
CAPN_STRUCT_GET_(u32, uint32_t, uint32_t)
CAPN_STRUCT_GET_(u64, uint64_t, uint64_t)
CAPN_STRUCT_GET_(i8, int8_t, uint8_t)
CAPN_STRUCT_GET_(i16, int16_t, uint16_t)
CAPN_STRUCT_GET_(i32, int32_t, uint32_t)
CAPN_STRUCT_GET_(i64, int64_t, uint64_t)

/* List elements; an index out of range or an element too small reads 0. */
static inline bool capn_list_bool(const struct capn_list *l, uint32_t i)
{
    size_t bit = (size_t)i * l->step;
    if (i >= l->len || l->data_bits < 1)
        return false;
    return (l->data[bit / 8] >> (bit % 8)) & 1;
}

#define CAPN_LIST_GET_(name, type, utype)                                                          \
    static inline type capn_list_##name(const struct capn_list *l, uint32_t i)                     \
    {                                                                                              \
        utype v;                                                                                   \
        if (i >= l->len || l->data_bits < 8 * sizeof(v))                                           \
            return 0;                                                                              \
        __builtin_memcpy(&v, l->data + ((size_t)i * l->step) / 8, sizeof(v));                      \
        return (type)v;                                                                            \
    }
CAPN_LIST_GET_(u8, uint8_t, uint8_t)
CAPN_LIST_GET_(u16, uint16_t, uint16_t)
CAPN_LIST_GET_(u32, uint32_t, uint32_t)
CAPN_LIST_GET_(u64, uint64_t, uint64_t)
CAPN_LIST_GET_(i8, int8_t, uint8_t)
CAPN_LIST_GET_(i16, int16_t, uint16_t)
CAPN_LIST_GET_(i32, int32_t, uint32_t)
CAPN_LIST_GET_(i64, int64_t, uint64_t)

/* Element i as a struct (struct lists, or a primitive/pointer list read as
 * a struct list after a schema upgrade). Bit lists never are structs. */
static inline struct capn_struct capn_list_struct(const struct capn_list *l, uint32_t i)
{
    struct capn_struct s = {0};
    if (i >= l->len || l->esize == CAPN_BIT)
        return s;
    s.msg = l->msg;
    s.seg = l->seg;
    s.data = l->data + ((size_t)i * l->step) / 8;
    s.data_bytes = l->data_bits / 8;
    s.ptrs = s.data + s.data_bytes;
    s.nptrs = l->nptrs;
    s.nest = l->nest;
    return s;
}

/* Element i of a pointer list (or the first pointer of struct element i). */
static inline struct capn_ptr capn_list_ptr(const struct capn_list *l, uint32_t i)
{
    struct capn_ptr p = {l->msg, l->seg, NULL, l->nest};
    if (i < l->len && l->nptrs > 0)
        p.loc = l->data + ((size_t)i * l->step + l->data_bits) / 8;
    return p;
}

#ifdef CAPN_HAVE_FLOAT
static inline float capn_struct_f32(const struct capn_struct *s, uint32_t off, uint32_t def_bits)
{
    uint32_t v = capn_struct_u32(s, off, def_bits);
    float f;
    __builtin_memcpy(&f, &v, 4);
    return f;
}
static inline double capn_struct_f64(const struct capn_struct *s, uint32_t off, uint64_t def_bits)
{
    uint64_t v = capn_struct_u64(s, off, def_bits);
    double d;
    __builtin_memcpy(&d, &v, 8);
    return d;
}
static inline float capn_list_f32(const struct capn_list *l, uint32_t i)
{
    uint32_t v = capn_list_u32(l, i);
    float f;
    __builtin_memcpy(&f, &v, 4);
    return f;
}
static inline double capn_list_f64(const struct capn_list *l, uint32_t i)
{
    uint64_t v = capn_list_u64(l, i);
    double d;
    __builtin_memcpy(&d, &v, 8);
    return d;
}
#endif

#include "build.h" /* builder API */

#endif
