/*
 * Ring opcode dispatch, io_uring style: what an opcode allows is its row
 * of lib/kcore/ring_opdef.c, what it does is its issue function here. lib/kcore/ring.c
 * has already validated the SQE against the row (known opcode, flags,
 * unused fields, lengths, user-half addresses); what needs kernel state
 * (capabilities, interfaces, mappings) is checked here and by the objects.
 */
#include "ringops.h"
#include "hotpath.h"

#include <capos/errors.h>

#include "kcall.h"
#include "kcore/ring.h"
#include "kcore/ring_opdef.h"
#include "kobject.h"
#include "process.h"
#include "sched.h"
#include "tap.h"

#include "test_hooks.h"

/*
 * One opcode's work on a valid SQE. owner is the capability-table entry cap
 * names when the opcode's row says needs_owner (looked up and checked in
 * issue_owned(), so that the rule lives in one place), else NULL: such
 * opcodes use cap as they need to (a typed lookup, a removal).
 */
typedef enum ring_action (*ring_issue_fn)(struct process *p, const struct capos_sqe *sqe,
                                          struct capos_cqe *cqe, const struct cap_entry *owner);

static enum ring_action post(struct capos_cqe *cqe, int32_t result)
{
    cqe->result = result;
    return RING_POST;
}

/* A CALL on the capability e, found by a typed lookup. */
static enum ring_action call_found(struct process *p, const struct cap_entry *e,
                                   const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct kobject *obj = e->object;
    if (obj->type->ring_call)
        return (enum ring_action)obj->type->ring_call(obj, p, e, sqe, cqe);
    return kcall_execute(p, obj, sqe, cqe) ? RING_POST : RING_DEFER;
}

static enum ring_action op_call(struct process *p, const struct capos_sqe *sqe,
                                struct capos_cqe *cqe, const struct cap_entry *owner)
{
    struct cap_entry e;
    enum cap_status st = cap_table_lookup_typed(&p->caps, sqe->cap, sqe->interface_id, &e);
    if (st != CAP_OK)
        return post(cqe, cap_status_to_capos(st));
    return call_found(p, &e, sqe, cqe);
}

/* RECV and RETURN go to the object's hook; an object without one does not
 * serve calls. */
static enum ring_action op_recv(struct process *p, const struct capos_sqe *sqe,
                                struct capos_cqe *cqe, const struct cap_entry *owner)
{
    struct kobject *obj = owner->object;
    if (!obj->type->recv)
        return post(cqe, CAPOS_E_NOT_PERMITTED);
    return (enum ring_action)obj->type->recv(obj, p, owner, sqe, cqe);
}

static enum ring_action op_return(struct process *p, const struct capos_sqe *sqe,
                                  struct capos_cqe *cqe, const struct cap_entry *owner)
{
    struct kobject *obj = owner->object;
    if (!obj->type->ret)
        return post(cqe, CAPOS_E_NOT_PERMITTED);
    return (enum ring_action)obj->type->ret(obj, p, owner, sqe, cqe);
}

/* RETURN, then RECV with the same entry. The RETURN's CQE is not posted:
 * on success this entry goes on as the RECV (posted or deferred like
 * one); on failure it completes with the RETURN's error and
 * CAPOS_CQE_F_RETURN_FAILED, and no RECV is started, so that the server
 * learns what its RETURN could not deliver (a capability it moved is still
 * its own) exactly as from a RETURN. */
static enum ring_action op_return_recv(struct process *p, const struct capos_sqe *sqe,
                                       struct capos_cqe *cqe, const struct cap_entry *owner)
{
    struct kobject *obj = owner->object;
    if (!obj->type->ret || !obj->type->recv)
        return post(cqe, CAPOS_E_NOT_PERMITTED);
    enum ring_action a = (enum ring_action)obj->type->ret(obj, p, owner, sqe, cqe);
    if (a != RING_POST || cqe->result < 0) {
        cqe->flags |= CAPOS_CQE_F_RETURN_FAILED;
        return a;
    }
    *cqe = (struct capos_cqe){.user_data = cqe->user_data};
    return (enum ring_action)obj->type->recv(obj, p, owner, sqe, cqe);
}

