/*
 * One CALL to a kernel object, as its handler sees it: the decoded params,
 * a builder for the results, the caller, and the ways to answer (results,
 * a CapException, capabilities, or a deferred completion).
 *
 * Handlers are the generated ones (build/gen/capos.capnp.h); `ctx` is the
 * struct kcall. Every handler reads its params first, checks
 * kcall_params_ok(), and only then acts: a malformed params message reads
 * as defaults, and acting on defaults would be acting on garbage.
 */
#ifndef CAPOS_KCALL_H
#define CAPOS_KCALL_H

#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "capnp/capnp.h"
#include "capos.capnp.h"
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
    /* Set by kcall_defer(): the handler will complete the call later
     * through kcall_complete_deferred(). */
    bool deferred;
};

/* Run one CALL SQE against `obj` (already looked up and type-checked) and
 * fill *cqe. Returns false when the call was deferred. */
bool kcall_execute(struct process *caller, struct kobject *obj, const struct capos_sqe *sqe,
                   struct capos_cqe *cqe);

/* For handlers. */
bool kcall_params_ok(struct kcall *kc);
/* Answer with a CapException; returns CAPNPC_EXCEPTION for the handler to
 * return. The message must be a constant string with no kernel secrets. */
int kcall_fail(struct kcall *kc, enum CapException_Type type, const char *message);
/* The capability at index i of the params' capability table (a capability
 * field's value), with its interface; NULL if there is none. */
struct kobject *kcall_param_cap(struct kcall *kc, uint32_t index, uint64_t *interface_id,
                                uint32_t *cap_flags);
/* Write a framed CapException to a process's buffer [addr, addr + cap);
 * 0 and its length, or a CAPOS_E_*. */
int kcall_write_exception(struct process *p, uint64_t addr, uint32_t cap,
                          enum CapException_Type type, const char *message, uint32_t *len_out);
/* Complete a CALL SQE of the running process with a CapException. */
void kcall_fail_sqe(struct process *p, const struct capos_sqe *sqe, struct capos_cqe *cqe,
                    enum CapException_Type type, const char *message);
/* Give the caller a new capability to `obj` (a reference is taken); its
 * index in the result message's capability table, or CAPNPC_NO_CAP. */
uint32_t kcall_add_result_cap(struct kcall *kc, struct kobject *obj, uint64_t interface_id,
                              uint32_t cap_flags);
/*
 * Deferred completion. The handler returns kcall_defer(kc, token) and the
 * kernel keeps the token; later it completes the call with
 * kcall_complete_deferred (empty results) or kcall_complete_deferred_with
 * (results built by a callback). The token is linked into the caller's
 * list of pending calls: if the caller exits first, the token goes dead
 * (caller NULL) and completing it does nothing; its owner still frees it.
 */
struct kcall_token {
    struct process *caller; /* NULL once the caller has exited */
    uint64_t user_data;
    uint64_t result_addr;
    uint32_t result_len;
    struct kcall_token *next, *prev; /* the caller's pending calls */
};
int kcall_defer(struct kcall *kc, struct kcall_token *token);
/* The same for ring operations that are not kernel-object calls (IPC). */
void kcall_defer_sqe(struct process *p, const struct capos_sqe *sqe, struct kcall_token *token);
/* Post a deferred call's CQE (user_data is filled in) and wake its caller;
 * the token must be live (caller not NULL). */
void kcall_post_deferred(struct kcall_token *token, struct capos_cqe *cqe);
void kcall_complete_deferred(struct kcall_token *token, int32_t result);
typedef void (*kcall_build_fn)(struct capn_bld *results, void *arg);
void kcall_complete_deferred_with(struct kcall_token *token, kcall_build_fn build, void *arg);
/* The caller is exiting: every pending token of it goes dead. */
void kcall_process_exit(struct process *p);

#endif
