/*
 * Endpoints: synchronous calls between processes over the rings
 * (docs/ipc.md).
 *
 * An endpoint has two kinds of capability: the owner side (struct
 * endpoint_owner), which may RECV and RETURN, and client facets (the
 * endpoint object itself), which may only CALL. A CALL becomes a message:
 * its params and capabilities are taken into the kernel at once, the
 * caller's CQE is deferred, and the message waits in the endpoint's queue
 * until a RECV takes it (or goes straight to a RECV already waiting, and
 * the server runs next). RETURN delivers the results into the caller's
 * result buffer and posts its CQE. When the last owner capability goes, the
 * endpoint closes and every caller still waiting gets a `disconnected`
 * CapException. When the last client reference goes (the owner's own
 * reference to the client facet is then the only one), a RECV that asked
 * for it completes with CAPOS_CQE_F_CLIENTS_GONE (docs/ipc.md, "Clients
 * gone"): that is how a server learns that a capability was released.
 */
#include "hotpath.h"
#include "objects/endpoint_impl.h"

#include <capos/errors.h>

#include "account.h"
#include "crypto/siphash.h"
#include "entropy.h"
#include "heap.h"
#include "kcall.h"
#include "kcore/ring.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"
#include "sched.h"
#include "string.h"
#include "thread.h"
#include "usercopy.h"
#include "xfer.h"

static const struct kobject_type endpoint_type;
static uint8_t session_key[SIPHASH_KEY_SIZE];
static bool session_key_ready;
static uint64_t next_endpoint_id = 1;

HOT_DATA uint32_t endpoint_ipc_state_offset;

bool endpoint_is_owner(const struct kobject *obj)
{
    return obj->type == &endpoint_owner_type;
}

struct kobject *endpoint_client_of(struct kobject *owner)
{
    return &endpoint_of(owner)->obj;
}

/* ---- Completing a caller ---- */

/* Post the caller's CQE with a CapException in its result buffer. The
 * call failed, so what it tried to move is the caller's again: that is
 * settled first, while the token still names the caller (posting it
 * clears that). */
static void fail_caller(struct ipc_msg *m, enum CapException_Type type, const char *why)
{
    struct pending_call *t = &m->token;
    xfer_settle(t->caller, &m->caps, false);
    if (!t->caller)
        return;
    uint32_t len = 0;
    struct capos_cqe cqe = {.result = CAPOS_RESULT_EXCEPTION, .flags = CAPOS_CQE_F_EXCEPTION};
    if (kcall_write_exception(t->caller, t->result_addr, t->result_len, type, why, &len) != 0) {
        /* No room for the exception: the bare transport error says it. */
        cqe.result = CAPOS_E_DISCONNECTED;
        cqe.flags = 0;
    }
    cqe.result_len = len;
    ipc_of(t->caller)->outstanding--;
    pending_call_post(t, &cqe);
}

/* endpoint_msg_free, endpoint_recv_free and endpoint_recv_start are
 * inlined (at link time) into the fast path too, which calls each once per
 * round trip: the call cost as much as the step. */
inline __attribute__((always_inline)) void endpoint_msg_free(struct endpoint *ep, struct ipc_msg *m,
                                                             bool commit_moves)
{
    xfer_settle(m->token.caller, &m->caps, commit_moves);
    msg_block_free(ep, m);
}

static struct recv_wait *recv_wait_new(struct endpoint *ep, struct process *p)
{
    struct recv_wait *r = ep->spare_recv;
    if (!r)
        return kzalloc_in(p->account, sizeof(*r));
    /* Not cleared: endpoint_recv sets every field (pending_call_start all
     * of the token's but abandon). */
    ep->spare_recv = 0;
    return r;
}

inline __attribute__((always_inline)) void endpoint_recv_free(struct endpoint *ep,
                                                              struct recv_wait *r)
{
    if (r != ep->own_recv)
        kfree(r);
    else if (ep->open)
        ep->spare_recv = r; /* closed: it goes with the endpoint's block */
}

