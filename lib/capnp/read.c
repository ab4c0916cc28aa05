/*
 * Cap'n Proto reader: pointer resolution and validation.
 *
 * Every function here is total on hostile input. Positions are computed in
 * 64-bit signed word indices and compared with the segment size before any
 * address is formed, so no out-of-range pointer is ever created. A failure
 * is recorded in the message and the caller gets the default value.
 */
#include "internal.h"

static const char empty_text[1] = "";

enum capn_err capn_msg_read_slow_(struct capn_msg *m, struct capn_seg *segs, uint32_t max_segs,
                                  const void *buf, size_t len, size_t *used)
{
    uint32_t n = 0;
    enum capn_err e = capn_frame_read(buf, len, segs, max_segs, &n, used);
    capn_msg_init(m, segs, e == CAPN_OK ? n : 0);
    if (e != CAPN_OK)
        capn_msg_fail(m, e);
    return e;
}

void capn_msg_fail(struct capn_msg *m, enum capn_err e)
{
    if (m == NULL || e == CAPN_OK)
        return;
    if (m->err == CAPN_OK)
        m->err = e;
    m->last = e;
    if (m->nerr != UINT32_MAX)
        m->nerr++;
}

/* Charge `words` against the traversal budget. Overlapping or repeated
 * pointers are charged every time they are followed, which is what bounds
 * amplification: the total work is proportional to the budget. */
static inline bool charge(struct capn_msg *m, uint64_t words)
{
    if (m == NULL)
        return true;
    if (words > m->read_left) {
        m->read_left = 0;
        capn_msg_fail(m, CAPN_ERR_TRAVERSAL);
        return false;
    }
    m->read_left -= words;
    return true;
}

struct capn_ptr capn_msg_root(struct capn_msg *m)
{
    struct capn_ptr p = {m, NULL, NULL, m->nest_limit};
    if (m->nsegs == 0 || m->segs[0].words == 0) {
        capn_msg_fail(m, CAPN_ERR_BOUNDS);
        return p;
    }
    p.seg = &m->segs[0];
    p.loc = m->segs[0].data;
    return p;
}

static bool in_table(const struct capn_seg *segs, uint32_t nsegs, const struct capn_seg *seg)
{
    uintptr_t a = (uintptr_t)segs, s = (uintptr_t)seg;
    return segs != NULL && s >= a && s < a + (uintptr_t)nsegs * sizeof(*segs);
}

enum capn_err capn_resolve_(const struct capn_seg *segs, uint32_t nsegs, const struct capn_seg *seg,
                            const uint8_t *loc, struct capn_res *r)
{
    uint64_t w = capn_load64_(loc);
    r->pad_words = 0;
    r->pad_seg = NULL;
    r->pad_pos = 0;
    if (capn_kind_(w) == CAPN_K_STRUCT || capn_kind_(w) == CAPN_K_LIST) {
        r->seg = seg;
        r->tag = w;
        r->pos = (int64_t)((size_t)(loc - seg->data) / 8) + 1 + capn_off_(w);
        return CAPN_OK;
    }
    if (capn_kind_(w) != CAPN_K_FAR)
        return CAPN_ERR_PTR_KIND;
    /* Far pointers only make sense inside a message's own segments. */
    if (!in_table(segs, nsegs, seg))
        return CAPN_ERR_FAR_SEGMENT;
    uint32_t id = (uint32_t)(w >> 32);
    uint32_t pad = (uint32_t)(w >> 3) & 0x1fffffffu;
    bool dbl = (w >> 2) & 1;
    if (id >= nsegs)
        return CAPN_ERR_FAR_SEGMENT;
    const struct capn_seg *ps = &segs[id];
    uint32_t pad_words = dbl ? 2 : 1;
    if ((uint64_t)pad + pad_words > ps->words)
        return CAPN_ERR_FAR_PAD;
    r->pad_seg = ps;
    r->pad_pos = pad;
    r->pad_words = pad_words;
    const uint8_t *pw = ps->data + (size_t)pad * 8;
    uint64_t p0 = capn_load64_(pw);
    if (!dbl) {
        /* The pad is an ordinary pointer, relative to its own position. */
        if (capn_kind_(p0) != CAPN_K_STRUCT && capn_kind_(p0) != CAPN_K_LIST)
            return CAPN_ERR_FAR_PAD;
        r->seg = ps;
        r->tag = p0;
        r->pos = (int64_t)pad + 1 + capn_off_(p0);
        return CAPN_OK;
    }
    /* Double far: a single far pointer to the content, then a tag word. */
    uint64_t tag = capn_load64_(pw + 8);
    if (capn_kind_(p0) != CAPN_K_FAR || ((p0 >> 2) & 1) != 0)
        return CAPN_ERR_FAR_PAD;
    if (capn_kind_(tag) != CAPN_K_STRUCT && capn_kind_(tag) != CAPN_K_LIST)
        return CAPN_ERR_FAR_PAD;
    uint32_t id2 = (uint32_t)(p0 >> 32);
    if (id2 >= nsegs)
        return CAPN_ERR_FAR_SEGMENT;
    r->seg = &segs[id2];
    r->tag = tag;
    r->pos = (int64_t)((p0 >> 3) & 0x1fffffffu);
    return CAPN_OK;
}

