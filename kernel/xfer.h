/*
 * Capability transfer (SPEC §5): the capabilities a CALL or RETURN carries,
 * taken from the sender and given to the receiver atomically.
 *
 *   xfer_take    copy: take a reference; move: reserve the sender's slot
 *   xfer_give    make room in the receiver first (rx_reserve), then insert
 *                all; nothing can fail half-way
 *   xfer_settle  after the outcome is known: commit the moves (free the
 *                sender's slots) or roll them back; drop the references
 *
 * A capability is never lost (a failed transfer leaves the sender as it
 * was), duplicated (a moved slot stays reserved until committed, and a
 * second move of it fails), or half-inserted (the receiver's space is
 * reserved before the first insert).
 */
#ifndef CAPOS_XFER_H
#define CAPOS_XFER_H

#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

struct process;
struct kobject;

struct xfer_set {
    uint32_t n;
    struct kobject *obj[CAPOS_MAX_XFER];
    uint64_t iface[CAPOS_MAX_XFER];
    uint32_t flags[CAPOS_MAX_XFER];
    uint32_t nmoved;
    uint32_t moved[CAPOS_MAX_XFER]; /* the sender's reserved slots */
    /* xfer_give handed the set's references to the receiver's slots: they
     * are no longer the set's to drop. */
    bool given;
};

static inline void xfer_init(struct xfer_set *x)
{
    x->n = 0;
    x->nmoved = 0;
    x->given = false;
}

/* Take what sqe's descriptors name from p (the running process). `target`
 * is the capability being called or 0; moving it is refused. 0 or a
 * CAPOS_E_*; on error nothing is held or reserved. */
int xfer_take_any(struct process *p, const struct capos_sqe *sqe, uint32_t target, uint32_t refuse,
                  struct xfer_set *x);
/* `refuse`: table flags (CAPF_*) that make a capability untransferable
 * here, besides CAPF_NO_TRANSFER. */
__attribute__((always_inline)) static inline int xfer_take(struct process *p,
                                                           const struct capos_sqe *sqe,
                                                           uint32_t target, uint32_t refuse,
                                                           struct xfer_set *x)
{
    /* Most calls carry no capability: no call at all for them. */
    if (sqe->xfer_count == 0) {
        xfer_init(x);
        return 0;
    }
    return xfer_take_any(p, sqe, target, refuse, x);
}

/* Commit or roll back the sender's moves (sender NULL: it has exited and
 * its table is gone) and drop the references. Leaves x empty. */
void xfer_settle_any(struct process *sender, struct xfer_set *x, bool commit);
static inline void xfer_settle(struct process *sender, struct xfer_set *x, bool commit)
{
    if (x->n != 0 || x->nmoved != 0)
        xfer_settle_any(sender, x, commit);
}
/* Insert every capability into `to`, records in rec[] (x->n of them).
 * 0 or CAPOS_E_NO_SPACE, in which case nothing was inserted. */
int xfer_give_any(struct process *to, struct xfer_set *x, struct capos_cap_record *rec);
static inline int xfer_give(struct process *to, struct xfer_set *x, struct capos_cap_record *rec)
{
    return x->n ? xfer_give_any(to, x, rec) : 0; /* most calls carry none */
}
/* Undo xfer_give (the delivery failed afterwards): the references go back
 * to the set. */
void xfer_ungive(struct process *to, struct xfer_set *x, const struct capos_cap_record *rec);

#endif
