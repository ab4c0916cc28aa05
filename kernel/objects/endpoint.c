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
#include "objects/endpoint.h"

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

struct ipc_msg {
    struct pending_call token; /* first: the caller's deferred CQE and result buffer */
    struct endpoint *ep;
    bool inflight; /* received (on ep->inflight), else waiting in ep->queue */
    uint32_t call_id;
    uint16_t method;
    uint64_t interface_id;
    uint8_t session[16];
    uint32_t params_len;
    uint32_t params_at; /* where the params start in wire[] (and in the RECV) */
    /* The message as the RECV will see it: header, capability records,
     * params. The params are copied in at CALL time; the rest is filled at
     * delivery, and the whole goes out in one copy. */
    uint8_t *wire;
    struct xfer_set caps; /* taken from the caller; moves reserved there */
    struct ipc_msg *next;
    bool small; /* a SMALL_MSG_BLOCK block, reusable as the endpoint's spare */
    /* The params went straight into the waiting RECV's buffer (wire[]
     * holds the header and records only). */
    bool params_placed;
};

/* A RECV waiting for a message. */
struct recv_wait {
    struct pending_call token; /* first: the abandon hook gets this pointer */
    struct endpoint *ep;
    struct recv_wait *next;
    bool clients_gone; /* CAPOS_SQE_F_CLIENTS_GONE: takes that notification */
};

struct endpoint {
    struct kobject obj; /* the client facet */
    bool open;          /* false once the last owner capability is gone */
    uint64_t id;        /* for session references */
    struct ipc_msg *queue, *queue_tail;
    uint32_t queued;
    struct ipc_msg *inflight; /* received, waiting for RETURN */
    struct recv_wait *recvs, *recvs_tail;
    /* Every client reference went while no RECV waited for the
     * notification: the next one that asks gets it (after the queue). */
    bool clients_gone;
    uint32_t next_call_id;
    /* Pays for the endpoint, both sides, and the spares: the process that
     * made it. Each message and RECV beyond the spares is paid by the
     * process that makes it. */
    struct account *account;
    /* One of each made with the endpoint and kept for reuse: a steady
     * stream of calls then allocates nothing (the heap would work for
     * every message otherwise). Only these two are ever kept, so a caller
     * never leaves the endpoint holding its memory. spare_* is own_* while
     * it is free, NULL while in use. */
    struct recv_wait *own_recv, *spare_recv;
    struct ipc_msg *own_msg, *spare_msg; /* a SMALL_MSG_BLOCK block */
};

/* Messages whose block fits this many bytes share one size, so that a
 * block can be reused for any of them: the heap's 1 KiB slab class, less
 * its block header. */
#define SMALL_MSG_CLASS 1024u
_Static_assert(HEAP_IS_SLAB_CLASS(SMALL_MSG_CLASS), "small messages use one heap slab class");
#define SMALL_MSG_BLOCK (SMALL_MSG_CLASS - HEAP_BLOCK_HEADER)
/* Params from this size on go straight into a waiting RECV's buffer. */
#define DIRECT_MIN 1024
/* A message block: the struct, then its wire image (8-aligned). */
#define MSG_HEAD ((sizeof(struct ipc_msg) + 7) & ~(size_t)7)

struct endpoint_owner {
    struct kobject obj;
    struct endpoint *ep;
};

static const struct kobject_type endpoint_type, owner_type;
static uint8_t session_key[SIPHASH_KEY_SIZE];
static bool session_key_ready;
static uint64_t next_endpoint_id = 1;

#define SESSION_EPOCH 1 /* bumped when references must all change (reboot) */

/* What IPC keeps per process (this class's per-process state). */
struct ipc_state {
    uint32_t outstanding; /* CALLs in flight (PROCESS_MAX_OUTSTANDING) */
    uint64_t session_id;  /* random, made on first use; keys session references */
    /* The reference for the endpoint called last (ids are never reused),
     * so a client calling one server again skips the keyed hash. */
    uint64_t ref_ep;
    uint8_t ref[16];
};