static inline bool fits(const struct capn_seg *seg, int64_t pos, uint64_t words)
{
    return pos >= 0 && (uint64_t)pos <= seg->words && words <= seg->words - (uint64_t)pos;
}

static enum capn_err resolve(const struct capn_ptr *p, struct capn_res *r)
{
    const struct capn_seg *segs = p->msg ? p->msg->segs : NULL;
    uint32_t nsegs = p->msg ? p->msg->nsegs : 0;
    return capn_resolve_(segs, nsegs, p->seg, p->loc, r);
}

enum capn_ptype capn_classify_(const struct capn_ptr *p, enum capn_err *err)
{
    *err = CAPN_OK;
    if (p->loc == NULL || capn_load64_(p->loc) == 0)
        return CAPN_PT_NULL;
    uint64_t w = capn_load64_(p->loc);
    if (capn_kind_(w) == CAPN_K_OTHER) {
        if ((uint32_t)w >> 2 == 0)
            return CAPN_PT_CAP;
        *err = CAPN_ERR_RESERVED;
        return CAPN_PT_INVALID;
    }
    struct capn_res r;
    *err = resolve(p, &r);
    if (*err != CAPN_OK)
        return CAPN_PT_INVALID;
    return capn_kind_(r.tag) == CAPN_K_STRUCT ? CAPN_PT_STRUCT : CAPN_PT_LIST;
}

enum capn_ptype capn_ptr_type_(const struct capn_ptr *p)
{
    enum capn_err e;
    return capn_classify_(p, &e);
}

/* Resolve p for dereferencing as `kind`. 1: ok, 0: null, -1: error. */
static inline int follow(const struct capn_ptr *p, uint32_t kind, bool leaf, struct capn_res *r)
{
    if (p->loc == NULL)
        return 0;
    uint64_t w = capn_load64_(p->loc);
    enum capn_err e = CAPN_OK;
    if (w == 0)
        return 0;
    if (!leaf && p->nest <= 0 && p->msg != NULL) {
        e = CAPN_ERR_NESTING;
    } else if (capn_kind_(w) == kind) {
        /* The common case, a near pointer of the expected kind. */
        r->seg = p->seg;
        r->tag = w;
        r->pos = (int64_t)((size_t)(p->loc - p->seg->data) / 8) + 1 + capn_off_(w);
        return 1;
    } else if (capn_kind_(w) == CAPN_K_OTHER) {
        e = ((uint32_t)w >> 2) == 0 ? CAPN_ERR_PTR_KIND : CAPN_ERR_RESERVED;
    } else {
        e = resolve(p, r);
        if (e == CAPN_OK && capn_kind_(r->tag) != kind)
            e = CAPN_ERR_PTR_KIND;
    }
    if (e != CAPN_OK) {
        capn_msg_fail(p->msg, e);
        return -1;
    }
    return 1;
}

