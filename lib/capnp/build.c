/*
 * Cap'n Proto builder: allocation in caller-provided segments, pointer
 * encoding (near, far and double-far), and zeroing of replaced objects.
 *
 * The fast path of every init function is one bounds test and a bump of
 * the current segment's fill mark. A new object goes into the segment of the
 * pointer that refers to it when it fits; otherwise into another segment with
 * a landing pad in front of it (a single far pointer). Double-far pointers
 * are only needed when linking to an existing object whose segment is full.
 */
#include "internal.h"

/* The builder owns its segments' buffers; capn_seg.data is const only for
 * the benefit of readers. */
static inline uint8_t *base(struct capn_bld *b, uint32_t seg)
{
    return (uint8_t *)(uintptr_t)b->segs[seg].data;
}

static inline uint32_t pos_of(struct capn_bld *b, uint32_t seg, const uint8_t *loc)
{
    return (uint32_t)((size_t)(loc - base(b, seg)) / 8);
}

static void bfail(struct capn_bld *b, enum capn_err e)
{
    if (b->err == CAPN_OK)
        b->err = e;
}

enum capn_err capn_bld_add_seg(struct capn_bld *b, void *buf, size_t bytes)
{
    if (buf == NULL || bytes < 8)
        return CAPN_ERR_ARG;
    if (b->nsegs >= b->max_segs)
        return CAPN_ERR_NO_SPACE;
    size_t words = bytes / 8;
    struct capn_seg *s = &b->segs[b->nsegs++];
    s->data = buf;
    s->words = 0;
    s->cap = words > CAPN_MAX_SEG_WORDS ? CAPN_MAX_SEG_WORDS : (uint32_t)words;
    return CAPN_OK;
}

void capn_bld_reset(struct capn_bld *b)
{
    for (uint32_t i = 0; i < b->nsegs; i++)
        b->segs[i].words = 0;
    b->err = CAPN_OK;
}

/* Take `words` words from segment i, if they fit. Not zeroed: callers
 * zero what they do not overwrite. */
static inline bool take(struct capn_bld *b, uint32_t i, uint64_t words, uint32_t *pos)
{
    struct capn_seg *s = &b->segs[i];
    if (words > (uint64_t)(s->cap - s->words))
        return false;
    *pos = s->words;
    s->words += (uint32_t)words;
    return true;
}

/* Allocate anywhere, preferring segment `pref`, then the newest segments,
 * then a new segment from the `more` callback. */
static bool alloc(struct capn_bld *b, uint32_t pref, uint64_t words, uint32_t *seg, uint32_t *pos)
{
    if (words > CAPN_MAX_SEG_WORDS) {
        bfail(b, CAPN_ERR_TOO_BIG);
        return false;
    }
    if (pref < b->nsegs && take(b, pref, words, pos)) {
        *seg = pref;
        return true;
    }
    for (uint32_t i = b->nsegs; i-- > 0;) {
        if (i != pref && take(b, i, words, pos)) {
            *seg = i;
            return true;
        }
    }
    if (b->more != NULL && b->nsegs < b->max_segs) {
        size_t got = 0;
        void *buf = b->more(b->more_ctx, (size_t)words * 8, &got);
        if (buf != NULL && got >= words * 8 && got >= 8 &&
            capn_bld_add_seg(b, buf, got) == CAPN_OK && take(b, b->nsegs - 1, words, pos)) {
            *seg = b->nsegs - 1;
            return true;
        }
    }
    bfail(b, CAPN_ERR_NO_SPACE);
    return false;
}

struct capn_bptr capn_bld_root(struct capn_bld *b)
{
    struct capn_bptr p = {b, NULL, 0};
    uint32_t seg, pos;
    if (b->nsegs == 0 || b->segs[0].words == 0) {
        /* The root pointer must be word 0 of segment 0. */
        bool ok = b->nsegs == 0 ? alloc(b, 0, 1, &seg, &pos) : take(b, 0, 1, &pos);
        if (!ok || (b->nsegs > 0 && b->segs[0].words != 1)) {
            bfail(b, CAPN_ERR_NO_SPACE);
            return p;
        }
        capn_store64_(base(b, 0), 0);
    }
    p.loc = base(b, 0);
    return p;
}

