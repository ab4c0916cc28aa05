/* Capability transfer (xfer.h). */
#include "xfer.h"

#include <capos/errors.h>

#include "kobject.h"
#include "process.h"
#include "usercopy.h"

/* Every capability transfer runs take, give and settle once each. With
 * link-time optimisation these are inlined into their few callers (the
 * CALL and RETURN paths, kernel calls): that is a tenth of a transfer's
 * cost. The definitions stay external, for the callers that are not. */
#define XFER_HOT __attribute__((always_inline)) inline

XFER_HOT int xfer_take_any(struct process *p, const struct capos_sqe *sqe, uint32_t target,
                           uint32_t refuse, struct xfer_set *x)
{
    struct capos_xfer d[CAPOS_MAX_XFER];
    xfer_init(x);
    if (sqe->xfer_count == 0)
        return 0;
    if (sqe->flags & CAPOS_SQE_F_XFER_INLINE) {
        /* Validation saw to xfer_count == 1 (checked again: only d[0] is
         * filled here). The word is the descriptor. */
        if (sqe->xfer_count != 1)
            return CAPOS_E_BAD_FLAGS;
        d[0].cap = (uint32_t)sqe->xfer_addr;
        d[0].mode = (uint32_t)(sqe->xfer_addr >> 32);
    } else {
        int rc = copy_from_user(p, d, sqe->xfer_addr, sqe->xfer_count * sizeof(d[0]));
        if (rc)
            return rc;
    }
    for (uint32_t i = 0; i < sqe->xfer_count; i++) {
        struct cap_entry e;
        enum cap_status st;
        if (d[i].mode == CAPOS_XFER_COPY) {
            st = cap_table_lookup(&p->caps, d[i].cap, &e);
        } else if (d[i].mode == CAPOS_XFER_MOVE && d[i].cap != target) {
            st = cap_table_reserve(&p->caps, d[i].cap, &e);
            if (st == CAP_OK)
                x->moved[x->nmoved++] = d[i].cap;
        } else {
            st = CAP_ERR_INVALID; /* unknown mode, or moving the target */
        }
        if (st == CAP_OK && (e.flags & (CAPF_NO_TRANSFER | refuse)))
            st = CAP_ERR_INVALID;
        if (st != CAP_OK) {
            xfer_settle(p, x, false);
            return st == CAP_ERR_INVALID || st == CAP_ERR_RESERVED ? CAPOS_E_BAD_TRANSFER
                                                                   : cap_status_to_capos(st);
        }
        x->obj[x->n] = kobject_ref(e.object);
        x->iface[x->n] = e.interface_id;
        x->flags[x->n] = e.flags;
        x->n++;
    }
    return 0;
}

XFER_HOT void xfer_settle_any(struct process *sender, struct xfer_set *x, bool commit)
{
    for (uint32_t i = 0; sender && i < x->nmoved; i++) {
        struct cap_entry e;
        if (commit) {
            /* The slot is still reserved: nothing else can free it. */
            if (cap_table_commit(&sender->caps, x->moved[i], &e) == CAP_OK)
                kobject_unref(e.object); /* the sender's slot held a reference */
        } else {
            cap_table_rollback(&sender->caps, x->moved[i]);
        }
    }
    for (uint32_t i = 0; !x->given && i < x->n; i++)
        kobject_unref(x->obj[i]);
    xfer_init(x);
}

XFER_HOT int xfer_give_any(struct process *to, struct xfer_set *x, struct capos_cap_record *rec)
{
    if (x->n == 0)
        return 0;
    if (x->given || cap_table_rx_reserve(&to->caps, x->n) != CAP_OK)
        return CAPOS_E_NO_SPACE;
    /* Each slot takes over the set's reference (xfer_take took one). */
    for (uint32_t i = 0; i < x->n; i++) {
        struct cap_entry e = {
            .object = x->obj[i], .interface_id = x->iface[i], .flags = x->flags[i]};
        /* Cannot fail: the credit was reserved above and objects are
         * never NULL (xfer_take took a reference to each). */
        cap_table_rx_fill(&to->caps, &e, &rec[i].cap);
        rec[i].reserved = 0;
        rec[i].interface_id = x->iface[i];
    }
    x->given = true;
    return 0;
}

void xfer_ungive(struct process *to, struct xfer_set *x, const struct capos_cap_record *rec)
{
    if (!x->given)
        return;
    for (uint32_t i = 0; i < x->n; i++) {
        struct cap_entry e;
        cap_table_rx_unfill(&to->caps, rec[i].cap, &e); /* the reference is the set's again */
    }
    cap_table_rx_cancel(&to->caps, x->n);
    x->given = false;
}