/* ---- Ending early: the caller exits, or cancels ---- */

/* A CALL ended early. Queued, it leaves the queue and gives back what it
 * was moving; in flight, its RETURN will find the caller gone and discard
 * the answer (pending_call.h). Either way it no longer counts against its
 * caller's calls in flight. */
void endpoint_call_abandon(struct pending_call *pc, struct process *caller)
{
    struct ipc_msg *m = (struct ipc_msg *)pc;
    struct endpoint *ep = m->ep;
    ipc_of(caller)->outstanding--;
    if (m->inflight)
        return;
    struct ipc_msg *prev = 0;
    for (struct ipc_msg *q = ep->queue; q; prev = q, q = q->next) {
        if (q != m)
            continue;
        if (prev)
            prev->next = m->next;
        else
            ep->queue = m->next;
        if (ep->queue_tail == m)
            ep->queue_tail = prev;
        ep->queued--;
        xfer_settle(caller, &m->caps, false);
        endpoint_msg_free(ep, m, false);
        return;
    }
}

/* A RECV ended early: it leaves the endpoint's waiting RECVs. */
void endpoint_recv_abandon(struct pending_call *pc, struct process *caller)
{
    struct recv_wait *r = (struct recv_wait *)pc;
    struct endpoint *ep = r->ep;
    struct recv_wait *prev = 0;
    for (struct recv_wait *q = ep->recvs; q; prev = q, q = q->next) {
        if (q != r)
            continue;
        recv_unlink(ep, prev, r);
        endpoint_recv_free(ep, r);
        return;
    }
}

/* ---- CALL ---- */

/* The keyed hash, when the client calls another endpoint than last time
 * (and the key, the first time). */
__attribute__((noinline)) void endpoint_session_ref_compute(struct endpoint *ep,
                                                            struct ipc_state *st)
{
    if (!session_key_ready) {
        entropy_fill(session_key, sizeof(session_key));
        session_key_ready = true;
    }
    while (!st->session_id)
        entropy_fill(&st->session_id, sizeof(st->session_id));
    uint64_t in[2] = {ep->id, st->session_id};
    siphash24_128(session_key, in, sizeof(in), st->ref);
    st->ref_ep = ep->id;
}

static bool deliver(struct endpoint *ep, struct ipc_msg *m, struct pending_call *recv,
                    struct capos_cqe *cqe);

