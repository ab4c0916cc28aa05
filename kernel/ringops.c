/*
 * Ring opcode dispatch: a table with one entry per opcode (io_uring
 * style). lib/kcore/ring.c has already validated the SQE's shape (known opcode,
 * flags, reserved fields, lengths, user-half addresses); the handlers here
 * check what needs kernel state: capabilities, interfaces, mappings.
 */
#include "ringops.h"

#include <capos/errors.h>

#include "kcall.h"
#include "kcore/ring.h"
#include "kobject.h"
#include "objects/endpoint.h"
#include "process.h"
#include "tap.h"

typedef enum ring_action (*op_handler)(struct process *p, const struct capos_sqe *sqe,
                                       struct capos_cqe *cqe);

static enum ring_action op_call(struct process *p, const struct capos_sqe *sqe,
                                struct capos_cqe *cqe)
{
    struct cap_entry e;
    enum cap_status st = cap_table_lookup_typed(&p->caps, sqe->cap, sqe->interface_id, &e);
    if (st != CAP_OK) {
        cqe->result = cap_status_to_capos(st);
        return RING_POST;
    }
    struct kobject *obj = e.object;
    if (obj->type->ring_call)
        return (enum ring_action)obj->type->ring_call(obj, p, &e, sqe, cqe);
    return kcall_execute(p, obj, sqe, cqe) ? RING_POST : RING_DEFER;
}

static enum ring_action op_release(struct process *p, const struct capos_sqe *sqe,
                                   struct capos_cqe *cqe)
{
    struct cap_entry e;
    enum cap_status st = cap_table_remove(&p->caps, sqe->cap, &e);
    if (st == CAP_OK)
        kobject_unref(e.object);
    cqe->result = cap_status_to_capos(st);
    return RING_POST;
}

static enum ring_action op_endpoint(struct process *p, const struct capos_sqe *sqe,
                                    struct capos_cqe *cqe)
{
    /* RECV and RETURN need the owner side of an endpoint; a client facet
     * or any other object may not. */
    struct cap_entry e;
    enum cap_status st = cap_table_lookup(&p->caps, sqe->cap, &e);
    if (st != CAP_OK) {
        cqe->result = cap_status_to_capos(st);
        return RING_POST;
    }
    if (!endpoint_is_owner(e.object)) {
        cqe->result = CAPOS_E_NOT_PERMITTED;
        return RING_POST;
    }
    return (enum ring_action)(sqe->opcode == CAPOS_OP_RECV
                                  ? endpoint_recv(e.object, p, sqe, cqe)
                                  : endpoint_return(e.object, p, sqe, cqe));
}

static const op_handler op_table[] = {
    [CAPOS_OP_CALL] = op_call,
    [CAPOS_OP_RECV] = op_endpoint,
    [CAPOS_OP_RETURN] = op_endpoint,
    [CAPOS_OP_RELEASE] = op_release,
};

static enum ring_action handle(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    /* ring_check_sqe admitted only known opcodes; NOP never gets here. */
    op_handler h = sqe->opcode < sizeof(op_table) / sizeof(op_table[0]) ? op_table[sqe->opcode] : 0;
    if (!h) {
        cqe->result = CAPOS_E_BAD_OPCODE;
        return RING_POST;
    }
    return h(ctx, sqe, cqe);
}

/*
 * Run the ring, and with the debug tap on, log what it consumed and
 * posted. The slots are read back from the page afterwards: on this one
 * CPU the process cannot run (and rewrite them) while its ring is being
 * processed.
 */
static void run_ring(struct process *p, ring_handler h)
{
    if (!tap_enabled) {
        ring_process(p->ring, &p->ring_state, CAPOS_SQ_ENTRIES, h, p);
        return;
    }
    uint32_t sq0 = p->ring_state.sq_head, cq0 = p->ring_state.cq_tail;
    ring_process(p->ring, &p->ring_state, CAPOS_SQ_ENTRIES, h, p);
    for (uint32_t i = sq0; i != p->ring_state.sq_head; i++) {
        struct capos_sqe sqe;
        ring_fetch_sqe(p->ring, i, &sqe);
        tap_sqe(p, &sqe);
    }
    for (uint32_t i = cq0; i != p->ring_state.cq_tail; i++) {
        struct capos_cqe cqe = p->ring->cq[i & CAPOS_CQ_MASK];
        tap_cqe(p, &cqe);
    }
}

void ring_dispatch(struct process *p)
{
    run_ring(p, handle);
}

/*
 * From the timer: only work that is safe in interrupt context. NOPs
 * complete inside ring_process; RELEASE is done here; anything else stops
 * the batch (SQEs are consumed in order) and waits for cap_enter. The timer
 * only polls a process it interrupted in user mode, so no kernel code is
 * half-way through anything and dropping a last reference may free memory.
 */
static enum ring_action handle_irq(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    if (sqe->opcode != CAPOS_OP_RELEASE)
        return RING_STOP;
    return op_release(ctx, sqe, cqe);
}

void ring_poll_irq(struct process *p)
{
    run_ring(p, handle_irq);
}