static struct capn_struct null_struct(const struct capn_ptr *p)
{
    struct capn_struct s = {p->msg, NULL, NULL, NULL, 0, 0, p->nest - 1};
    return s;
}

/*
 * The fast paths below take a near pointer of the expected kind in a
 * message (not a trusted default, which has no budget) and succeed only
 * when nothing would be recorded; anything else goes the general way from
 * the start, so they change no outcome.
 */
static inline int64_t near_pos(const struct capn_ptr *p, uint64_t w)
{
    return (int64_t)((size_t)(p->loc - p->seg->data) / 8) + 1 + capn_off_(w);
}

struct capn_struct capn_ptr_struct_(const struct capn_ptr *p, const struct capn_seg *def)
{
    struct capn_res r;
    struct capn_msg *m = p->msg;
    if (p->loc != NULL && m != NULL && p->nest > 0) {
        uint64_t w = capn_load64_(p->loc);
        uint16_t dw = capn_sdata_(w), np = capn_sptrs_(w);
        int64_t pos = near_pos(p, w);
        uint64_t words = (uint64_t)dw + np;
        if (capn_kind_(w) == CAPN_K_STRUCT && w != 0 && fits(p->seg, pos, words) &&
            words <= m->read_left) {
            m->read_left -= words;
            struct capn_struct s = {m,
                                    p->seg,
                                    p->seg->data + (size_t)pos * 8,
                                    p->seg->data + ((size_t)pos + dw) * 8,
                                    (uint32_t)dw * 8,
                                    np,
                                    p->nest - 1};
            return s;
        }
    }
    if (follow(p, CAPN_K_STRUCT, false, &r) > 0) {
        uint16_t dw = capn_sdata_(r.tag), np = capn_sptrs_(r.tag);
        uint64_t words = (uint64_t)dw + np;
        if (!fits(r.seg, r.pos, words)) {
            capn_msg_fail(p->msg, CAPN_ERR_BOUNDS);
        } else if (charge(p->msg, words)) {
            struct capn_struct s;
            s.msg = p->msg;
            s.seg = r.seg;
            s.data = r.seg->data + (size_t)r.pos * 8;
            s.ptrs = s.data + (size_t)dw * 8;
            s.data_bytes = (uint32_t)dw * 8;
            s.nptrs = np;
            s.nest = p->nest - 1;
            return s;
        }
    }
    if (def != NULL && def->words > 0) {
        /* Defaults are trusted constants: read without the message, so
         * they cost no budget and work even when it is spent. */
        struct capn_ptr d = {NULL, def, def->data, p->nest};
        struct capn_struct s = capn_ptr_struct_(&d, NULL);
        s.nest = p->nest - 1;
        return s;
    }
    return null_struct(p);
}

/*
 * Whether a list of element kind `found` (data bits, pointers per element)
 * may be read as `want`. Lists may be read with a wider schema type than
 * written only in the ways the encoding allows: primitives and pointers as
 * the first field of a struct, struct lists as their first field. Bit lists
 * are compatible with nothing but themselves.
 */
static bool compatible(uint32_t found_es, uint32_t dbits, uint32_t nptrs, uint32_t want)
{
    if (want == CAPN_ANY)
        return true;
    if (found_es == CAPN_COMPOSITE) {
        switch (want) {
        case CAPN_VOID:
        case CAPN_COMPOSITE:
            return true;
        case CAPN_BIT:
            return false;
        case CAPN_PTR:
            return nptrs > 0;
        default:
            return dbits > 0;
        }
    }
    if (found_es == CAPN_BIT && want != CAPN_BIT)
        return false;
    if (want == CAPN_COMPOSITE)
        return true;
    return capn_esize_bits_(want) <= dbits && (want == CAPN_PTR ? 1u : 0u) <= nptrs;
}