static int endpoint_call(struct kobject *obj, struct process *p, const struct cap_entry *e,
                         const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct endpoint *ep = endpoint_of(obj);
    /* A message no RECV could ever hold would sit at the head of the
     * queue and fail every RECV after it: refuse it here. The header and
     * the records are multiples of 8 bytes, so the params that follow are
     * 8-aligned with no padding. */
    _Static_assert(sizeof(struct capos_recv_header) % 8 == 0 &&
                       sizeof(struct capos_cap_record) % 8 == 0,
                   "params follow the records without padding");
    uint64_t recv_need = sizeof(struct capos_recv_header) +
                         (uint64_t)sqe->xfer_count * sizeof(struct capos_cap_record) +
                         sqe->params_len;
    if (recv_need > CAPOS_MAX_RESULT_LEN) {
        cqe->result = CAPOS_E_TOO_LARGE;
        return RING_POST;
    }
    /* Found once: the state's offset is a global the compiler must reload
     * after every call it cannot see through. */
    struct ipc_state *ipc = ipc_of(p);
    if (ipc->outstanding >= PROCESS_MAX_OUTSTANDING || ep->queued >= ENDPOINT_MAX_QUEUED) {
        cqe->result = CAPOS_E_NO_SPACE;
        return RING_POST;
    }
    uint32_t params_at = (uint32_t)(recv_need - sqe->params_len);
    /* Straight into a waiting RECV's buffer: the params are copied once
     * (caller to server) instead of twice (in, then out of the message).
     * Only for a call without capabilities, whose delivery then cannot
     * fail, and whose whole image fits the RECV's buffer, every page of it
     * writable: so nothing can go wrong after the params are in place.
     * Below DIRECT_MIN bytes the second copy costs less than the checks. */
    struct recv_wait *direct = 0;
    if (sqe->params_len >= DIRECT_MIN && sqe->xfer_count == 0 && ep->open && ep->recvs &&
        recv_need <= ep->recvs->token.result_len &&
        user_writable_range(ep->recvs->token.caller, ep->recvs->token.result_addr, recv_need))
        direct = ep->recvs;
    size_t size = MSG_HEAD + params_at + (direct ? 0 : sqe->params_len);
    bool small = size <= SMALL_MSG_BLOCK;
    struct ipc_msg *m = small && ep->spare_msg
                            ? ep->spare_msg
                            : kmalloc_in(p->account, small ? SMALL_MSG_BLOCK : size);
    if (!m) {
        cqe->result = CAPOS_E_NO_MEMORY;
        return RING_POST;
    }
    if (m == ep->spare_msg)
        ep->spare_msg = 0;
    msg_init(m, small, direct != 0);
    int rc = direct ? copy_user_across(direct->token.caller, direct->token.result_addr + params_at,
                                       sqe->params_addr, sqe->params_len)
                    : copy_from_user(p, m->wire + params_at, sqe->params_addr, sqe->params_len);
    /* A queued message holding an owner side would keep that endpoint
     * open (its owner count never reaches 0) while nobody may ever RECV
     * it: an endpoint kept alive by its own queue, or a chain of them.
     * Owner sides (CAPF_OWNER) travel by RETURN (answered at once, never
     * queued) or by spawn grants, never in a CALL. */
    if (rc == 0)
        rc = xfer_take(p, sqe, sqe->cap, CAPF_OWNER, &m->caps);
    if (rc) {
        xfer_settle(p, &m->caps, false);
        msg_block_free(ep, m);
        cqe->result = rc;
        return RING_POST;
    }
    msg_start(ep, m, p, ipc, sqe, params_at);

    if (!ep->open) {
        fail_caller(m, CapException_Type_disconnected, "the endpoint's server is gone");
        endpoint_msg_free(ep, m, false);
        return RING_DEFER;
    }
    /* A RECV already waiting takes it now, and its server runs next. */
    while (ep->recvs) {
        struct recv_wait *r = ep->recvs;
        recv_unlink(ep, 0, r);
        struct capos_cqe rcqe = {0};
        bool taken = deliver(ep, m, &r->token, &rcqe);
        pending_call_post_handoff(&r->token, &rcqe); /* the server runs next */
        endpoint_recv_free(ep, r);
        if (taken)
            return RING_DEFER;
        if (m->params_placed) {
            /* Its params are in that RECV's buffer only: no other RECV or
             * queue may have it. (Checked not to happen: the RECV's buffer
             * was found whole and writable, and the call has no
             * capabilities; fail closed all the same.) */
            fail_caller(m, CapException_Type_failed, "the server's buffer failed delivery");
            endpoint_msg_free(ep, m, false);
            return RING_DEFER;
        }
    }
    m->next = 0;
    if (ep->queue_tail)
        ep->queue_tail->next = m;
    else
        ep->queue = m;
    ep->queue_tail = m;
    ep->queued++;
    return RING_DEFER;
}

/* ---- RECV ---- */

/*
 * Write message m into the RECV of `recv` (header, capability records,
 * params) and move it in flight. Fills *cqe for the RECV. Returns true if
 * the message was taken; false if it stays where it is (the RECV failed:
 * buffer too small or bad) or was dropped (the receiver has no room for
 * its capabilities: the caller is told). Both sides are alive: a queued
 * message and a waiting RECV leave their queues when their process exits
 * or cancels them (endpoint_call_abandon, endpoint_recv_abandon).
 */
