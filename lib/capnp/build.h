/*
 * Cap'n Proto builder. Included by capnp.h; do not include directly.
 *
 * A builder writes a message into segments the caller provides. When they
 * are full it calls `more` (if set) for another zero-or-dirty buffer; without
 * it, allocation fails with CAPN_ERR_NO_SPACE recorded in capn_bld.err and
 * the failed object comes back "null": writes to it are ignored, so code can
 * build a whole message and check err once at the end.
 *
 * Allocated words are zeroed by the builder, so buffers may be reused
 * without clearing. Overwriting a non-null pointer zeroes the object it
 * pointed at (as the reference implementation does) so that no stale bytes
 * travel with the message.
 */
#ifndef CAPOS_LIB_CAPNP_BUILD_H
#define CAPOS_LIB_CAPNP_BUILD_H

#ifndef CAPOS_LIB_CAPNP_H
#error "include capnp/capnp.h"
#endif

/* Returns a buffer of at least min_bytes (any alignment, contents ignored)
 * and its size in *got, or NULL. It must stay valid while the builder is. */
typedef void *(*capn_more_fn)(void *ctx, size_t min_bytes, size_t *got);

struct capn_bld {
    struct capn_seg *segs; /* caller's array of max_segs entries */
    uint32_t nsegs;
    uint32_t max_segs;
    capn_more_fn more;
    void *more_ctx;
    enum capn_err err; /* first error, CAPN_OK if none */
};

struct capn_bptr {
    struct capn_bld *b;
    uint8_t *loc; /* the pointer word; NULL = nowhere (writes ignored) */
    uint32_t seg;
};

struct capn_bstruct {
    struct capn_bld *b;
    uint8_t *data;
    uint8_t *ptrs;
    uint32_t seg;
    uint32_t data_bytes;
    uint16_t nptrs;
};

struct capn_blist {
    struct capn_bld *b;
    uint8_t *data;
    uint32_t seg;
    uint32_t len;
    uint32_t step;
    uint32_t data_bits;
    uint16_t nptrs;
    uint8_t esize;
};

/* buf/bytes is the first segment (may be NULL/0 if `more` is set). */
static inline void capn_bld_init(struct capn_bld *b, struct capn_seg *segs, uint32_t max_segs,
                                 void *buf, size_t bytes)
{
    b->segs = segs;
    b->nsegs = 0;
    b->max_segs = max_segs < CAPN_MAX_SEGS ? max_segs : CAPN_MAX_SEGS;
    b->more = NULL;
    b->more_ctx = NULL;
    b->err = CAPN_OK;
    /* The first segment, as capn_bld_add_seg would add it. */
    if (buf != NULL && bytes >= 8 && b->max_segs > 0) {
        size_t words = bytes / 8;
        segs[0].data = (const uint8_t *)buf;
        segs[0].words = 0;
        segs[0].cap = words > CAPN_MAX_SEG_WORDS ? CAPN_MAX_SEG_WORDS : (uint32_t)words;
        b->nsegs = 1;
    }
}
/* A one-segment builder for a message framed in place: the segment starts
 * 8 bytes into buf, where capn_bld_write(b, buf, bytes, ...) puts the
 * segment table, so framing writes that one word and copies nothing. */
static inline void capn_bld_init_framed(struct capn_bld *b, struct capn_seg *seg, void *buf,
                                        size_t bytes)
{
    if (bytes < 16)
        capn_bld_init(b, seg, 1, NULL, 0);
    else
        capn_bld_init(b, seg, 1, (uint8_t *)buf + 8, bytes - 8);
}
/* Offer another buffer; used when earlier segments are full. */
enum capn_err capn_bld_add_seg(struct capn_bld *b, void *buf, size_t bytes);
/* Forget the message but keep every segment for reuse. */
void capn_bld_reset(struct capn_bld *b);
/* The root pointer (segment 0, word 0), allocated on first use. */
struct capn_bptr capn_bld_root(struct capn_bld *b);
struct capn_bstruct capn_bld_init_root_slow_(struct capn_bld *b, uint16_t data_words,
                                             uint16_t nptrs);