static enum ring_action op_release(struct process *p, const struct capos_sqe *sqe,
                                   struct capos_cqe *cqe, const struct cap_entry *owner)
{
    struct cap_entry e;
    enum cap_status st = cap_table_remove(&p->caps, sqe->cap, &e);
    if (st == CAP_OK)
        kobject_unref(e.object);
    return post(cqe, cap_status_to_capos(st));
}

/* Complete the pending CALL or RECV named by target_user_data with
 * CAPOS_E_CANCELLED (into the CQ slot it holds); this CQE says whether
 * there was one. A control opcode: it never defers. */
static enum ring_action op_cancel(struct process *p, const struct capos_sqe *sqe,
                                  struct capos_cqe *cqe, const struct cap_entry *owner)
{
    return post(cqe, pending_call_cancel(p, sqe->target_user_data));
}

/* Every opcode has a row, so that the assertion below fails when one is
 * added without its issue function. */
static const ring_issue_fn ring_issue[] = {
    [CAPOS_OP_NOP] = 0, /* completed inside ring_process */
    [CAPOS_OP_CALL] = op_call,
    [CAPOS_OP_RECV] = op_recv,
    [CAPOS_OP_RETURN] = op_return,
    [CAPOS_OP_RELEASE] = op_release,
    [CAPOS_OP_FINISH] = 0, /* reserved: refused by validation */
    [CAPOS_OP_CANCEL] = op_cancel,
    [CAPOS_OP_RETURN_RECV] = op_return_recv,
};
_Static_assert(sizeof ring_issue / sizeof ring_issue[0] == CAPOS_OP_COUNT,
               "an issue function (or 0) for every opcode of include/capos/ring.h");

/* The rule for opcodes whose row says needs_owner: cap must be an owner
 * side (a CAPF_OWNER entry, as only the owner side of an endpoint is); a
 * client facet, a wrapper or any other object may not. Out of line, so
 * that the path every CALL takes needs no stack frame. */
__attribute__((noinline)) static enum ring_action
issue_owned(struct process *p, const struct capos_sqe *sqe, struct capos_cqe *cqe, ring_issue_fn fn)
{
    struct cap_entry e;
    enum cap_status st = cap_table_lookup(&p->caps, sqe->cap, &e);
    if (st != CAP_OK)
        return post(cqe, cap_status_to_capos(st));
    if (!(e.flags & CAPF_OWNER))
        return post(cqe, CAPOS_E_NOT_PERMITTED);
    return fn(p, sqe, cqe, &e);
}

static enum ring_action issue(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    /* Validation admitted only opcodes with a row, and NOP never gets here;
     * the tests are for a table out of step with lib/kcore/ring_opdef.c. */
    ring_issue_fn fn = sqe->opcode < CAPOS_OP_COUNT ? ring_issue[sqe->opcode] : 0;
    if (!fn)
        return post(cqe, CAPOS_E_BAD_OPCODE);
    if (ring_opdefs[sqe->opcode].needs_owner)
        return issue_owned(ctx, sqe, cqe, fn);
    return fn(ctx, sqe, cqe, 0);
}

/*
 * Run the ring, and with the debug tap on, log what it consumed and
 * posted. The slots are read back from the page afterwards: on this one
 * CPU the process cannot run (and rewrite them) while its ring is being
 * processed.
 */
static void run_ring(struct thread *t, ring_handler h)
{
    struct process *p = t->process;
    if (!tap_enabled) {
        ring_process(t->ring, &t->ring_state, CAPOS_SQ_ENTRIES, h, p);
        return;
    }
    uint32_t sq0 = t->ring_state.sq_head, cq0 = t->ring_state.cq_tail;
    ring_process(t->ring, &t->ring_state, CAPOS_SQ_ENTRIES, h, p);
    for (uint32_t i = sq0; i != t->ring_state.sq_head; i++) {
        struct capos_sqe sqe;
        ring_fetch_sqe(t->ring, i, &sqe);
        tap_sqe(p, &sqe);
    }
    for (uint32_t i = cq0; i != t->ring_state.cq_tail; i++) {
        struct capos_cqe cqe = t->ring->cq[i & CAPOS_CQ_MASK];
        tap_cqe(p, &cqe);
    }
}