static inline enum capn_err list_from(const struct capn_ptr *p, const struct capn_res *r,
                                      uint32_t want, struct capn_list *l)
{
    uint32_t es = capn_lsize_(r->tag);
    uint64_t n = capn_lcount_(r->tag);
    uint64_t words = capn_list_words_(r->tag);
    int64_t pos = r->pos;
    uint32_t dbits, nptrs, step;

    if (es == CAPN_COMPOSITE) {
        /* n counts words after the tag; the tag gives the element count. */
        if (!fits(r->seg, pos, words + 1))
            return CAPN_ERR_BOUNDS;
        uint64_t tag = capn_load64_(r->seg->data + (size_t)pos * 8);
        if (capn_kind_(tag) != CAPN_K_STRUCT)
            return CAPN_ERR_COMPOSITE_TAG;
        uint64_t count = ((uint32_t)tag >> 2);
        uint64_t per = (uint64_t)capn_sdata_(tag) + capn_sptrs_(tag);
        if (count * per > words)
            return CAPN_ERR_COMPOSITE_TAG;
        if (count > CAPN_MAX_LIST_LEN)
            return CAPN_ERR_COMPOSITE_TAG;
        /* Zero-sized elements cost nothing to encode; charge a word each
         * so a huge count cannot buy unbounded work. */
        if (!charge(p->msg, words + 1 + (per == 0 ? count : 0)))
            return CAPN_ERR_TRAVERSAL;
        dbits = (uint32_t)capn_sdata_(tag) * 64;
        nptrs = capn_sptrs_(tag);
        step = (uint32_t)per * 64;
        n = count;
        pos++;
    } else {
        dbits = capn_esize_bits_(es);
        nptrs = es == CAPN_PTR ? 1 : 0;
        step = dbits + 64 * nptrs;
        if (!fits(r->seg, pos, words))
            return CAPN_ERR_BOUNDS;
        if (!charge(p->msg, words + (es == CAPN_VOID ? n : 0)))
            return CAPN_ERR_TRAVERSAL;
    }
    if (!compatible(es, dbits, nptrs, want))
        return CAPN_ERR_ELEM_SIZE;
    l->msg = p->msg;
    l->seg = r->seg;
    l->data = r->seg->data + (size_t)pos * 8;
    l->len = (uint32_t)n;
    l->step = step;
    l->data_bits = dbits;
    l->nptrs = (uint16_t)nptrs;
    l->esize = (uint8_t)es;
    l->nest = p->nest - 1;
    return CAPN_OK;
}

static inline __attribute__((always_inline)) bool read_list(const struct capn_ptr *p, uint32_t want,
                                                            bool leaf, struct capn_list *l)
{
    struct capn_res r;
    if (follow(p, CAPN_K_LIST, leaf, &r) <= 0)
        return false;
    enum capn_err e = list_from(p, &r, want, l);
    if (e != CAPN_OK && e != CAPN_ERR_TRAVERSAL)
        capn_msg_fail(p->msg, e);
    return e == CAPN_OK;
}

struct capn_list capn_ptr_list_(const struct capn_ptr *p, enum capn_esize want,
                                const struct capn_seg *def)
{
    struct capn_list l;
    if (read_list(p, want, false, &l))
        return l;
    if (def != NULL && def->words > 0) {
        struct capn_ptr d = {NULL, def, def->data, p->nest};
        struct capn_list dl = capn_ptr_list_(&d, want, NULL);
        dl.nest = p->nest - 1;
        return dl;
    }
    struct capn_list n = {p->msg, NULL, NULL, 0, 0, 0, 0, (uint8_t)(want & 7), p->nest - 1};
    return n;
}

/* Text and Data must be byte lists, exactly. They hold no pointers, so the
 * nesting limit does not apply to them. */