struct capn_bstruct capn_bld_init_root_slow_(struct capn_bld *b, uint16_t data_words,
                                             uint16_t nptrs)
{
    return capn_bptr_init_struct(capn_bld_root(b), data_words, nptrs);
}

void capn_bld_msg(const struct capn_bld *b, struct capn_msg *m)
{
    capn_msg_init(m, b->segs, b->nsegs);
    m->cap_count = UINT32_MAX;
}

size_t capn_bld_frame_size(const struct capn_bld *b)
{
    return capn_frame_size(b->segs, b->nsegs);
}

enum capn_err capn_bld_write_slow_(const struct capn_bld *b, void *out, size_t cap, size_t *len)
{
    return capn_frame_write(b->segs, b->nsegs, out, cap, len);
}

static bool fits(const struct capn_seg *seg, int64_t pos, uint64_t words)
{
    return pos >= 0 && (uint64_t)pos <= seg->words && words <= seg->words - (uint64_t)pos;
}

static uint32_t seg_index(struct capn_bld *b, const struct capn_seg *s)
{
    return (uint32_t)(s - b->segs);
}

static void zero_pad(struct capn_bld *b, const struct capn_res *r)
{
    if (r->pad_words > 0)
        capn_zero_bytes_(base(b, seg_index(b, r->pad_seg)) + (size_t)r->pad_pos * 8,
                         (size_t)r->pad_words * 8);
}

/*
 * Zero the pointer at loc and the object it refers to, children first, so
 * no stale data stays in the message. A pointer is cleared before it is
 * followed, so cycles (made with capn_bptr_set_*) terminate; depth bounds
 * the recursion.
 */
static void zap(struct capn_bld *b, uint32_t seg, uint8_t *loc, int depth)
{
    uint64_t w = capn_load64_(loc);
    struct capn_res r;
    if (w == 0)
        return;
    bool ok = capn_kind_(w) != CAPN_K_OTHER &&
              capn_resolve_(b->segs, b->nsegs, &b->segs[seg], loc, &r) == CAPN_OK;
    capn_store64_(loc, 0);
    if (!ok)
        return;
    zero_pad(b, &r);
    uint32_t cs = seg_index(b, r.seg);
    if (capn_kind_(r.tag) == CAPN_K_STRUCT) {
        uint16_t dw = capn_sdata_(r.tag), np = capn_sptrs_(r.tag);
        if (!fits(r.seg, r.pos, (uint64_t)dw + np))
            return;
        uint8_t *c = base(b, cs) + (size_t)r.pos * 8;
        for (uint32_t i = 0; depth > 0 && i < np; i++)
            zap(b, cs, c + ((size_t)dw + i) * 8, depth - 1);
        capn_zero_bytes_(c, ((size_t)dw + np) * 8);
        return;
    }
    uint32_t es = capn_lsize_(r.tag);
    uint64_t words = capn_list_words_(r.tag) + (es == CAPN_COMPOSITE);
    if (!fits(r.seg, r.pos, words))
        return;
    uint8_t *c = base(b, cs) + (size_t)r.pos * 8;
    if (es == CAPN_PTR) {
        for (uint32_t i = 0; depth > 0 && i < capn_lcount_(r.tag); i++)
            zap(b, cs, c + (size_t)i * 8, depth - 1);
    } else if (es == CAPN_COMPOSITE) {
        uint64_t tag = capn_load64_(c);
        uint64_t count = (uint32_t)tag >> 2;
        uint64_t dw = capn_sdata_(tag), np = capn_sptrs_(tag);
        if (capn_kind_(tag) == CAPN_K_STRUCT && count * (dw + np) <= words - 1) {
            for (uint64_t i = 0; depth > 0 && i < count; i++)
                for (uint64_t j = 0; j < np; j++)
                    zap(b, cs, c + (1 + i * (dw + np) + dw + j) * 8, depth - 1);
        }
    }
    capn_zero_bytes_(c, (size_t)words * 8);
}

static inline void release(const struct capn_bptr *p)
{
    if (capn_load64_(p->loc) != 0)
        zap(p->b, p->seg, p->loc, CAPN_NESTING_LIMIT);
}

/* Point the word at (sseg, loc) at content at (tseg, tpos) described by
 * `tag` (a struct or list pointer with a zero offset). */