static bool deliver(struct endpoint *ep, struct ipc_msg *m, struct pending_call *recv,
                    struct capos_cqe *cqe)
{
    struct process *server = recv->caller;
    /* xfer_take took every descriptor or failed: caps.n is the CALL's
     * xfer_count, which params_at was laid out for. */
    uint32_t records = sizeof(struct capos_recv_header);
    uint32_t params_at = m->params_at;
    uint64_t need = (uint64_t)params_at + m->params_len;
    if (need > recv->result_len) {
        cqe->result = CAPOS_E_RESULT_TOO_SMALL;
        return false;
    }
    struct capos_cap_record *rec = (struct capos_cap_record *)(m->wire + records);
    if (xfer_give(server, &m->caps, rec) != 0) {
        fail_caller(m, CapException_Type_overloaded,
                    "the server has no room in its capability table for the call's capabilities");
        endpoint_msg_free(ep, m, false);
        cqe->result = CAPOS_E_NO_SPACE;
        return true;
    }
    msg_header(m, m->wire);
    /* Params placed at CALL time: only the header and records go out. */
    int rc = copy_to_user(server, recv->result_addr, m->wire, m->params_placed ? params_at : need);
    if (rc) {
        xfer_ungive(server, &m->caps, rec);
        cqe->result = rc;
        return false;
    }
    msg_delivered(ep, m, cqe, (uint32_t)need);
    return true;
}

/* p's RECV waits in r, at the back of the endpoint's waiting RECVs. */
inline __attribute__((always_inline)) void
endpoint_recv_start(struct endpoint *ep, struct recv_wait *r, struct process *p,
                    const struct capos_sqe *sqe, bool wants_gone)
{
    r->ep = ep;
    r->clients_gone = wants_gone;
    r->token.abandon = endpoint_recv_abandon;
    pending_call_start(&r->token, p, sqe);
    r->next = 0;
    if (ep->recvs_tail)
        ep->recvs_tail->next = r;
    else
        ep->recvs = r;
    ep->recvs_tail = r;
}

/* RECV on an owner capability (kobject_type.recv). */
static int endpoint_recv(struct kobject *owner, struct process *p, const struct cap_entry *e,
                         const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct endpoint *ep = endpoint_of(owner);
    bool wants_gone = sqe->flags & CAPOS_SQE_F_CLIENTS_GONE;
    /* The calls that clients made before they went come first. A client
     * made since (only the owner can make one: a wrapper of its owner
     * side) withdraws the notification. */
    if (wants_gone && ep->clients_gone && !ep->queue) {
        ep->clients_gone = false;
        if (ep->obj.refs == 1) {
            cqe->result = 0;
            cqe->flags = CAPOS_CQE_F_CLIENTS_GONE;
            return RING_POST;
        }
    }
    if (ep->queue) {
        struct pending_call t = {.caller = p,
                                 .thread = thread_current(),
                                 .user_data = sqe->user_data,
                                 .result_addr = sqe->result_addr,
                                 .result_len = sqe->result_len};
        struct ipc_msg *m = ep->queue;
        ep->queue = m->next;
        if (!ep->queue)
            ep->queue_tail = 0;
        ep->queued--;
        if (!deliver(ep, m, &t, cqe)) {
            /* Not taken: it goes back to the front of the queue. */
            m->next = ep->queue;
            ep->queue = m;
            if (!ep->queue_tail)
                ep->queue_tail = m;
            ep->queued++;
        }
        return RING_POST;
    }
    struct recv_wait *r = recv_wait_new(ep, p);
    if (!r) {
        cqe->result = CAPOS_E_NO_MEMORY;
        return RING_POST;
    }
    endpoint_recv_start(ep, r, p, sqe, wants_gone);
    return RING_DEFER;
}

/* ---- RETURN ---- */