/* Whether capn_bld_init_root(b, ...) of a struct of `words` words (data and
 * pointers) takes the fast path: an empty first segment with room for the
 * root pointer and the struct right after it (a fresh results or params
 * message). */
static inline bool capn_bld_root_fits_(const struct capn_bld *b, uint32_t words)
{
    return b->nsegs > 0 && b->segs[0].words == 0 && words < b->segs[0].cap;
}
/* The fast path of capn_bld_init_root; only when capn_bld_root_fits_. */
static inline struct capn_bstruct capn_bld_init_root_fast_(struct capn_bld *b, uint16_t data_words,
                                                           uint16_t nptrs)
{
    uint32_t words = (uint32_t)data_words + nptrs;
    uint8_t *o = (uint8_t *)(uintptr_t)b->segs[0].data;
    /* A struct pointer with offset 0 (the content follows the root word),
     * or for a struct with no fields the encoding that is not null (offset
     * -1), whose view then points at the root word. */
    uint64_t w = words > 0 ? (uint64_t)data_words << 32 | (uint64_t)nptrs << 48 : 0xfffffffcull;
    uint8_t *d = words > 0 ? o + 8 : o;
    b->segs[0].words = 1 + words; /* first: the stores below may alias it */
    __builtin_memcpy(o, &w, 8);
    for (uint32_t i = 1; i <= words; i++) {
        static const uint64_t zero = 0;
        __builtin_memcpy(o + (size_t)i * 8, &zero, 8);
    }
    struct capn_bstruct s = {b, d, d + (size_t)data_words * 8, 0, (uint32_t)data_words * 8, nptrs};
    return s;
}
/* capn_bptr_init_struct(capn_bld_root(b), ...). */
static inline struct capn_bstruct capn_bld_init_root(struct capn_bld *b, uint16_t data_words,
                                                     uint16_t nptrs)
{
    if (capn_bld_root_fits_(b, (uint32_t)data_words + nptrs))
        return capn_bld_init_root_fast_(b, data_words, nptrs);
    return capn_bld_init_root_slow_(b, data_words, nptrs);
}
/* A reader over what was built so far (default limits). */
void capn_bld_msg(const struct capn_bld *b, struct capn_msg *m);
size_t capn_bld_frame_size(const struct capn_bld *b);
enum capn_err capn_bld_write_slow_(const struct capn_bld *b, void *out, size_t cap, size_t *len);
/* Frame the message into out[0..cap); *len (optional) gets its size.
 * Always inlined: every kernel call frames its results with it, and an
 * out-of-line copy (GCC's choice once there are three callers in a file)
 * cost 11 instructions per call. */
static inline __attribute__((always_inline)) enum capn_err
capn_bld_write(const struct capn_bld *b, void *out, size_t cap, size_t *len)
{
    /* Fast path: one segment, so the table is one word (count - 1 = 0, then
     * the size) followed by the segment's words. */
    if (b->nsegs == 1 && out != NULL && cap / 8 > b->segs[0].words) {
        uint8_t *o = (uint8_t *)out;
        const uint8_t *d = b->segs[0].data;
        uint64_t words = b->segs[0].words, w = words << 32;
        __builtin_memcpy(o, &w, 8);
        /* A builder over out + 8 (capn_bld_init_framed) built the message
         * in place: only the table is written. */
        if (d != o + 8 && words >= 8) {
            __builtin_memcpy(o + 8, d, (size_t)words * 8);
        } else if (d != o + 8) {
            for (uint64_t i = 0; i < words; i++) {
                w = capn_load64_(d + i * 8);
                __builtin_memcpy(o + 8 + i * 8, &w, 8);
            }
        }
        if (len != NULL)
            *len = 8 + (size_t)words * 8;
        return CAPN_OK;
    }
    return capn_bld_write_slow_(b, out, cap, len);
}