static bool point(struct capn_bld *b, uint32_t sseg, uint8_t *loc, uint32_t tseg, uint32_t tpos,
                  uint64_t tag)
{
    uint32_t ps, pp;
    if (sseg == tseg) {
        int64_t off = (int64_t)tpos - pos_of(b, sseg, loc) - 1;
        capn_store64_(loc, tag | capn_off_bits_(off));
        return true;
    }
    if (take(b, tseg, 1, &pp)) {
        capn_store64_(base(b, tseg) + (size_t)pp * 8, tag | capn_off_bits_((int64_t)tpos - pp - 1));
        capn_store64_(loc, capn_far_word_(false, tseg, pp));
        return true;
    }
    /* No room beside the content: a two-word pad anywhere. */
    if (!alloc(b, sseg, 2, &ps, &pp))
        return false;
    uint8_t *pad = base(b, ps) + (size_t)pp * 8;
    capn_store64_(pad, capn_far_word_(false, tseg, tpos));
    capn_store64_(pad + 8, tag);
    capn_store64_(loc, capn_far_word_(true, ps, pp));
    return true;
}

/*
 * Fast path of the init functions: when p is an empty slot (nothing to
 * zero) and the new object fits in p's own segment, write the near pointer
 * and return the object's first byte, not zeroed. NULL otherwise, with no
 * side effect, for the general path.
 */
static inline uint8_t *place_near(const struct capn_bptr *p, uint64_t words, uint64_t tag)
{
    if (p->loc == NULL || capn_load64_(p->loc) != 0)
        return NULL;
    struct capn_seg *s = &p->b->segs[p->seg];
    if (words > (uint64_t)(s->cap - s->words))
        return NULL;
    uint8_t *base = (uint8_t *)(uintptr_t)s->data;
    uint32_t pos = s->words;
    s->words += (uint32_t)words;
    int64_t off = (int64_t)pos - (int64_t)((size_t)(p->loc - base) / 8) - 1;
    capn_store64_(p->loc, tag | capn_off_bits_(off));
    return base + (size_t)pos * 8;
}

/*
 * Copy n bytes to a new object and zero the rest of its last word: the
 * bytes after the last whole word are gathered into one word, so the tail
 * and its padding cost one store (little-endian, like the encoding). With
 * `nul` the object is one byte longer (Text), so there always is a tail.
 */
static inline void copy_padded(uint8_t *dst, const uint8_t *src, size_t n, bool nul)
{
    size_t full = n / 8;
    capn_copy_bytes_(dst, src, full * 8);
    if (n % 8 == 0 && !nul)
        return;
    const uint8_t *t = src + full * 8;
    uint64_t w = 0;
    unsigned sh = 0;
    if (n & 4) {
        w = capn_load32_(t);
        t += 4;
        sh = 32;
    }
    if (n & 2) {
        uint16_t v;
        __builtin_memcpy(&v, t, 2);
        w |= (uint64_t)v << sh;
        t += 2;
        sh += 16;
    }
    if (n & 1)
        w |= (uint64_t)*t << sh;
    capn_store64_(dst + full * 8, w);
}

/* Allocate `words` for a new object referred to by p and write p.
 * Returns the object's first byte, zeroed if `zero`, or NULL. */
static inline uint8_t *place(const struct capn_bptr *p, uint64_t words, uint64_t tag, bool zero,
                             uint32_t *seg)
{
    struct capn_bld *b = p->b;
    uint32_t pos;
    uint8_t *o;
    if (take(b, p->seg, words, &pos)) {
        *seg = p->seg;
        int64_t off = (int64_t)pos - pos_of(b, p->seg, p->loc) - 1;
        capn_store64_(p->loc, tag | capn_off_bits_(off));
    } else if (alloc(b, p->seg, words + 1, seg, &pos)) {
        /* Landing pad first, content right after it. */
        capn_store64_(base(b, *seg) + (size_t)pos * 8, tag);
        capn_store64_(p->loc, capn_far_word_(false, *seg, pos));
        pos++;
    } else {
        return NULL;
    }
    o = base(b, *seg) + (size_t)pos * 8;
    if (zero)
        capn_zero_bytes_(o, (size_t)words * 8);
    return o;
}

