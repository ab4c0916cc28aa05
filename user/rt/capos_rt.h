/*
 * libcapos-rt: the userspace runtime. A program defines
 * `int main(void)`; the runtime sets up the ring client and the CapSet,
 * calls main, and exits with its return value.
 */
#ifndef CAPOS_RT_H
#define CAPOS_RT_H

#include <capos/capset.h>
#include <capos/errors.h>
#include <capos/ring.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int main(void);

/* ---- System calls (the only two) ---- */

/* Process pending SQEs; wait until min_complete CQEs are available or
 * timeout_ns passes (UINT64_MAX: forever). Returns CQEs available. */
int64_t capos_cap_enter(uint32_t min_complete, uint64_t timeout_ns);
_Noreturn void capos_exit(int code);
/* Any system call number, for tests of the kernel's refusal. */
int64_t capos_syscall_raw(uint64_t nr, uint64_t a0, uint64_t a1);

/* ---- Process information ---- */

uint32_t capos_pid(void);
volatile struct capos_ring *capos_ring(void);

/* ---- The ring client ---- */

/*
 * Queue an SQE (its user_data should be unique among outstanding ones);
 * false if the SQ has no free slot even after letting the kernel consume.
 */
bool capos_ring_submit(const struct capos_sqe *sqe);
/* Queue an SQE with n transfer descriptors kept by the runtime until the
 * kernel has taken the SQE (its xfer fields are set here), for SQEs whose
 * caller does not wait for them in the same frame. */
bool capos_ring_submit_xfer(const struct capos_sqe *sqe, const struct capos_xfer *x, uint32_t n);

/*
 * Wait for the CQE with this user_data and copy it to *out. CQEs for other
 * user_data that arrive first are kept and returned by later waits, so
 * completions may arrive in any order. Returns false only if the kernel
 * stops making progress (a CQ corrupted by this very process).
 */
bool capos_ring_wait(uint64_t user_data, struct capos_cqe *out);

/* Like capos_ring_wait, but never blocks: false if that CQE has not
 * arrived yet. */
bool capos_ring_try_take(uint64_t user_data, struct capos_cqe *out);
/* Take the CQE at the head of the CQ if it is user_data's and nothing is
 * stashed (the common case of one call at a time); false otherwise.
 * Inline: every blocking call ends here, and the call cost as much as
 * the take. capos_rt_ring and capos_rt_stashed are rt.c's (the thread's
 * ring, and how many CQEs it has put aside for later). */
extern _Thread_local volatile struct capos_ring *capos_rt_ring;
extern _Thread_local unsigned capos_rt_stashed;
static inline bool capos_ring_take_first(uint64_t user_data, struct capos_cqe *out)
{
    volatile struct capos_ring *r = capos_rt_ring;
    uint32_t head = r->cq_head;
    if (capos_rt_stashed || head == __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE))
        return false;
    const volatile struct capos_cqe *c = &r->cq[head & CAPOS_CQ_MASK];
    if (c->user_data != user_data)
        return false;
    out->user_data = user_data;
    out->result = c->result;
    out->flags = c->flags;
    out->call_id = c->call_id;
    out->result_len = c->result_len;
    out->cap_count = c->cap_count;
    /* Release: our reads of the entry happen before the kernel may reuse
     * its slot. */
    __atomic_store_n(&r->cq_head, head + 1, __ATOMIC_RELEASE);
    return true;
}
/*
 * Block until a completion arrives that the caller has not yet had a
 * chance to look for: for loops that look for several user_data values
 * in turn and then wait. Looking for one value stashes any other that has
 * arrived, maybe one the loop already looked for in this pass (its CQE
 * came meanwhile, from another CPU); a plain cap_enter(1) would then
 * sleep with it stashed. This returns at once if anything was stashed
 * since the previous call, so the loop looks again.
 */
void capos_ring_wait_new(void);
/* Any completion (stashed ones first), for event loops; false if none is
 * there yet. Completions of RELEASEs (user_data 0) are skipped. */
bool capos_ring_take_any(struct capos_cqe *out);

/* Fill an SQE in place, saving a copy on the hottest paths: the next free
 * SQ slot, or NULL when the SQ is full or releases are queued (then use
 * capos_ring_submit); after writing every field, capos_ring_sqe_publish. */
struct capos_sqe *capos_ring_sqe_slot(void);
void capos_ring_sqe_publish(void);

/* A fresh user_data value. */
uint64_t capos_ring_next_id(void);

/* Submit one NOP and wait for it; returns its CQE result. */
int32_t capos_nop(void);

/* ---- CapSet ---- */

/*
 * The capability id of the bootstrap capability `name`, if it exists and
 * implements interface_id; otherwise 0 (never a valid id) and *why says
 * what was wrong (not found / wrong interface), if why is not NULL.
 */
uint32_t capos_capset_find(const char *name, uint64_t interface_id, const char **why);
const struct capos_capset *capos_capset(void);
/* The same for a capability the program cannot start without: if it is
 * missing, say so on the console ("WHO: needs ...") and exit with 1. */
uint32_t capos_capset_need(const char *who, const char *name, uint64_t interface_id);

/* ---- Endpoints ---- */

/*
 * EndpointFactory.create(interface_id) through `factory`: the owner side
 * in *server, the client facet in *client. c (initialised by the caller
 * with its buffers) keeps the reply, so that a failure's CapException can
 * be read; returns the stub's status, or CAPNPC_E_BAD_RESULTS if the
 * answer does not name two distinct returned capabilities.
 */