/* Allocate a new object at p (zeroing whatever p pointed at). */
struct capn_bstruct capn_bptr_init_struct_(const struct capn_bptr *p, uint16_t data_words,
                                           uint16_t nptrs);
static inline struct capn_bstruct capn_bptr_init_struct(struct capn_bptr p, uint16_t data_words,
                                                        uint16_t nptrs)
{
    return capn_bptr_init_struct_(&p, data_words, nptrs);
}
/* esize is CAPN_VOID..CAPN_PTR; use init_struct_list for CAPN_COMPOSITE. */
struct capn_blist capn_bptr_init_list_(const struct capn_bptr *p, enum capn_esize esize,
                                       uint32_t len);
static inline struct capn_blist capn_bptr_init_list(struct capn_bptr p, enum capn_esize esize,
                                                    uint32_t len)
{
    return capn_bptr_init_list_(&p, esize, len);
}
struct capn_blist capn_bptr_init_struct_list_(const struct capn_bptr *p, uint32_t len,
                                              uint16_t data_words, uint16_t nptrs);
static inline struct capn_blist capn_bptr_init_struct_list(struct capn_bptr p, uint32_t len,
                                                           uint16_t data_words, uint16_t nptrs)
{
    return capn_bptr_init_struct_list_(&p, len, data_words, nptrs);
}
/* Text: len bytes plus a NUL. init_text returns the buffer to fill. */
bool capn_bptr_set_text_(const struct capn_bptr *p, const char *s, uint32_t len);
static inline bool capn_bptr_set_text(struct capn_bptr p, const char *s, uint32_t len)
{
    return capn_bptr_set_text_(&p, s, len);
}
char *capn_bptr_init_text_(const struct capn_bptr *p, uint32_t len);
static inline char *capn_bptr_init_text(struct capn_bptr p, uint32_t len)
{
    return capn_bptr_init_text_(&p, len);
}
bool capn_bptr_set_data_(const struct capn_bptr *p, const void *d, uint32_t len);
static inline bool capn_bptr_set_data(struct capn_bptr p, const void *d, uint32_t len)
{
    return capn_bptr_set_data_(&p, d, len);
}
uint8_t *capn_bptr_init_data_(const struct capn_bptr *p, uint32_t len);
static inline uint8_t *capn_bptr_init_data(struct capn_bptr p, uint32_t len)
{
    return capn_bptr_init_data_(&p, len);
}
void capn_bptr_set_cap_(const struct capn_bptr *p, uint32_t index);
static inline void capn_bptr_set_cap(struct capn_bptr p, uint32_t index)
{
    capn_bptr_set_cap_(&p, index);
}
void capn_bptr_clear_(const struct capn_bptr *p);
static inline void capn_bptr_clear(struct capn_bptr p)
{
    capn_bptr_clear_(&p);
}

/* Point p at an object already in the same builder (far or double-far
 * pointers are used when it lives in another segment). */
bool capn_bptr_set_struct_(const struct capn_bptr *p, const struct capn_bstruct *s);
static inline bool capn_bptr_set_struct(struct capn_bptr p, const struct capn_bstruct *s)
{
    return capn_bptr_set_struct_(&p, s);
}
bool capn_bptr_set_list_(const struct capn_bptr *p, const struct capn_blist *l);
static inline bool capn_bptr_set_list(struct capn_bptr p, const struct capn_blist *l)
{
    return capn_bptr_set_list_(&p, l);
}

/* The existing object at p. A null pointer initialises a new struct; a
 * struct smaller than asked for is copied into a larger one. */
struct capn_bstruct capn_bptr_get_struct_(const struct capn_bptr *p, uint16_t data_words,
                                          uint16_t nptrs);
static inline struct capn_bstruct capn_bptr_get_struct(struct capn_bptr p, uint16_t data_words,
                                                       uint16_t nptrs)
{
    return capn_bptr_get_struct_(&p, data_words, nptrs);
}
/* Existing list if compatible with `want` (reader rules), else null. */
struct capn_blist capn_bptr_get_list_(const struct capn_bptr *p, enum capn_esize want);
static inline struct capn_blist capn_bptr_get_list(struct capn_bptr p, enum capn_esize want)
{
    return capn_bptr_get_list_(&p, want);
}

