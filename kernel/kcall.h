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

struct process;
struct kobject;

#define KCALL_MAX_RESULT_CAPS 4
#define KCALL_RESULT_ARENA 4096
#define KCALL_PARAMS_SEGS 8

struct kcall {
    struct process *caller;
    const struct capos_sqe *sqe; /* the kernel's copy */
    struct capn_msg params;
    struct capn_bld results;
    /* Set by kcall_fail(). */
    int exception_type;
    const char *exception_message;
    /* Capabilities to hand to the caller with the results. */
    struct kobject *result_caps[KCALL_MAX_RESULT_CAPS];
    uint64_t result_cap_ifaces[KCALL_MAX_RESULT_CAPS];
    uint32_t nresult_caps;
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
/* Give the caller a new capability to `obj` (a reference is taken); its
 * index in the result message's capability table, or CAPNPC_NO_CAP. */
uint32_t kcall_add_result_cap(struct kcall *kc, struct kobject *obj, uint64_t interface_id);
/* The call completes later: returns CAPNPC_OK for the handler to return.
 * The kernel keeps *token to complete it. */
struct kcall_token {
    struct process *caller;
    uint64_t user_data;
};
int kcall_defer(struct kcall *kc, struct kcall_token *token);
/* Post the empty-result completion of a deferred call and wake its caller. */
void kcall_complete_deferred(const struct kcall_token *token, int32_t result);

#endif