static uint32_t ipc_state_offset;

static inline struct ipc_state *ipc_of(struct process *p)
{
    return process_object_state(p, ipc_state_offset);
}

bool endpoint_is_owner(const struct kobject *obj)
{
    return obj->type == &owner_type;
}

static struct endpoint *endpoint_of(struct kobject *obj)
{
    return obj->type == &owner_type ? ((struct endpoint_owner *)obj)->ep : (struct endpoint *)obj;
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

static void free_msg(struct endpoint *ep, struct ipc_msg *m, bool commit_moves)
{
    xfer_settle(m->token.caller, &m->caps, commit_moves);
    if (m == ep->own_msg && ep->open)
        ep->spare_msg = m;
    else
        kfree(m); /* wire[] is part of the same block */
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

static void recv_wait_free(struct endpoint *ep, struct recv_wait *r)
{
    if (r == ep->own_recv && ep->open)
        ep->spare_recv = r;
    else
        kfree(r);
}

/* ---- Ending early: the caller exits, or cancels ---- */

/* A CALL ended early. Queued, it leaves the queue and gives back what it
 * was moving; in flight, its RETURN will find the caller gone and discard
 * the answer (pending_call.h). Either way it no longer counts against its
 * caller's calls in flight. */
static void call_abandon(struct pending_call *pc, struct process *caller)
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
        free_msg(ep, m, false);
        return;
    }
}

/* Take r, which follows prev (NULL: r is first), off the waiting RECVs. */
static void recv_unlink(struct endpoint *ep, struct recv_wait *prev, struct recv_wait *r)
{
    if (prev)
        prev->next = r->next;
    else
        ep->recvs = r->next;
    if (ep->recvs_tail == r)
        ep->recvs_tail = prev;
}

/* A RECV ended early: it leaves the endpoint's waiting RECVs. */
static void recv_abandon(struct pending_call *pc, struct process *caller)
{
    struct recv_wait *r = (struct recv_wait *)pc;
    struct endpoint *ep = r->ep;
    struct recv_wait *prev = 0;
    for (struct recv_wait *q = ep->recvs; q; prev = q, q = q->next) {
        if (q != r)
            continue;
        recv_unlink(ep, prev, r);
        recv_wait_free(ep, r);
        return;
    }
}

/* ---- CALL ---- */

/* The keyed hash, when the client calls another endpoint than last time
 * (and the key, the first time). */
__attribute__((noinline)) static void session_ref_compute(struct endpoint *ep, struct ipc_state *st)
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

/* Endpoint ids start at 1, and ref_ep starts at 0: the first call always
 * computes. */
__attribute__((always_inline)) static inline void make_session_ref(struct endpoint *ep,
                                                                  struct ipc_state *st,
                                                                  uint8_t out[16])
{
    if (__builtin_expect(st->ref_ep != ep->id, 0))
        session_ref_compute(ep, st);
    __builtin_memcpy(out, st->ref, 16); /* inline: the kernel's memcpy is a call */
}

static bool deliver(struct endpoint *ep, struct ipc_msg *m, struct pending_call *recv,
                    struct capos_cqe *cqe);

/* A message block's fields before the params go in. Field by field, not a
 * memset of the whole block: the transfer set's arrays are read only up to
 * its counts. */
/* Inlined, like msg_start, msg_header and msg_delivered: shared by the
 * general and the fast path, and each path pays for a call otherwise. */
__attribute__((always_inline)) static inline void msg_init(struct ipc_msg *m, bool small,
                                                           bool params_placed)
{
    m->inflight = false;
    m->next = 0;
    xfer_init(&m->caps);
    m->small = small;
    m->params_placed = params_placed;
    m->wire = (uint8_t *)m + MSG_HEAD;
}

/* The rest of a CALL's message, its params (and capabilities) taken:
 * from here on it is p's call in flight, its CQE deferred. */