/*
 * Deep copy of a reader's subtree (from any message, including this
 * builder's own) into p. The source is read with its own limits; anything
 * malformed in it is copied as null. Capability pointers keep their index:
 * the caller carries the capability table. Returns the first error, from
 * either side.
 */
enum capn_err capn_bptr_copy_(const struct capn_bptr *p, const struct capn_ptr *src);
static inline enum capn_err capn_bptr_copy(struct capn_bptr p, struct capn_ptr src)
{
    return capn_bptr_copy_(&p, &src);
}
enum capn_err capn_bptr_copy_struct_(const struct capn_bptr *p, const struct capn_struct *src);
static inline enum capn_err capn_bptr_copy_struct(struct capn_bptr p, const struct capn_struct *src)
{
    return capn_bptr_copy_struct_(&p, src);
}
enum capn_err capn_bptr_copy_list_(const struct capn_bptr *p, const struct capn_list *src);
static inline enum capn_err capn_bptr_copy_list(struct capn_bptr p, const struct capn_list *src)
{
    return capn_bptr_copy_list_(&p, src);
}

static inline bool capn_bptr_is_null(struct capn_bptr p)
{
    return p.loc == NULL || capn_load64_(p.loc) == 0;
}

static inline struct capn_bptr capn_bstruct_ptr(const struct capn_bstruct *s, uint32_t i)
{
    struct capn_bptr p = {s->b, NULL, s->seg};
    if (i < s->nptrs)
        p.loc = s->ptrs + (size_t)i * 8;
    return p;
}

static inline void capn_bstruct_set_bool(const struct capn_bstruct *s, uint32_t bit, bool v,
                                         bool def)
{
    if (bit / 8 >= s->data_bytes)
        return;
    uint8_t m = (uint8_t)(1u << (bit % 8));
    if (v != def)
        s->data[bit / 8] |= m;
    else
        s->data[bit / 8] &= (uint8_t)~m;
}

static inline bool capn_bstruct_bool(const struct capn_bstruct *s, uint32_t bit, bool def)
{
    if (bit / 8 >= s->data_bytes)
        return def;
    return (((s->data[bit / 8] >> (bit % 8)) & 1) != 0) != def;
}

#define CAPN_BSTRUCT_ACC_(name, type, utype)                                                       \
    static inline void capn_bstruct_set_##name(const struct capn_bstruct *s, uint32_t off, type v, \
                                               type def)                                           \
    {                                                                                              \
        utype u = (utype)((utype)v ^ (utype)def);                                                  \
        if ((size_t)off + sizeof(u) <= s->data_bytes)                                              \
            __builtin_memcpy(s->data + off, &u, sizeof(u));                                        \
    }                                                                                              \
    static inline type capn_bstruct_##name(const struct capn_bstruct *s, uint32_t off, type def)   \
    {                                                                                              \
        utype u;                                                                                   \
        if ((size_t)off + sizeof(u) > s->data_bytes)                                               \
            return def;                                                                            \
        __builtin_memcpy(&u, s->data + off, sizeof(u));                                            \
        return (type)(u ^ (utype)def);                                                             \
    }
CAPN_BSTRUCT_ACC_(u8, uint8_t, uint8_t)
CAPN_BSTRUCT_ACC_(u16, uint16_t, uint16_t)
CAPN_BSTRUCT_ACC_(u32, uint32_t, uint32_t)
CAPN_BSTRUCT_ACC_(u64, uint64_t, uint64_t)
CAPN_BSTRUCT_ACC_(i8, int8_t, uint8_t)
CAPN_BSTRUCT_ACC_(i16, int16_t, uint16_t)
CAPN_BSTRUCT_ACC_(i32, int32_t, uint32_t)
CAPN_BSTRUCT_ACC_(i64, int64_t, uint64_t)

