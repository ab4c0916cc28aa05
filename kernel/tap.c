/* The debug tap (tap.h). */
#include "tap.h"

#include "capos.capnp.h"
#include "kcore/ring_opdef.h"
#include "kprintf.h"
#include "process.h"

bool tap_enabled;

void tap_sqe(const struct process *p, const struct capos_sqe *sqe)
{
    /* Any opcode, valid or not: the tap logs what the process wrote. */
    const struct ring_opdef *d = ring_opdef(sqe->opcode);
    kprintf("tap: pid %u SQE %s(%u) cap %x", p->pid, d ? d->name : "?", sqe->opcode, sqe->cap);
    if (sqe->opcode == CAPOS_OP_CALL) {
        const struct capnpc_iface *i = 0;
        for (unsigned k = 0; k < capos_INTERFACE_COUNT; k++)
            if (capos_INTERFACES[k]->id == sqe->interface_id)
                i = capos_INTERFACES[k];
        if (i && sqe->method < i->method_count)
            kprintf(" %s.%s", i->name, i->methods[sqe->method].name);
        else
            kprintf(" iface %lx method %u", sqe->interface_id, sqe->method);
    }
    kprintf(" params %u result %u xfer %u user_data %lx\n", sqe->params_len, sqe->result_len,
            sqe->xfer_count, sqe->user_data);
}

void tap_cqe(const struct process *p, const struct capos_cqe *cqe)
{
    kprintf("tap: pid %u CQE user_data %lx result %d flags %x len %u caps %u\n", p->pid,
            cqe->user_data, cqe->result, cqe->flags, cqe->result_len, cqe->cap_count);
}
