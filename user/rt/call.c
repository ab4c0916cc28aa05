/*
 * The ring as the transport of generated client stubs: a CALL SQE per
 * request, the result message and result-capability records back.
 */
#include "capos_rt.h"

#include <string.h>

#include "capnp/capnpc_rt.h"
#include "capos.capnp.h"

/* Queue the CALL SQE of a request, its capabilities copied; the kernel
 * reads xfer[] when it takes the SQE, so it must live until then. */
static bool submit_request(const struct capnpc_request *req, struct capnpc_reply *rep,
                           uint64_t user_data, struct capos_xfer *xfer)
{
    if (req->ncaps > CAPOS_MAX_XFER)
        return false;
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
        .user_data = user_data,
        .xfer_count = (uint16_t)req->ncaps,
        .xfer_addr = req->ncaps ? (uint64_t)xfer : 0,
    };
    if (req->ncaps == 1) { /* the descriptor in the entry itself */
        sqe.flags = CAPOS_SQE_F_XFER_INLINE;
        sqe.xfer_addr = capos_xfer_inline(xfer[0].cap, xfer[0].mode);
    }
    return capos_ring_submit(&sqe);
}

/* What the transport's call returns for a completed CQE; fills rep. */
static int reply_from_cqe(const struct capos_cqe *cqe, struct capnpc_reply *rep)
{
    if (cqe->result < 0)
        return cqe->result;
    rep->len = cqe->result_len;
    rep->ncaps = 0;
    const struct capos_cap_record *rec =
        (const void *)((const uint8_t *)rep->buf + CAPOS_CAP_RECORDS_OFFSET(cqe->result_len));
    for (uint32_t i = 0; i < cqe->cap_count; i++) {
        if (rep->caps && rep->ncaps < rep->max_caps)
            rep->caps[rep->ncaps++] = rec[i].cap;
        else
            capos_release(rec[i].cap); /* nowhere to keep it: do not leak it */
    }
    return cqe->flags & CAPOS_CQE_F_EXCEPTION ? CAPNPC_EXCEPTION : CAPNPC_OK;
}

static int ring_call(void *ctx, const struct capnpc_request *req, struct capnpc_reply *rep)
{
    (void)ctx;
    uint64_t id = capos_ring_next_id();
    struct capos_xfer xfer[CAPOS_MAX_XFER];
    if (req->ncaps > CAPOS_MAX_XFER)
        return CAPOS_E_TOO_LARGE;
    /* Most calls carry no capability: their SQE is written in place. */
    struct capos_sqe *slot = req->ncaps == 0 ? capos_ring_sqe_slot() : 0;
    if (slot) {
        *slot = (struct capos_sqe){
            .opcode = CAPOS_OP_CALL,
            .method = req->method,
            .cap = req->cap,
            .interface_id = req->interface_id,
            .params_addr = (uint64_t)req->params,
            .params_len = (uint32_t)req->params_len,
            .result_addr = (uint64_t)rep->buf,
            .result_len = (uint32_t)rep->size,
            .user_data = id,
        };
        capos_ring_sqe_publish();
    } else if (!submit_request(req, rep, id, xfer)) {
        return CAPOS_E_INTERNAL;
    }
    /* A call was just queued: enter the kernel first rather than look for
     * a completion that cannot be there yet. A kernel object's answer is
     * then usually the first CQE: take it directly. */
    struct capos_cqe cqe;
    capos_cap_enter(1, UINT64_MAX);
    if (!capos_ring_take_first(id, &cqe) && !capos_ring_wait(id, &cqe))
        return CAPOS_E_INTERNAL;
    return reply_from_cqe(&cqe, rep);
}

const struct capnpc_transport capos_transport = {.call = ring_call};

bool capos_call_start(struct capnpc_call *c, uint32_t cap, uint64_t interface_id, uint16_t method,
                      uint64_t user_data)
{
    struct capnpc_request req;
    if (!capnpc_call_frame(c, cap, interface_id, method, &req) || req.ncaps > CAPOS_MAX_XFER)
        return false;
    /* The descriptors must outlive this frame (the kernel may take the
     * SQE much later): the runtime keeps them with the SQ slot. */
    struct capos_xfer xfer[CAPOS_MAX_XFER] = {{0}}; /* GCC's LTO cannot see ncaps bound the reads */
    for (uint32_t i = 0; i < req.ncaps; i++)
        xfer[i] = (struct capos_xfer){.cap = req.caps[i], .mode = CAPOS_XFER_COPY};
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_CALL,
        .method = req.method,
        .cap = req.cap,
        .interface_id = req.interface_id,
        .params_addr = (uint64_t)req.params,
        .params_len = (uint32_t)req.params_len,
        .result_addr = (uint64_t)c->reply.buf,
        .result_len = (uint32_t)c->reply.size,
        .user_data = user_data,
    };
    return capos_ring_submit_xfer(&sqe, xfer, req.ncaps);
}

int capos_call_finish(struct capnpc_call *c, const struct capos_cqe *cqe, struct capn_struct *out)
{
    return capnpc_call_complete(c, reply_from_cqe(cqe, &c->reply), out);
}

int capos_endpoint_create(uint32_t factory, uint64_t interface_id, struct capnpc_call *c,
                          uint32_t *server, uint32_t *client)
{
    uint32_t rcaps[2];
    EndpointFactory_create_Results_r r;
    capnpc_call_caps(c, 0, 0, rcaps, 2);
    int rc = EndpointFactory_create_call(&capos_transport, factory, c, interface_id, &r);
    if (rc != CAPNPC_OK)
        return rc;
    /* The indices come from the answer: checked, not masked. */
    uint32_t s = EndpointFactory_create_Results_get_server(r);
    uint32_t k = EndpointFactory_create_Results_get_client(r);
    if (s >= c->reply.ncaps || k >= c->reply.ncaps || s == k)
        return CAPNPC_E_BAD_RESULTS;
    *server = rcaps[s];
    *client = rcaps[k];
    return CAPNPC_OK;
}

uint32_t capos_capset_need(const char *who, const char *name, uint64_t interface_id)
{
    const char *why = "no such capability in the CapSet";
    uint32_t cap = capos_capset_find(name, interface_id, &why);
    if (!cap) {
        capos_printf("%s: needs \"%s\" in its CapSet: %s; cannot start\n", who, name, why);
        capos_exit(1);
    }
    return cap;
}
