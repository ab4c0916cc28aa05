/*
 * One CALL to a kernel object, as its handler sees it: the decoded params,
 * a builder for the results, the caller, and the ways to answer (results,
 * a CapException, capabilities, or a deferred completion).
 *
 * Handlers are the generated ones (build/gen/capos.capnp.h); `ctx` is the
 * struct kcall. The generated dispatch has checked every pointer of the
 * params before the handler runs (N_check), so a handler reads fields that
 * are exactly what the caller sent and only has to check their values.
 *
 * Status at the boundary: a handler returns an enum capnpc_status:
 * CAPNPC_OK (results built), CAPNPC_EXCEPTION (through kcall_fail), or
 * one of the generated dispatch's CAPNPC_E_* codes. kcall_execute turns
 * that into the CQE (one table, kcall.c: status_to_capos).
 */
#ifndef CAPOS_KCALL_H
#define CAPOS_KCALL_H

#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "capnp/capnp.h"
#include "capnp/flat.h"
#include "capos.capnp.h"
#include "pending_call.h"
#include "xfer.h"

struct process;
struct kobject;

#define KCALL_MAX_RESULT_CAPS CAPOS_MAX_XFER
#define KCALL_RESULT_ARENA    16384
#define KCALL_PARAMS_SEGS     8

struct kcall {
    struct process *caller;
    const struct capos_sqe *sqe; /* the kernel's copy */
    struct capn_msg params;
    struct capn_bld results;
    /* Set by kcall_fail(). */
    int exception_type;
    const char *exception_message;
    /* Capabilities that came with the params (transfer descriptors), in
     * the order of the params message's capability table. */
    struct xfer_set in;
    /* Capabilities to hand to the caller with the results. */
    struct xfer_set out;
    /* Set by kcall_defer(): the handler will complete the call later. */
    bool deferred;
};

/*
 * Define `static const struct kobject_type var` for objects implementing
 * interface I with the handlers in `ops` (a const struct I_ops); more
 * fields (.destroy = ...) may follow. Its call function runs the generated
 * I_dispatch with `ops` known at compile time, so that the handlers are
 * called directly (and inlined) rather than through the ops table.
 */
#define KOBJECT_TYPE(var, I, ops, ...)                                                             \
    static int var##_call(struct kobject *obj, struct kcall *kc)                                   \
    {                                                                                              \
        return I##_dispatch(&(ops), obj, kc->sqe->method, &kc->params, &kc->results, kc);          \
    }                                                                                              \
    static const struct kobject_type var = {                                                       \
        .name = #I, .iface = &I##_IFACE, .call = var##_call, __VA_ARGS__}

/* Run one CALL SQE against `obj` (already looked up and type-checked) and
 * fill *cqe. Returns false when the call was deferred. */
bool kcall_execute(struct process *caller, struct kobject *obj, const struct capos_sqe *sqe,
                   struct capos_cqe *cqe);

/*
 * Flat calls: a method whose params and results are each one struct of
 * data words only can be answered without the general reader and builder
 * (an object's ring_call may do this for its hottest methods).
 * kcall_flat_params reads the params only in the one shape the runtime's
 * stubs build: one segment holding a root struct of exactly n data words
 * and no pointers (for n == 0, a null or empty root), and no capability
 * transfers; otherwise it returns false and the caller takes the general
 * path (kcall_execute), which accepts every valid encoding and reports
 * every error. kcall_flat_results answers with one struct of n data words,
 * framed exactly as the general builder frames it. The encoding, and the
 * generated readers and builders over flat words, are lib/capnp/flat.h's.
 */
#define KCALL_FLAT_MAX_WORDS CAPN_FLAT_MAX_DATA
bool kcall_flat_params(struct process *p, const struct capos_sqe *sqe, uint64_t *words, uint32_t n);
void kcall_flat_results(struct process *p, const struct capos_sqe *sqe, struct capos_cqe *cqe,
                        const uint64_t *words, uint32_t n);
/* The same framing into a process's buffer [addr, addr + cap), for a
 * deferred answer: 0 and the length, or a CAPOS_E_*. */
int kcall_write_flat(struct process *p, uint64_t addr, uint32_t cap, const uint64_t *words,
                     uint32_t n, uint32_t *len_out);

/* For handlers. */
/* Answer with a CapException; returns CAPNPC_EXCEPTION for the handler to
 * return. The message must be a constant string with no kernel secrets. */
int kcall_fail(struct kcall *kc, enum CapException_Type type, const char *message);
/* The capability at index i of the params' capability table (a capability
 * field's value), with its interface; NULL if there is none. */
struct kobject *kcall_param_cap(struct kcall *kc, uint32_t index, uint64_t *interface_id,
                                uint32_t *cap_flags);
/* Give the caller a new capability to `obj` (a reference is taken); its
 * index in the result message's capability table, or CAPNPC_NO_CAP. */
uint32_t kcall_add_result_cap(struct kcall *kc, struct kobject *obj, uint64_t interface_id,
                              uint32_t cap_flags);
/* Defer the answer: the handler returns kcall_defer(kc, pc) and completes
 * the call later through pc (pending_call.h). */
int kcall_defer(struct kcall *kc, struct pending_call *pc);

/* Frame the results `build` makes and copy them to a process's buffer
 * [addr, addr + cap): 0 and their length, or a CAPOS_E_*. */
int kcall_write_results(struct process *p, uint64_t addr, uint32_t cap, pending_build_fn build,
                        void *arg, uint32_t *len_out);
/* The same with a CapException as the message. */
int kcall_write_exception(struct process *p, uint64_t addr, uint32_t cap,
                          enum CapException_Type type, const char *message, uint32_t *len_out);
/* Complete a CALL SQE of the running process with a CapException. */
void kcall_fail_sqe(struct process *p, const struct capos_sqe *sqe, struct capos_cqe *cqe,
                    enum CapException_Type type, const char *message);

#endif
