/*
 * Endpoint internals shared by kernel/objects/endpoint.c (the objects,
 * CALL, RECV, RETURN, lifetime) and endpoint_fast.c (the fast path,
 * docs/ipc.md): the records, and the steps both paths take, inline so
 * that neither pays a call for them. Not for any other file: the rest of
 * the kernel uses objects/endpoint.h.
 */
#ifndef CAPOS_ENDPOINT_IMPL_H
#define CAPOS_ENDPOINT_IMPL_H

#include "heap.h"
#include "kobject.h"
#include "objects/endpoint.h"
#include "pending_call.h"
#include "process.h"
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
     * it is free, NULL while in use. Both are part of the endpoint's own
     * block (struct endpoint_block): never freed by themselves. */
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

/*
 * An endpoint, its owner side, its own RECV record and its own message
 * block, in one heap block of at most one page: a round trip touches all
 * four, and under TCG each page touched after a CR3 write is walked again,
 * under the kernel lock (docs/smp.md). The block is freed with the
 * endpoint (its last reference: the owner side holds one until it has
 * closed it, and closing ends every message and RECV).
 */
struct endpoint_block {
    struct endpoint ep; /* first: the block is freed through it */
    struct endpoint_owner owner;
    struct recv_wait recv;
    uint64_t msg[SMALL_MSG_BLOCK / 8]; /* the own message (an ipc_msg and its wire) */
};
_Static_assert(SMALL_MSG_BLOCK % 8 == 0, "a message block is whole words");
_Static_assert(sizeof(struct endpoint_block) <= HEAP_SLAB_MAX_REQUEST,
               "an endpoint's block is one slab block, within one page");

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

extern const struct kobject_type endpoint_owner_type;
extern uint32_t endpoint_ipc_state_offset;

static inline struct ipc_state *ipc_of(struct process *p)
{
    return process_object_state(p, endpoint_ipc_state_offset);
}

static inline struct endpoint *endpoint_of(struct kobject *obj)
{
    return obj->type == &endpoint_owner_type ? ((struct endpoint_owner *)obj)->ep
                                             : (struct endpoint *)obj;
}

/* Take r, which follows prev (NULL: r is first), off the waiting RECVs. */
static inline void recv_unlink(struct endpoint *ep, struct recv_wait *prev, struct recv_wait *r)
{
    if (prev)
        prev->next = r->next;
    else
        ep->recvs = r->next;
    if (ep->recvs_tail == r)
        ep->recvs_tail = prev;
}

/* The keyed hash of a session reference (endpoint.c). */
void endpoint_session_ref_compute(struct endpoint *ep, struct ipc_state *st);
/* Endpoint ids start at 1, and ref_ep starts at 0: the first call always
 * computes. */
__attribute__((always_inline)) static inline void
make_session_ref(struct endpoint *ep, struct ipc_state *st, uint8_t out[16])
{
    if (__builtin_expect(st->ref_ep != ep->id, 0))
        endpoint_session_ref_compute(ep, st);
    __builtin_memcpy(out, st->ref, 16); /* inline: the kernel's memcpy is a call */
}

/* Abandon hooks of a message and a waiting RECV (endpoint.c). */
void endpoint_call_abandon(struct pending_call *pc, struct process *caller);
void endpoint_recv_abandon(struct pending_call *pc, struct process *caller);

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
__attribute__((always_inline)) static inline void
msg_start(struct endpoint *ep, struct ipc_msg *m, struct process *p, struct ipc_state *ipc,
          const struct capos_sqe *sqe, uint32_t params_at)
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
    m->token.abandon = endpoint_call_abandon;
    pending_call_start(&m->token, p, sqe);
    ipc->outstanding++;
}

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
__attribute__((always_inline)) static inline void
msg_delivered(struct endpoint *ep, struct ipc_msg *m, struct capos_cqe *cqe, uint32_t need)
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

/* Give back a message's block: the endpoint's own one becomes its spare
 * again (or, closed, waits to go with the endpoint), any other is freed. */
static inline void msg_block_free(struct endpoint *ep, struct ipc_msg *m)
{
    if (m != ep->own_msg)
        kfree(m); /* wire[] is part of the same block */
    else if (ep->open)
        ep->spare_msg = m;
}

/* Free a message (the spare goes back to the endpoint), its caller's moves
 * committed or rolled back. */
void endpoint_msg_free(struct endpoint *ep, struct ipc_msg *m, bool commit_moves);
/* Free a waiting-RECV record (the spare goes back to the endpoint). */
void endpoint_recv_free(struct endpoint *ep, struct recv_wait *r);
/* p's RECV waits in r, at the back of the endpoint's waiting RECVs. */
void endpoint_recv_start(struct endpoint *ep, struct recv_wait *r, struct process *p,
                         const struct capos_sqe *sqe, bool wants_gone);

/* The fast path's hooks (endpoint_fast.c, kobject_type.fast_call and
 * fast_return_recv). */
struct thread *endpoint_fast_call(struct kobject *obj, struct process *p,
                                  const struct capos_sqe *sqe);
struct thread *endpoint_fast_return_recv(struct kobject *owner, struct process *p,
                                         const struct capos_sqe *sqe);

#endif