/* RETURN on an owner capability (kobject_type.ret). */
static int endpoint_return(struct kobject *owner, struct process *p, const struct cap_entry *e,
                           const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct endpoint *ep = endpoint_of(owner);
    struct ipc_msg **pp = &ep->inflight;
    while (*pp && (*pp)->call_id != sqe->call_id)
        pp = &(*pp)->next;
    struct ipc_msg *m = *pp;
    if (!m) {
        cqe->result = CAPOS_E_BAD_CALL_ID;
        return RING_POST;
    }
    /* The results, then (8-aligned) their capability records: what the
     * caller's buffer gets, in one copy. */
    static uint8_t
        results[CAPOS_MAX_PARAMS_LEN + 8 + CAPOS_MAX_XFER * sizeof(struct capos_cap_record)]
        __attribute__((aligned(8)));
    struct xfer_set caps;
    int rc = copy_from_user(p, results, sqe->params_addr, sqe->params_len);
    if (rc == 0)
        rc = xfer_take(p, sqe, 0, 0, &caps);
    if (rc) {
        cqe->result = rc; /* the call stays in flight: the server may retry */
        return RING_POST;
    }
    *pp = m->next;
    struct pending_call *t = &m->token;
    struct process *caller = t->caller;
    if (!caller) {
        /* The client is gone: the answer is discarded, nothing is lost. */
        xfer_settle(p, &caps, false);
        endpoint_msg_free(ep, m, false);
        cqe->result = CAPOS_E_DISCONNECTED;
        return RING_POST;
    }
    struct capos_cqe ccqe = {0};
    uint32_t records_at = CAPOS_CAP_RECORDS_OFFSET(sqe->params_len);
    /* The records are written right after the results (8-aligned), and
     * only if there are any: results alone need only their own length. */
    struct capos_cap_record *rec = (struct capos_cap_record *)(results + records_at);
    uint64_t need = caps.n ? records_at + caps.n * sizeof(rec[0]) : sqe->params_len;
    if (need > t->result_len) {
        ccqe.result = CAPOS_E_RESULT_TOO_SMALL;
    } else if ((rc = xfer_give(caller, &caps, rec)) != 0) {
        ccqe.result = rc;
    } else {
        if (caps.n && records_at != sqe->params_len) /* a call only for padding */
            memset(results + sqe->params_len, 0, records_at - sqe->params_len);
        rc = copy_to_user(caller, t->result_addr, results, need);
        if (rc) {
            xfer_ungive(caller, &caps, rec);
            ccqe.result = rc;
        } else {
            bool ex = sqe->flags & CAPOS_SQE_F_EXCEPTION;
            ccqe.result = ex ? CAPOS_RESULT_EXCEPTION : 0;
            ccqe.flags = ex ? CAPOS_CQE_F_EXCEPTION : 0;
            ccqe.result_len = sqe->params_len;
            ccqe.cap_count = (uint16_t)caps.n;
        }
    }
    /* The server's moves happen only if the caller got them. */
    bool delivered = ccqe.result >= 0;
    xfer_settle(p, &caps, delivered);
    ipc_of(caller)->outstanding--;
    /* Direct handoff back: the caller, if that completion is what it
     * waits for, runs next on what is left of our slice, rather than
     * behind every runnable process (docs/scheduling.md). */
    pending_call_post_handoff(t, &ccqe);
    endpoint_msg_free(ep, m, false);
    cqe->result = delivered ? 0 : ccqe.result;
    return RING_POST;
}

/* ---- Lifetime ---- */