struct capn_bstruct capn_bptr_init_struct_(const struct capn_bptr *p, uint16_t data_words,
                                           uint16_t nptrs)
{
    struct capn_bstruct s = {0};
    uint32_t seg;
    uint64_t words = (uint64_t)data_words + nptrs;
    uint8_t *o;
    if (words > 0 && (o = place_near(p, words, capn_struct_word_(0, data_words, nptrs))) != NULL) {
        capn_zero_bytes_(o, (size_t)words * 8);
        s.b = p->b;
        s.seg = p->seg;
        s.data = o;
        s.ptrs = o + (size_t)data_words * 8;
        s.data_bytes = (uint32_t)data_words * 8;
        s.nptrs = nptrs;
        return s;
    }
    if (p->loc == NULL)
        return s;
    release(p);
    if (data_words == 0 && nptrs == 0) {
        capn_store64_(p->loc, CAPN_EMPTY_STRUCT);
        s.b = p->b;
        s.seg = p->seg;
        s.data = s.ptrs = p->loc;
        return s;
    }
    o = place(p, words, capn_struct_word_(0, data_words, nptrs), true, &seg);
    if (o == NULL)
        return s;
    s.b = p->b;
    s.seg = seg;
    s.data = o;
    s.ptrs = s.data + (size_t)data_words * 8;
    s.data_bytes = (uint32_t)data_words * 8;
    s.nptrs = nptrs;
    return s;
}

struct capn_blist capn_bptr_init_list_(const struct capn_bptr *p, enum capn_esize esize,
                                       uint32_t len)
{
    struct capn_blist l = {0};
    uint32_t seg;
    if (p->loc == NULL)
        return l;
    if ((unsigned)esize > CAPN_PTR) {
        bfail(p->b, CAPN_ERR_ARG);
        return l;
    }
    if (len > CAPN_MAX_LIST_LEN) {
        bfail(p->b, CAPN_ERR_TOO_BIG);
        return l;
    }
    release(p);
    uint32_t bits = capn_esize_bits_(esize), nptrs = esize == CAPN_PTR;
    uint64_t words = nptrs ? len : ((uint64_t)len * bits + 63) / 64;
    uint8_t *o = place(p, words, capn_list_word_(0, esize, len), true, &seg);
    if (o == NULL)
        return l;
    l.b = p->b;
    l.data = o;
    l.seg = seg;
    l.len = len;
    l.step = bits + 64 * nptrs;
    l.data_bits = bits;
    l.nptrs = (uint16_t)nptrs;
    l.esize = (uint8_t)esize;
    return l;
}

struct capn_blist capn_bptr_init_struct_list_(const struct capn_bptr *p, uint32_t len,
                                              uint16_t data_words, uint16_t nptrs)
{
    struct capn_blist l = {0};
    uint32_t seg;
    if (p->loc == NULL)
        return l;
    uint64_t per = (uint64_t)data_words + nptrs, words = per * len;
    if (len > CAPN_MAX_LIST_LEN || words >= CAPN_MAX_SEG_WORDS) {
        bfail(p->b, CAPN_ERR_TOO_BIG);
        return l;
    }
    release(p);
    uint8_t *c =
        place(p, words + 1, capn_list_word_(0, CAPN_COMPOSITE, (uint32_t)words), true, &seg);
    if (c == NULL)
        return l;
    /* The tag is a struct pointer whose offset field holds the count. */
    capn_store64_(c, capn_struct_word_(len, data_words, nptrs));
    l.b = p->b;
    l.data = c + 8;
    l.seg = seg;
    l.len = len;
    l.step = (uint32_t)per * 64;
    l.data_bits = (uint32_t)data_words * 64;
    l.nptrs = nptrs;
    l.esize = CAPN_COMPOSITE;
    return l;
}

/* A byte list of n bytes whose first `fill` bytes the caller writes: only
 * the rest is zeroed. Text and Data are the hottest allocations. */