struct capnpc_call;
int capos_endpoint_create(uint32_t factory, uint64_t interface_id, struct capnpc_call *c,
                          uint32_t *server, uint32_t *client);

/* ---- Handles and releases ---- */

/* Another local reference to cap (returns cap). */
uint32_t capos_handle_dup(uint32_t cap);
/* Drop a local reference; the last one queues a RELEASE (release is
 * transport: no interface has a close method). */
void capos_handle_drop(uint32_t cap);
/* A capability received in a result or a call, as a handle, if it has the
 * interface the program expects; otherwise it is released and 0 returned. */
uint32_t capos_adopt(const struct capos_cap_record *rec, uint64_t interface_id);

/* Queue a RELEASE of cap; it goes out with the next submission or
 * capos_flush_releases(). Releasing 0 ("none") does nothing. */
void capos_release(uint32_t cap);
void capos_flush_releases(void);

/* ---- Calls ---- */

struct capnpc_transport;
/* The ring as the transport for generated client stubs (capos.capnp.h):
 * e.g. Timer_now_call(&capos_transport, cap, &call, &results). Stubs
 * return CAPNPC_OK, CAPNPC_EXCEPTION (the reply holds a CapException), or
 * a negative CAPOS_E_* transport error. */
extern const struct capnpc_transport capos_transport;

/*
 * Calls that complete later, for event loops: build the params with the
 * generated Iface_method_begin and setters, then capos_call_start queues
 * the CALL under user_data (false if the params did not fit or the ring
 * is broken); when that CQE arrives, capos_call_finish reads the reply as
 * Iface_method_send would (*out: the results root, to be wrapped in the
 * method's _r type).
 */
struct capnpc_call;
struct capn_struct;
bool capos_call_start(struct capnpc_call *c, uint32_t cap, uint64_t interface_id, uint16_t method,
                      uint64_t user_data);
int capos_call_finish(struct capnpc_call *c, const struct capos_cqe *cqe, struct capn_struct *out);

/* ---- Serving an endpoint ---- */

struct capnpc_iface;
struct capos_server;

/* What a handler (the generated ops' ctx argument) learns about the call. */
struct capos_call_ctx {
    const struct capos_recv_header *header; /* call id, method, session reference */
    const struct capos_cap_record *caps;    /* capabilities that came with it */
    struct capos_server *server;
    int exception_type;
    const char *exception_message;
    /* Capabilities the results carry (capos_call_add_result_cap). */
    struct capos_xfer result_caps[CAPOS_MAX_XFER];
    uint32_t nresult_caps;
    uint32_t adopted; /* bit i: the handler kept caps[i] (capos_call_adopt) */
};

struct capos_server {
    uint32_t endpoint;                /* the owner side, from the CapSet */
    const struct capnpc_iface *iface; /* e.g. &Echo_IFACE */
    const void *ops;                  /* e.g. a struct Echo_ops */
    void *self;
    bool stop; /* a handler sets it to end capos_serve */
    uint32_t served;
    /* Optional: a call of ours in flight whose completion ends serving
     * (returns 0, with `ended` set), e.g. a service's lifetime link. */
    uint64_t until;
    bool ended;
    /* Wipe each received message after its call (it may hold a password). */
    bool wipe;
    /* Optional: called each time the server wakes before it waits again,
     * for completions of its own calls (e.g. the broker's shell links). */
    void (*wake)(struct capos_server *srv);
};

/* RECV, dispatch, RETURN until a handler sets stop (returns 0), `until`
 * completes (0), or the endpoint fails (the CAPOS_E_* of the RECV). */
int capos_serve(struct capos_server *srv);
/* Answer the current call with a CapException (CapException_Type_*). */
void capos_call_fail(struct capos_call_ctx *ctx, int type, const char *message);
/* Send a capability with the results: its index in the results' capability
 * table (for a Capability field), or CAPNPC_NO_CAP when 16 are already
 * queued. `move` gives it away (only if the RETURN is delivered);
 * otherwise the caller gets a copy. */
uint32_t capos_call_add_result_cap(struct capos_call_ctx *ctx, uint32_t cap, bool move);
/* Keep capability `index` that came with the call, as a handle of the
 * expected interface (0 if there is no such capability or it has another
 * interface). capos_serve releases every capability of a call that the
 * handler did not adopt (before the RETURN goes out), so a client cannot
 * fill a server's table; a handler that sends a received capability back
 * with its results must adopt it first. */
uint32_t capos_call_adopt(struct capos_call_ctx *ctx, uint32_t index, uint64_t interface_id);
/* A framed CapException message in out (for a RETURN with
 * CAPOS_SQE_F_EXCEPTION); its length, or 0 if it does not fit. */
size_t capos_frame_exception(int type, const char *message, void *out, size_t size);

/* ---- Heap ---- */

/* 16-byte aligned memory from the VirtualMemory capability "vm"; NULL when
 * out of memory or without that capability. */
void *capos_malloc(size_t n);
void capos_free(void *p);

/* ---- Output ---- */

/* Through the Console capability named "console". */
int capos_write(const char *s, size_t len);
int capos_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int capos_vprintf(const char *fmt, va_list ap);
/* Print "panic: ..." and exit with code 127. */
_Noreturn void capos_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