static void close_endpoint(struct endpoint *ep)
{
    ep->open = false;
    while (ep->queue) {
        struct ipc_msg *m = ep->queue;
        ep->queue = m->next;
        fail_caller(m, CapException_Type_disconnected, "the endpoint's server is gone");
        endpoint_msg_free(ep, m, false);
    }
    ep->queue_tail = 0;
    ep->queued = 0;
    while (ep->inflight) {
        struct ipc_msg *m = ep->inflight;
        ep->inflight = m->next;
        fail_caller(m, CapException_Type_disconnected, "the server went away during the call");
        endpoint_msg_free(ep, m, false);
    }
    while (ep->recvs) {
        struct recv_wait *r = ep->recvs;
        ep->recvs = r->next;
        pending_call_complete(&r->token, CAPOS_E_DISCONNECTED);
        endpoint_recv_free(ep, r);
    }
    ep->recvs_tail = 0;
    /* Closed for good: nothing more is queued, so nothing is kept (the
     * spares are part of the endpoint's block, freed with it). */
    ep->spare_recv = 0;
    ep->spare_msg = 0;
}

static void owner_destroy(struct kobject *obj)
{
    /* o is part of its endpoint's block (endpoint_create), which may go
     * with this last reference: o is not touched after it. */
    struct endpoint *ep = ((struct endpoint_owner *)obj)->ep;
    close_endpoint(ep);
    kobject_unref(&ep->obj);
}

/*
 * kobject_type.unshared of the client facet: one reference is left. While
 * the endpoint is open that is its owner's (endpoint_create), so no client
 * is left: no capability, wrapper or capability in transit. A RECV waiting
 * for this notification gets it now (one waiting means the queue is
 * empty); otherwise the next one that asks does.
 */
static void endpoint_unshared(struct kobject *obj)
{
    struct endpoint *ep = (struct endpoint *)obj;
    if (!ep->open)
        return; /* the owner's side is what is going */
    struct recv_wait *prev = 0;
    for (struct recv_wait *r = ep->recvs; r; prev = r, r = r->next) {
        if (!r->clients_gone)
            continue;
        recv_unlink(ep, prev, r);
        struct capos_cqe cqe = {.result = 0, .flags = CAPOS_CQE_F_CLIENTS_GONE};
        pending_call_post(&r->token, &cqe);
        endpoint_recv_free(ep, r);
        return;
    }
    ep->clients_gone = true;
}

static void endpoint_destroy(struct kobject *obj)
{
    /* Closed already (the owner held a reference until then): with it
     * went every message and RECV, so nothing uses the block's own ones
     * or its owner side. */
    kfree(obj);
}

static const struct kobject_type endpoint_type = {
    .name = "Endpoint",
    .ring_call = endpoint_call,
    .fast_call = endpoint_fast_call,
    .destroy = endpoint_destroy,
    .unshared = endpoint_unshared,
};

const struct kobject_type endpoint_owner_type = {
    .name = "Endpoint (owner)",
    .ring_call = endpoint_call,
    .recv = endpoint_recv,
    .ret = endpoint_return,
    .fast_call = endpoint_fast_call,
    .fast_return_recv = endpoint_fast_return_recv,
    .destroy = owner_destroy,
};

bool endpoint_create(struct account *a, struct kobject **owner, struct kobject **client)
{
    struct endpoint_block *b = kzalloc_in(a, sizeof(*b));
    if (!b)
        return false;
    struct endpoint *ep = &b->ep;
    struct endpoint_owner *o = &b->owner;
    ep->account = a;
    ep->own_msg = ep->spare_msg = (struct ipc_msg *)b->msg;
    ep->own_recv = ep->spare_recv = &b->recv;
    kobject_init(&ep->obj, &endpoint_type);
    ep->open = true;
    ep->id = next_endpoint_id++;
    kobject_init(&o->obj, &endpoint_owner_type);
    o->ep = (struct endpoint *)kobject_ref(&ep->obj);
    *owner = &o->obj;
    *client = &ep->obj;
    return true;
}

/* IPC's per-process state: calls in flight and the session key. */
const struct kobject_class endpoint_class = {
    .name = "Endpoint",
    .source = KOBJECT_NO_SOURCE,
    .process_state_size = sizeof(struct ipc_state),
    .process_state_offset = &endpoint_ipc_state_offset,
};