static uint8_t *init_bytes(const struct capn_bptr *p, uint32_t n, uint32_t fill)
{
    uint32_t seg;
    if (p->loc == NULL)
        return NULL;
    if (n > CAPN_MAX_LIST_LEN) {
        bfail(p->b, CAPN_ERR_TOO_BIG);
        return NULL;
    }
    release(p);
    uint64_t words = ((uint64_t)n + 7) / 8;
    uint8_t *o = place(p, words, capn_list_word_(0, CAPN_BYTE, n), false, &seg);
    if (o != NULL)
        capn_zero_bytes_(o + fill / 8 * 8, (size_t)(words * 8 - fill / 8 * 8));
    return o;
}

char *capn_bptr_init_text_(const struct capn_bptr *p, uint32_t len)
{
    return (char *)init_bytes(p, len + (len < UINT32_MAX), 0);
}

bool capn_bptr_set_text_(const struct capn_bptr *p, const char *s, uint32_t len)
{
    uint8_t *d;
    /* len bytes and a NUL: len / 8 whole words and one for the rest. */
    if (len < CAPN_MAX_LIST_LEN &&
        (d = place_near(p, len / 8 + 1, capn_list_word_(0, CAPN_BYTE, len + 1))) != NULL) {
        copy_padded(d, (const uint8_t *)s, len, true);
        return true;
    }
    d = init_bytes(p, len + (len < UINT32_MAX), len);
    if (d == NULL)
        return false;
    capn_copy_bytes_(d, (const uint8_t *)s, len);
    return true;
}

uint8_t *capn_bptr_init_data_(const struct capn_bptr *p, uint32_t len)
{
    return init_bytes(p, len, 0);
}

bool capn_bptr_set_data_(const struct capn_bptr *p, const void *d, uint32_t len)
{
    uint8_t *o;
    if (len <= CAPN_MAX_LIST_LEN &&
        (o = place_near(p, ((uint64_t)len + 7) / 8, capn_list_word_(0, CAPN_BYTE, len))) != NULL) {
        copy_padded(o, d, len, false);
        return true;
    }
    o = init_bytes(p, len, len);
    if (o == NULL)
        return false;
    capn_copy_bytes_(o, d, len);
    return true;
}

void capn_bptr_set_cap_(const struct capn_bptr *p, uint32_t index)
{
    if (p->loc == NULL)
        return;
    release(p);
    capn_store64_(p->loc, CAPN_K_OTHER | (uint64_t)index << 32);
}

void capn_bptr_clear_(const struct capn_bptr *p)
{
    if (p->loc != NULL)
        release(p);
}

/*
 * Linking does not zero what p pointed at before: the object being linked
 * may live inside it. The old object just becomes unreachable.
 */
bool capn_bptr_set_struct_(const struct capn_bptr *p, const struct capn_bstruct *s)
{
    if (p->loc == NULL)
        return false;
    if (s->b == NULL) {
        capn_store64_(p->loc, 0);
        return true;
    }
    if (s->b != p->b) {
        bfail(p->b, CAPN_ERR_FOREIGN);
        return false;
    }
    if (s->data_bytes % 8 != 0) {
        bfail(p->b, CAPN_ERR_ARG);
        return false;
    }
    uint16_t dw = (uint16_t)(s->data_bytes / 8);
    if (dw == 0 && s->nptrs == 0) {
        capn_store64_(p->loc, CAPN_EMPTY_STRUCT);
        return true;
    }
    return point(p->b, p->seg, p->loc, s->seg, pos_of(p->b, s->seg, s->data),
                 capn_struct_word_(0, dw, s->nptrs));
}

bool capn_bptr_set_list_(const struct capn_bptr *p, const struct capn_blist *l)
{
    if (p->loc == NULL)
        return false;
    if (l->b == NULL) {
        capn_store64_(p->loc, 0);
        return true;
    }
    if (l->b != p->b) {
        bfail(p->b, CAPN_ERR_FOREIGN);
        return false;
    }
    uint32_t pos = pos_of(p->b, l->seg, l->data);
    uint64_t tag;
    if (l->esize == CAPN_COMPOSITE) {
        tag = capn_list_word_(0, CAPN_COMPOSITE, (uint32_t)((uint64_t)l->len * (l->step / 64)));
        pos--; /* the tag word */
    } else {
        tag = capn_list_word_(0, l->esize, l->len);
    }
    return point(p->b, p->seg, p->loc, l->seg, pos, tag);
}

/* Move the pointer at `from` to `to` (re-encoding its offset), leaving
 * `from` and any old landing pad zeroed. */