void ring_dispatch(struct thread *t)
{
    run_ring(t, issue);
}

/*
 * The fast path (docs/ipc.md, "Fast path"): one SQE waiting, a CALL or a
 * RETURN_RECV, copied and checked once (ring_peek_single). Its capability
 * is looked up as issue() would (typed for a CALL, an owner side for
 * RETURN_RECV); the object's fast hook either does the whole entry, or
 * changes nothing and the entry is issued as ring_process would
 * (ring_issue_peeked), with the entry already found. Anything else goes
 * through ring_dispatch.
 */
bool ring_fast_off;
uint64_t ring_fast_taken;

/* The entry the fast path peeked, and its capability once found. */
struct peeked {
    struct process *p;
    struct cap_entry e;
};

static enum ring_action issue_call_found(void *ctx, const struct capos_sqe *sqe,
                                         struct capos_cqe *cqe)
{
    struct peeked *k = ctx;
    return call_found(k->p, &k->e, sqe, cqe);
}

static enum ring_action issue_return_recv_found(void *ctx, const struct capos_sqe *sqe,
                                                struct capos_cqe *cqe)
{
    struct peeked *k = ctx;
    return op_return_recv(k->p, sqe, cqe, &k->e);
}

FAST_PATH bool ring_peek_fast(struct thread *t, struct capos_sqe *sqe)
{
    return ring_peek_sq(t->ring, &t->ring_state, 1u << CAPOS_OP_CALL | 1u << CAPOS_OP_RETURN_RECV,
                        sqe);
}

FAST_PATH struct thread *ring_dispatch_or_handoff(struct thread *t, const struct capos_sqe *sqe)
{
    /* The CQ's state is read here, under the lock: other CPUs post to it.
     * (ring_peek_single is ring_cq_has_room and ring_peek_sq.) */
    if (tap_enabled || (CAPOS_TEST_HOOKS && ring_fast_off) || !ring_cq_has_room(&t->ring_state)) {
        ring_dispatch(t);
        return 0;
    }
    struct peeked k; /* not zeroed: the lookups fill e, and only a found one is read */
    struct process *p = k.p = t->process;
    ring_handler h = issue; /* a failed lookup: issue() gives its error */
    void *ctx = p;
    struct thread *next = 0;
    if (sqe->opcode == CAPOS_OP_CALL) {
        if (cap_table_lookup_typed(&p->caps, sqe->cap, sqe->interface_id, &k.e) == CAP_OK) {
            struct kobject *obj = k.e.object;
            if (!obj->type->fast_call || !(next = obj->type->fast_call(obj, p, sqe))) {
                h = issue_call_found;
                ctx = &k;
            }
        }
    } else if (cap_table_lookup(&p->caps, sqe->cap, &k.e) == CAP_OK && (k.e.flags & CAPF_OWNER)) {
        struct kobject *obj = k.e.object;
        if (!obj->type->fast_return_recv || !(next = obj->type->fast_return_recv(obj, p, sqe))) {
            h = issue_return_recv_found;
            ctx = &k;
        }
    }
    if (!next) {
        ring_issue_peeked(t->ring, &t->ring_state, sqe, h, ctx);
        return 0;
    }
    /* The hook did the entry; its completion comes later. */
    ring_consume_deferred(t->ring, &t->ring_state);
    if (CAPOS_TEST_HOOKS)
        ring_fast_taken++;
    return next;
}

/*
 * From the timer: only opcodes whose row says irq_safe (NOPs complete
 * inside ring_process); anything else stops the batch (SQEs are consumed
 * in order) and waits for cap_enter. The timer only polls a process it
 * interrupted in user mode, so no kernel code is half-way through anything
 * and dropping a last reference may free memory.
 */
static enum ring_action issue_irq(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    /* The SQE passed validation: its opcode has a row. */
    if (!ring_opdefs[sqe->opcode].irq_safe)
        return RING_STOP;
    return issue(ctx, sqe, cqe);
}

void ring_poll_irq(struct thread *t)
{
    run_ring(t, issue_irq);
}