static inline bool read_bytes(const struct capn_ptr *p, struct capn_list *l)
{
    if (!read_list(p, CAPN_BYTE, true, l))
        return false;
    if (l->esize != CAPN_BYTE) {
        capn_msg_fail(p->msg, CAPN_ERR_ELEM_SIZE);
        return false;
    }
    return true;
}

/* Fast path of Text and Data: the content of a near byte-list pointer, or
 * NULL. *n gets the byte count. */
static inline const uint8_t *near_bytes(const struct capn_ptr *p, uint32_t *n)
{
    struct capn_msg *m = p->msg;
    if (p->loc == NULL || m == NULL)
        return NULL;
    uint64_t w = capn_load64_(p->loc);
    int64_t pos = near_pos(p, w);
    uint64_t words = ((uint64_t)capn_lcount_(w) + 7) / 8;
    if ((w & (7ull << 32 | 3)) != ((uint64_t)CAPN_BYTE << 32 | CAPN_K_LIST) ||
        !fits(p->seg, pos, words) || words > m->read_left)
        return NULL;
    *n = capn_lcount_(w);
    return p->seg->data + (size_t)pos * 8;
}

struct capn_text capn_ptr_text_(const struct capn_ptr *p, const char *def, uint32_t def_len)
{
    struct capn_list l;
    struct capn_text t = {empty_text, 0};
    uint32_t n;
    const uint8_t *b = near_bytes(p, &n);
    if (b != NULL && n > 0 && b[n - 1] == 0) {
        p->msg->read_left -= ((uint64_t)n + 7) / 8;
        t.str = (const char *)b;
        t.len = n - 1;
        return t;
    }
    if (read_bytes(p, &l)) {
        if (l.len > 0 && l.data[l.len - 1] == 0) {
            t.str = (const char *)l.data;
            t.len = l.len - 1;
            return t;
        }
        capn_msg_fail(p->msg, CAPN_ERR_TEXT);
    }
    if (def != NULL) {
        t.str = def;
        t.len = def_len;
    }
    return t;
}

struct capn_data capn_ptr_data_(const struct capn_ptr *p, const void *def, uint32_t def_len)
{
    struct capn_list l;
    struct capn_data d = {(const uint8_t *)empty_text, 0};
    uint32_t n;
    const uint8_t *b = near_bytes(p, &n);
    if (b != NULL) {
        p->msg->read_left -= ((uint64_t)n + 7) / 8;
        d.ptr = b;
        d.len = n;
        return d;
    }
    if (read_bytes(p, &l)) {
        d.ptr = l.data;
        d.len = l.len;
        return d;
    }
    if (def != NULL) {
        d.ptr = def;
        d.len = def_len;
    }
    return d;
}

/* Capability pointers are never behind far pointers (they have no
 * content), so the word is read in place. */
bool capn_ptr_cap_(const struct capn_ptr *p, uint32_t *index)
{
    if (p->loc == NULL || capn_load64_(p->loc) == 0)
        return false;
    uint64_t w = capn_load64_(p->loc);
    enum capn_err e = CAPN_OK;
    if (capn_kind_(w) != CAPN_K_OTHER)
        e = CAPN_ERR_PTR_KIND;
    else if ((uint32_t)w >> 2 != 0)
        e = CAPN_ERR_RESERVED;
    else if (p->msg != NULL && (uint32_t)(w >> 32) >= p->msg->cap_count)
        e = CAPN_ERR_CAP_INDEX;
    if (e != CAPN_OK) {
        capn_msg_fail(p->msg, e);
        return false;
    }
    *index = (uint32_t)(w >> 32);
    return true;
}

enum capn_ptype capn_msg_root_struct_slow_(struct capn_msg *m, struct capn_struct *out)
{
    struct capn_ptr root = capn_msg_root(m);
    enum capn_ptype t = capn_ptr_type_(&root);
    if (t == CAPN_PT_STRUCT || t == CAPN_PT_NULL) {
        *out = capn_ptr_struct_(&root, NULL);
    } else {
        struct capn_struct none = {0};
        *out = none;
    }
    return t;
}