static void move_ptr(struct capn_bld *b, uint32_t fseg, uint8_t *from, uint32_t tseg, uint8_t *to)
{
    uint64_t w = capn_load64_(from);
    struct capn_res r;
    if (w == 0)
        return;
    if (capn_kind_(w) == CAPN_K_OTHER) {
        capn_store64_(from, 0);
        capn_store64_(to, w);
        return;
    }
    enum capn_err e = capn_resolve_(b->segs, b->nsegs, &b->segs[fseg], from, &r);
    capn_store64_(from, 0);
    if (e != CAPN_OK || !fits(r.seg, r.pos, 0))
        return;
    zero_pad(b, &r);
    point(b, tseg, to, seg_index(b, r.seg), (uint32_t)r.pos, r.tag & ~(uint64_t)0xfffffffc);
}

struct capn_bstruct capn_bptr_get_struct_(const struct capn_bptr *p, uint16_t data_words,
                                          uint16_t nptrs)
{
    struct capn_bstruct s = {0};
    struct capn_bld *b = p->b;
    struct capn_res r;
    if (p->loc == NULL)
        return s;
    uint64_t w = capn_load64_(p->loc);
    if (w == 0)
        return capn_bptr_init_struct_(p, data_words, nptrs);
    enum capn_err e = capn_kind_(w) == CAPN_K_OTHER
                          ? CAPN_ERR_PTR_KIND
                          : capn_resolve_(b->segs, b->nsegs, &b->segs[p->seg], p->loc, &r);
    if (e == CAPN_OK && capn_kind_(r.tag) != CAPN_K_STRUCT)
        e = CAPN_ERR_PTR_KIND;
    uint16_t odw = e == CAPN_OK ? capn_sdata_(r.tag) : 0;
    uint16_t onp = e == CAPN_OK ? capn_sptrs_(r.tag) : 0;
    if (e == CAPN_OK && !fits(r.seg, r.pos, (uint64_t)odw + onp))
        e = CAPN_ERR_BOUNDS;
    if (e != CAPN_OK) {
        bfail(b, e);
        return capn_bptr_init_struct_(p, data_words, nptrs);
    }
    uint32_t oseg = seg_index(b, r.seg);
    uint8_t *old = base(b, oseg) + (size_t)r.pos * 8;
    if (odw >= data_words && onp >= nptrs) {
        s.b = b;
        s.seg = oseg;
        s.data = old;
        s.ptrs = old + (size_t)odw * 8;
        s.data_bytes = (uint32_t)odw * 8;
        s.nptrs = onp;
        return s;
    }
    /* Written by an older schema: move it into a struct of the new size. */
    capn_store64_(p->loc, 0);
    zero_pad(b, &r);
    s = capn_bptr_init_struct_(p, odw > data_words ? odw : data_words, onp > nptrs ? onp : nptrs);
    if (s.b == NULL)
        return s;
    capn_copy_bytes_(s.data, old, (size_t)odw * 8);
    for (uint32_t i = 0; i < onp; i++)
        move_ptr(b, oseg, old + ((size_t)odw + i) * 8, s.seg, s.ptrs + (size_t)i * 8);
    capn_zero_bytes_(old, ((size_t)odw + onp) * 8);
    return s;
}

struct capn_blist capn_bptr_get_list_(const struct capn_bptr *p, enum capn_esize want)
{
    struct capn_blist l = {0};
    struct capn_msg m;
    if (p->loc == NULL)
        return l;
    capn_bld_msg(p->b, &m);
    m.read_left = UINT64_MAX;
    struct capn_ptr rp = {&m, &p->b->segs[p->seg], p->loc, 2};
    struct capn_list r = capn_ptr_list_(&rp, want, NULL);
    if (m.err != CAPN_OK) {
        bfail(p->b, m.err);
        return l;
    }
    if (r.seg == NULL)
        return l;
    l.b = p->b;
    l.seg = seg_index(p->b, r.seg);
    l.data = base(p->b, l.seg) + (size_t)(r.data - r.seg->data);
    l.len = r.len;
    l.step = r.step;
    l.data_bits = r.data_bits;
    l.nptrs = r.nptrs;
    l.esize = r.esize;
    return l;
}
