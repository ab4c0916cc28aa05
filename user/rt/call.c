/*
 * The ring as the transport of generated client stubs: a CALL SQE per
 * request, the result message and result-capability records back.
 */
#include "capos_rt.h"

#include <string.h>

#include "capnpc_rt.h"

static int ring_call(void *ctx, const struct capnpc_request *req, struct capnpc_reply *rep)
{
    (void)ctx;
    struct capos_xfer xfer[CAPOS_MAX_XFER];
    if (req->ncaps > CAPOS_MAX_XFER)
        return CAPOS_E_TOO_LARGE;
    for (uint32_t i = 0; i < req->ncaps; i++)
        xfer[i] = (struct capos_xfer){.cap = req->caps[i], .mode = CAPOS_XFER_COPY};
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_CALL,
        .method = req->method,
        .cap = req->cap,
        .interface_id = req->interface_id,
        .params_addr = (uint64_t)req->params,
        .params_len = (uint32_t)req->params_len,
        .result_addr = (uint64_t)rep->buf,
        .result_len = (uint32_t)rep->size,
        .user_data = capos_ring_next_id(),
        .xfer_count = (uint16_t)req->ncaps,
        .xfer_addr = req->ncaps ? (uint64_t)xfer : 0,
    };
    struct capos_cqe cqe;
    if (!capos_ring_submit(&sqe))
        return CAPOS_E_INTERNAL;
    /* A call was just queued: enter the kernel first rather than look for
     * a completion that cannot be there yet. */
    capos_cap_enter(1, UINT64_MAX);
    if (!capos_ring_wait(sqe.user_data, &cqe))
        return CAPOS_E_INTERNAL;
    if (cqe.result < 0)
        return cqe.result;
    rep->len = cqe.result_len;
    rep->ncaps = 0;
    const struct capos_cap_record *rec =
        (const void *)((const uint8_t *)rep->buf + CAPOS_CAP_RECORDS_OFFSET(cqe.result_len));
    for (uint32_t i = 0; i < cqe.cap_count; i++) {
        if (rep->caps && rep->ncaps < rep->max_caps)
            rep->caps[rep->ncaps++] = rec[i].cap;
        else
            capos_release(rec[i].cap); /* nowhere to keep it: do not leak it */
    }
    return cqe.flags & CAPOS_CQE_F_EXCEPTION ? CAPNPC_EXCEPTION : CAPNPC_OK;
}

const struct capnpc_transport capos_transport = {.call = ring_call};
