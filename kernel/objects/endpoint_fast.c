/*
 * Endpoints' fast path (docs/ipc.md, "Fast path"): the two shapes of
 * nearly every round trip, done without the general ring consumer, the
 * run queue or a second copy: a CALL that meets a waiting RECV, and a
 * RETURN_RECV that answers the call just received.
 * Each does exactly what the general path does for that SQE (CALL, then
 * deliver; RETURN, then RECV), but only where nothing can fail once it
 * starts changing things: every condition that the general path would
 * handle some other way (capabilities to move, buffers too small or
 * across pages, a queue, a thread that is not simply waiting for this
 * completion) declines, having changed nothing, and the general path
 * runs the SQE.
 */
#include "objects/endpoint_impl.h"

#include <capos/errors.h>

#include "hotpath.h"
#include "string.h"
#include "thread.h"
#include "usercopy.h"

/* A CALL whose message (header, records, params) fits within one page the
 * waiting RECV's server may write, and within that RECV's buffer, when the
 * server's thread waits in cap_enter for it: the message is written
 * straight into the RECV's buffer (one copy of the params, no staging in
 * the message block), and that thread runs next. Capabilities are taken
 * and given as deliver() does, in the same order; if either fails, what
 * was taken is rolled back and the general path runs the CALL (and fails
 * it the same way). Like the general path's direct placement (DIRECT_MIN),
 * a CALL that fails after writing part of the buffer (its params fault,
 * its capabilities do not go) leaves those bytes there: a RECV's buffer
 * holds nothing until its completion says so. A waiting RECV means an
 * empty queue and an open endpoint: closing it completes every RECV and
 * frees the spare. */
FAST_PATH struct thread *endpoint_fast_call(struct kobject *obj, struct process *p,
                                            const struct capos_sqe *sqe)
{
    struct endpoint *ep = endpoint_of(obj);
    struct recv_wait *r = ep->recvs;
    struct ipc_msg *m = ep->spare_msg;
    struct ipc_state *ipc = ipc_of(p);
    uint32_t params_at = sizeof(struct capos_recv_header) +
                         sqe->xfer_count * (uint32_t)sizeof(struct capos_cap_record);
    uint32_t need = params_at + sqe->params_len;
    if (!r || !m || need > r->token.result_len || ipc->outstanding >= PROCESS_MAX_OUTSTANDING)
        return 0;
    struct thread *server = r->token.thread;
    if (server == thread_current() || !thread_waits_for_one(server))
        return 0;
    uint8_t *dst = user_span_writable(r->token.caller, r->token.result_addr, need);
    if (!dst)
        return 0;
    /* The spare is free: writing it changes nothing until it is taken. */
    msg_init(m, true, true);
    if (copy_from_user(p, dst + params_at, sqe->params_addr, sqe->params_len) ||
        xfer_take(p, sqe, sqe->cap, CAPF_OWNER, &m->caps))
        return 0;
    struct capos_cap_record *rec =
        (struct capos_cap_record *)(dst + sizeof(struct capos_recv_header));
    if (xfer_give(r->token.caller, &m->caps, rec)) {
        xfer_settle(p, &m->caps, false);
        return 0;
    }
    /* Nothing fails from here on. */
    ep->spare_msg = 0;
    msg_start(ep, m, p, ipc, sqe, params_at);
    msg_header(m, dst);
    recv_unlink(ep, 0, r);
    struct capos_cqe rcqe = {0};
    msg_delivered(ep, m, &rcqe, need);
    server = pending_call_post_quiet(&r->token, &rcqe);
    endpoint_recv_free(ep, r);
    return server;
}

/* A RETURN_RECV answering the newest call in flight, its results and their
 * records within one writable page of the caller's buffer, when the
 * caller's thread waits in cap_enter for the answer and no call is queued
 * (the RECV part then waits, in the spare record, as a RECV with nothing
 * queued does): the results go straight into the caller's buffer, and the
 * caller runs next. Capabilities go as in endpoint_return(); if taking or
 * giving them fails (or the results fault), the general path runs the
 * entry, and the bytes already written stay, as for a failed RETURN whose
 * call stays in flight. */
FAST_PATH struct thread *endpoint_fast_return_recv(struct kobject *owner, struct process *p,
                                                   const struct capos_sqe *sqe)
{
    struct endpoint *ep = endpoint_of(owner);
    struct ipc_msg *m = ep->inflight;
    struct recv_wait *r = ep->spare_recv;
    uint32_t len = sqe->params_len;
    uint32_t records_at = CAPOS_CAP_RECORDS_OFFSET(len);
    uint32_t need = sqe->xfer_count
                        ? records_at + sqe->xfer_count * (uint32_t)sizeof(struct capos_cap_record)
                        : len;
    if (!m || m->call_id != sqe->call_id || !r || ep->queue ||
        (sqe->flags & CAPOS_SQE_F_CLIENTS_GONE) || !m->token.caller || need > m->token.result_len)
        return 0;
    struct thread *caller = m->token.thread;
    if (caller == thread_current() || !thread_waits_for_one(caller))
        return 0;
    struct process *to = m->token.caller;
    uint8_t *dst = user_span_writable(to, m->token.result_addr, need);
    struct xfer_set caps;
    if (!dst || copy_from_user(p, dst, sqe->params_addr, len) || xfer_take(p, sqe, 0, 0, &caps))
        return 0;
    struct capos_cap_record *rec = (struct capos_cap_record *)(dst + records_at);
    if (xfer_give(to, &caps, rec)) {
        xfer_settle(p, &caps, false);
        return 0;
    }
    /* Nothing fails from here on. */
    if (caps.n && records_at != len) /* a call only for padding */
        memset(dst + len, 0, records_at - len);
    uint16_t ncaps = (uint16_t)caps.n;
    xfer_settle(p, &caps, true); /* the server's moves happen: the caller has them */
    ep->inflight = m->next;
    ipc_of(to)->outstanding--;
    bool ex = sqe->flags & CAPOS_SQE_F_EXCEPTION;
    struct capos_cqe ccqe = {.result = ex ? CAPOS_RESULT_EXCEPTION : 0,
                             .flags = ex ? CAPOS_CQE_F_EXCEPTION : 0,
                             .result_len = len,
                             .cap_count = ncaps};
    caller = pending_call_post_quiet(&m->token, &ccqe);
    endpoint_msg_free(ep, m, false);
    ep->spare_recv = 0;
    endpoint_recv_start(ep, r, p, sqe, false);
    return caller;
}