__attribute__((always_inline)) static inline void msg_start(struct endpoint *ep, struct ipc_msg *m,
                                                            struct process *p,
                                                            struct ipc_state *ipc,
                                                            const struct capos_sqe *sqe,
                                                            uint32_t params_at)
{
    m->params_at = params_at;
    m->params_len = sqe->params_len;
    m->method = sqe->method;
    m->interface_id = sqe->interface_id;
    make_session_ref(ep, ipc, m->session);
    if (++ep->next_call_id == 0)
        ep->next_call_id = 1; /* 0 is never a call id */
    m->call_id = ep->next_call_id;
    m->ep = ep;
    m->token.abandon = call_abandon;
    pending_call_start(&m->token, p, sqe);
    ipc->outstanding++;
}

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
        kfree(m);
        cqe->result = rc;
        return RING_POST;
    }
    msg_start(ep, m, p, ipc, sqe, params_at);

    if (!ep->open) {
        fail_caller(m, CapException_Type_disconnected, "the endpoint's server is gone");
        free_msg(ep, m, false);
        return RING_DEFER;
    }
    /* A RECV already waiting takes it now, and its server runs next. */
    while (ep->recvs) {
        struct recv_wait *r = ep->recvs;
        recv_unlink(ep, 0, r);
        struct capos_cqe rcqe = {0};
        bool taken = deliver(ep, m, &r->token, &rcqe);
        pending_call_post_handoff(&r->token, &rcqe); /* the server runs next */
        recv_wait_free(ep, r);
        if (taken)
            return RING_DEFER;
        if (m->params_placed) {
            /* Its params are in that RECV's buffer only: no other RECV or
             * queue may have it. (Checked not to happen: the RECV's buffer
             * was found whole and writable, and the call has no
             * capabilities; fail closed all the same.) */
            fail_caller(m, CapException_Type_failed, "the server's buffer failed delivery");
            free_msg(ep, m, false);
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

/* m's RECV header, at `to` (the start of its wire image, or of the RECV's
 * buffer itself). */
__attribute__((always_inline)) static inline void msg_header(struct ipc_msg *m, void *to)
{
    struct capos_recv_header h = {
        .call_id = m->call_id,
        .method = m->method,
        .cap_count = (uint16_t)m->caps.n,
        .interface_id = m->interface_id,
        .session_epoch = SESSION_EPOCH,
        .params_len = m->params_len,
        .params_offset = m->params_at,
    };
    /* Built-in copies of known size, inlined (the kernel is built with
     * -fno-builtin, so memcpy itself would be a call). */
    __builtin_memcpy(h.session, m->session, sizeof(h.session));
    __builtin_memcpy(to, &h, sizeof(h));
}

/* m is in a RECV's buffer (need bytes): the caller's moves happen now, m
 * waits in flight for its RETURN, and the RECV's CQE says what came. */
__attribute__((always_inline)) static inline void msg_delivered(struct endpoint *ep,
                                                                struct ipc_msg *m,
                                                                struct capos_cqe *cqe, uint32_t need)
{
    cqe->cap_count = (uint16_t)m->caps.n; /* before settling, which empties the set */
    xfer_settle(m->token.caller, &m->caps, true);
    m->next = ep->inflight;
    ep->inflight = m;
    m->inflight = true;
    cqe->result = 0;
    cqe->call_id = m->call_id;
    cqe->result_len = need;
}

/*
 * Write message m into the RECV of `recv` (header, capability records,
 * params) and move it in flight. Fills *cqe for the RECV. Returns true if
 * the message was taken; false if it stays where it is (the RECV failed:
 * buffer too small or bad) or was dropped (the receiver has no room for
 * its capabilities: the caller is told). Both sides are alive: a queued
 * message and a waiting RECV leave their queues when their process exits
 * or cancels them (call_abandon, recv_abandon).
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
        free_msg(ep, m, false);
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
static void recv_wait_start(struct endpoint *ep, struct recv_wait *r, struct process *p,
                            const struct capos_sqe *sqe, bool wants_gone)
{
    r->ep = ep;
    r->clients_gone = wants_gone;
    r->token.abandon = recv_abandon;
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
    recv_wait_start(ep, r, p, sqe, wants_gone);
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
        free_msg(ep, m, false);
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
    free_msg(ep, m, false);
    cqe->result = delivered ? 0 : ccqe.result;
    return RING_POST;
}

/* ---- The fast path (docs/ipc.md, "Fast path") ----
 *
 * The two shapes of nearly every round trip, done without the general
 * ring consumer, the run queue or a second copy: a CALL that meets a
 * waiting RECV, and a RETURN_RECV that answers the call just received.
 * Each does exactly what the general path does for that SQE (CALL, then
 * deliver; RETURN, then RECV), but only where nothing can fail once it
 * starts changing things: every condition that the general path would
 * handle some other way (capabilities to move, buffers too small or
 * across pages, a queue, a thread that is not simply waiting for this
 * completion) declines, having changed nothing, and the general path
 * runs the SQE.
 */

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
static struct thread *endpoint_fast_call(struct kobject *obj, struct process *p,
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
    recv_wait_free(ep, r);
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
static struct thread *endpoint_fast_return_recv(struct kobject *owner, struct process *p,
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
    free_msg(ep, m, false);
    ep->spare_recv = 0;
    recv_wait_start(ep, r, p, sqe, false);
    return caller;
}

/* ---- Lifetime ---- */

static void close_endpoint(struct endpoint *ep)
{
    ep->open = false;
    while (ep->queue) {
        struct ipc_msg *m = ep->queue;
        ep->queue = m->next;
        fail_caller(m, CapException_Type_disconnected, "the endpoint's server is gone");
        free_msg(ep, m, false);
    }
    ep->queue_tail = 0;
    ep->queued = 0;
    while (ep->inflight) {
        struct ipc_msg *m = ep->inflight;
        ep->inflight = m->next;
        fail_caller(m, CapException_Type_disconnected, "the server went away during the call");
        free_msg(ep, m, false);
    }
    while (ep->recvs) {
        struct recv_wait *r = ep->recvs;
        ep->recvs = r->next;
        pending_call_complete(&r->token, CAPOS_E_DISCONNECTED);
        kfree(r);
    }
    ep->recvs_tail = 0;
    /* Closed for good: nothing more is queued, so nothing is kept. */
    kfree(ep->spare_recv);
    kfree(ep->spare_msg);
    ep->spare_recv = 0;
    ep->spare_msg = 0;
}

static void owner_destroy(struct kobject *obj)
{
    struct endpoint_owner *o = (struct endpoint_owner *)obj;
    close_endpoint(o->ep);
    kobject_unref(&o->ep->obj);
    kfree(o);
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
        recv_wait_free(ep, r);
        return;
    }
    ep->clients_gone = true;
}

static void endpoint_destroy(struct kobject *obj)
{
    kfree(obj); /* closed already: the owner held a reference until then */
}

static const struct kobject_type endpoint_type = {
    .name = "Endpoint",
    .ring_call = endpoint_call,
    .fast_call = endpoint_fast_call,
    .destroy = endpoint_destroy,
    .unshared = endpoint_unshared,
};

static const struct kobject_type owner_type = {
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
    struct endpoint *ep = kzalloc_in(a, sizeof(*ep));
    struct endpoint_owner *o = kzalloc_in(a, sizeof(*o));
    struct ipc_msg *m = kmalloc_in(a, SMALL_MSG_BLOCK);
    struct recv_wait *r = kmalloc_in(a, sizeof(*r));
    if (!ep || !o || !m || !r) {
        kfree(ep);
        kfree(o);
        kfree(m);
        kfree(r);
        return false;
    }
    ep->account = a;
    ep->own_msg = ep->spare_msg = m;
    ep->own_recv = ep->spare_recv = r;
    kobject_init(&ep->obj, &endpoint_type);
    ep->open = true;
    ep->id = next_endpoint_id++;
    kobject_init(&o->obj, &owner_type);
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
    .process_state_offset = &ipc_state_offset,
};