static inline void capn_blist_set_bool(const struct capn_blist *l, uint32_t i, bool v)
{
    size_t bit = (size_t)i * l->step;
    if (i >= l->len || l->data_bits < 1)
        return;
    uint8_t m = (uint8_t)(1u << (bit % 8));
    if (v)
        l->data[bit / 8] |= m;
    else
        l->data[bit / 8] &= (uint8_t)~m;
}

static inline bool capn_blist_bool(const struct capn_blist *l, uint32_t i)
{
    size_t bit = (size_t)i * l->step;
    if (i >= l->len || l->data_bits < 1)
        return false;
    return (l->data[bit / 8] >> (bit % 8)) & 1;
}

#define CAPN_BLIST_ACC_(name, type, utype)                                                         \
    static inline void capn_blist_set_##name(const struct capn_blist *l, uint32_t i, type v)       \
    {                                                                                              \
        utype u = (utype)v;                                                                        \
        if (i < l->len && l->data_bits >= 8 * sizeof(u))                                           \
            __builtin_memcpy(l->data + ((size_t)i * l->step) / 8, &u, sizeof(u));                  \
    }                                                                                              \
    static inline type capn_blist_##name(const struct capn_blist *l, uint32_t i)                   \
    {                                                                                              \
        utype u;                                                                                   \
        if (i >= l->len || l->data_bits < 8 * sizeof(u))                                           \
            return 0;                                                                              \
        __builtin_memcpy(&u, l->data + ((size_t)i * l->step) / 8, sizeof(u));                      \
        return (type)u;                                                                            \
    }
CAPN_BLIST_ACC_(u8, uint8_t, uint8_t)
CAPN_BLIST_ACC_(u16, uint16_t, uint16_t)
CAPN_BLIST_ACC_(u32, uint32_t, uint32_t)
CAPN_BLIST_ACC_(u64, uint64_t, uint64_t)
CAPN_BLIST_ACC_(i8, int8_t, uint8_t)
CAPN_BLIST_ACC_(i16, int16_t, uint16_t)
CAPN_BLIST_ACC_(i32, int32_t, uint32_t)
CAPN_BLIST_ACC_(i64, int64_t, uint64_t)

static inline struct capn_bstruct capn_blist_struct(const struct capn_blist *l, uint32_t i)
{
    struct capn_bstruct s = {0};
    if (i >= l->len || l->esize == CAPN_BIT)
        return s;
    s.b = l->b;
    s.seg = l->seg;
    s.data = l->data + ((size_t)i * l->step) / 8;
    s.data_bytes = l->data_bits / 8;
    s.ptrs = s.data + s.data_bytes;
    s.nptrs = l->nptrs;
    return s;
}

static inline struct capn_bptr capn_blist_ptr(const struct capn_blist *l, uint32_t i)
{
    struct capn_bptr p = {l->b, NULL, l->seg};
    if (i < l->len && l->nptrs > 0)
        p.loc = l->data + ((size_t)i * l->step + l->data_bits) / 8;
    return p;
}

#ifdef CAPN_HAVE_FLOAT
static inline void capn_bstruct_set_f32(const struct capn_bstruct *s, uint32_t off, float v,
                                        uint32_t def_bits)
{
    uint32_t u;
    __builtin_memcpy(&u, &v, 4);
    capn_bstruct_set_u32(s, off, u, def_bits);
}
static inline void capn_bstruct_set_f64(const struct capn_bstruct *s, uint32_t off, double v,
                                        uint64_t def_bits)
{
    uint64_t u;
    __builtin_memcpy(&u, &v, 8);
    capn_bstruct_set_u64(s, off, u, def_bits);
}
static inline void capn_blist_set_f32(const struct capn_blist *l, uint32_t i, float v)
{
    uint32_t u;
    __builtin_memcpy(&u, &v, 4);
    capn_blist_set_u32(l, i, u);
}
static inline void capn_blist_set_f64(const struct capn_blist *l, uint32_t i, double v)
{
    uint64_t u;
    __builtin_memcpy(&u, &v, 8);
    capn_blist_set_u64(l, i, u);
}
#endif

#endif
