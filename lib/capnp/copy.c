/*
 * Deep copy from a reader into a builder.
 *
 * The source is walked with the ordinary reader, so its nesting limit bounds
 * the recursion and its traversal budget bounds the work; whatever the
 * reader rejects is written as null. Structs and lists keep the sizes they
 * were written with, so data from a newer schema survives the copy.
 */
#include "internal.h"

static void copy_ptr(const struct capn_bptr *dst, const struct capn_ptr *src);

static void copy_struct(const struct capn_bptr *dst, const struct capn_struct *s)
{
    if (s->seg == NULL) {
        capn_bptr_clear_(dst);
        return;
    }
    struct capn_bstruct d =
        capn_bptr_init_struct_(dst, (uint16_t)((s->data_bytes + 7) / 8), s->nptrs);
    if (d.b == NULL)
        return;
    capn_copy_bytes_(d.data, s->data, s->data_bytes);
    for (uint32_t i = 0; i < s->nptrs; i++) {
        struct capn_bptr dp = capn_bstruct_ptr(&d, i);
        struct capn_ptr sp = capn_struct_ptr(s, i);
        copy_ptr(&dp, &sp);
    }
}

static void copy_list(const struct capn_bptr *dst, const struct capn_list *l)
{
    struct capn_blist d;
    if (l->seg == NULL) {
        capn_bptr_clear_(dst);
        return;
    }
    switch (l->esize) {
    case CAPN_COMPOSITE:
        d = capn_bptr_init_struct_list_(dst, l->len, (uint16_t)(l->data_bits / 64), l->nptrs);
        if (d.b == NULL)
            return;
        for (uint32_t i = 0; i < l->len; i++) {
            struct capn_struct se = capn_list_struct(l, i);
            struct capn_bstruct de = capn_blist_struct(&d, i);
            capn_copy_bytes_(de.data, se.data, se.data_bytes);
            for (uint32_t j = 0; j < se.nptrs; j++) {
                struct capn_bptr dp = capn_bstruct_ptr(&de, j);
                struct capn_ptr sp = capn_struct_ptr(&se, j);
                copy_ptr(&dp, &sp);
            }
        }
        break;
    case CAPN_PTR:
        d = capn_bptr_init_list_(dst, CAPN_PTR, l->len);
        if (d.b == NULL)
            return;
        for (uint32_t i = 0; i < l->len; i++) {
            struct capn_bptr dp = capn_blist_ptr(&d, i);
            struct capn_ptr sp = capn_list_ptr(l, i);
            copy_ptr(&dp, &sp);
        }
        break;
    default:
        d = capn_bptr_init_list_(dst, (enum capn_esize)l->esize, l->len);
        if (d.b == NULL)
            return;
        capn_copy_bytes_(d.data, l->data, ((size_t)l->len * l->step + 7) / 8);
        break;
    }
}

static void copy_ptr(const struct capn_bptr *dst, const struct capn_ptr *src)
{
    enum capn_err e;
    uint32_t index;
    switch (capn_classify_(src, &e)) {
    case CAPN_PT_STRUCT: {
        struct capn_struct s = capn_ptr_struct_(src, NULL);
        copy_struct(dst, &s);
        break;
    }
    case CAPN_PT_LIST: {
        struct capn_list l = capn_ptr_list_(src, CAPN_ANY, NULL);
        copy_list(dst, &l);
        break;
    }
    case CAPN_PT_CAP:
        if (capn_ptr_cap_(src, &index))
            capn_bptr_set_cap_(dst, index);
        else
            capn_bptr_clear_(dst);
        break;
    case CAPN_PT_INVALID:
        capn_msg_fail(src->msg, e);
        capn_bptr_clear_(dst);
        break;
    default:
        capn_bptr_clear_(dst);
        break;
    }
}

/* Report an error that happened during this copy, builder side first. */
static enum capn_err outcome(struct capn_bld *b, enum capn_err b0, struct capn_msg *m,
                             uint32_t nerr0)
{
    if (b0 == CAPN_OK && b->err != CAPN_OK)
        return b->err;
    if (m != NULL && m->nerr != nerr0)
        return m->last;
    return CAPN_OK;
}

enum capn_err capn_bptr_copy_(const struct capn_bptr *p, const struct capn_ptr *src)
{
    if (p->b == NULL || p->loc == NULL)
        return CAPN_ERR_ARG;
    enum capn_err b0 = p->b->err;
    uint32_t n0 = src->msg ? src->msg->nerr : 0;
    copy_ptr(p, src);
    return outcome(p->b, b0, src->msg, n0);
}

enum capn_err capn_bptr_copy_struct_(const struct capn_bptr *p, const struct capn_struct *src)
{
    if (p->b == NULL || p->loc == NULL)
        return CAPN_ERR_ARG;
    enum capn_err b0 = p->b->err;
    uint32_t n0 = src->msg ? src->msg->nerr : 0;
    copy_struct(p, src);
    return outcome(p->b, b0, src->msg, n0);
}

enum capn_err capn_bptr_copy_list_(const struct capn_bptr *p, const struct capn_list *src)
{
    if (p->b == NULL || p->loc == NULL)
        return CAPN_ERR_ARG;
    enum capn_err b0 = p->b->err;
    uint32_t n0 = src->msg ? src->msg->nerr : 0;
    copy_list(p, src);
    return outcome(p->b, b0, src->msg, n0);
}
