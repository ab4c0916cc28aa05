/*
 * CALL execution for kernel objects: copy the params message in (once),
 * decode it under tight limits, run the generated dispatch, and copy the
 * results (or a CapException) and any result capabilities out.
 *
 * The kernel is not preemptible and has one CPU, so one static params
 * buffer and one results arena serve every call; a handler that must wait
 * (Timer.sleep) defers its completion instead of blocking in here.
 */
#include "kcall.h"

#include <capos/errors.h>

#include "kobject.h"
#include "process.h"
#include "sched.h"
#include "string.h"
#include "tap.h"
#include "usercopy.h"

static uint8_t params_buf[CAPOS_MAX_PARAMS_LEN] __attribute__((aligned(8)));
/* Results are built framed in place (capn_bld_init_framed): the builder's
 * segment starts 8 bytes into the buffer that is copied out, so framing
 * writes the segment table and copies nothing. */
static uint8_t results_out[KCALL_RESULT_ARENA + 8] __attribute__((aligned(8)));
/* Deferred completions build in their own buffer: a handler may complete
 * others' calls while its own results are being built (ParkSpace.wake
 * answers the waits it ends). */
static uint8_t deferred_out[KCALL_RESULT_ARENA + 8] __attribute__((aligned(8)));

int kcall_fail(struct kcall *kc, enum CapException_Type type, const char *message)
{
    kc->exception_type = (int)type;
    kc->exception_message = message;
    return CAPNPC_EXCEPTION;
}

uint32_t kcall_add_result_cap(struct kcall *kc, struct kobject *obj, uint64_t interface_id,
                              uint32_t cap_flags)
{
    struct xfer_set *x = &kc->out;
    if (x->n == KCALL_MAX_RESULT_CAPS)
        return CAPNPC_NO_CAP;
    x->obj[x->n] = kobject_ref(obj);
    x->iface[x->n] = interface_id;
    x->flags[x->n] = cap_flags;
    return x->n++;
}

int kcall_defer(struct kcall *kc, struct pending_call *pc)
{
    pending_call_start(pc, kc->caller, kc->sqe);
    kc->deferred = true;
    return CAPNPC_OK;
}

/* Always inlined (with LTO, across files): each caller is a hot path of
 * its own, and GCC stops inlining these once there are a few callers. */
inline __attribute__((always_inline)) bool
kcall_flat_params(struct process *p, const struct capos_sqe *sqe, uint64_t *words, uint32_t n)
{
    uint64_t buf[CAPN_FLAT_LEN(KCALL_FLAT_MAX_WORDS)];
    if (n > KCALL_FLAT_MAX_WORDS || sqe->xfer_count != 0 ||
        sqe->params_len != 8 * CAPN_FLAT_LEN(n) ||
        copy_from_user(p, buf, sqe->params_addr, sqe->params_len) != 0 || !capn_flat_framed(buf, n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        words[i] = buf[CAPN_FLAT_DATA + i];
    return true;
}

/* Inlined into both callers: Timer.now's answer is this and a copy. */
static inline __attribute__((always_inline)) int write_flat(struct process *p, uint64_t addr,
                                                            uint32_t cap, const uint64_t *words,
                                                            uint32_t n, uint32_t *len_out)
{
    uint64_t buf[CAPN_FLAT_LEN(KCALL_FLAT_MAX_WORDS)];
    uint32_t len = 8 * CAPN_FLAT_LEN(n);
    capn_flat_frame(buf, n);
    for (uint32_t i = 0; i < n; i++)
        buf[CAPN_FLAT_DATA + i] = words[i];
    int rc = len > cap ? CAPOS_E_RESULT_TOO_SMALL : copy_to_user(p, addr, buf, len);
    *len_out = rc ? 0 : len;
    return rc;
}

/* Inlined too (link-time): the park fast path's answer is this. */
inline __attribute__((always_inline)) int kcall_write_flat(struct process *p, uint64_t addr,
                                                           uint32_t cap, const uint64_t *words,
                                                           uint32_t n, uint32_t *len_out)
{
    return write_flat(p, addr, cap, words, n, len_out);
}

inline __attribute__((always_inline)) void kcall_flat_results(struct process *p,
                                                              const struct capos_sqe *sqe,
                                                              struct capos_cqe *cqe,
                                                              const uint64_t *words, uint32_t n)
{
    uint32_t len;
    cqe->result = write_flat(p, sqe->result_addr, sqe->result_len, words, n, &len);
    cqe->flags = 0;
    cqe->result_len = len;
    cqe->cap_count = 0;
}

int kcall_write_results(struct process *p, uint64_t addr, uint32_t cap, pending_build_fn build,
                        void *arg, uint32_t *len_out)
{
    static struct capn_seg seg;
    struct capn_bld b;
    capn_bld_init_framed(&b, &seg, deferred_out, sizeof(deferred_out));
    build(&b, arg);
    size_t len = 0;
    if (b.err != CAPN_OK || capn_bld_write(&b, deferred_out, sizeof(deferred_out), &len) != CAPN_OK)
        return CAPOS_E_INTERNAL;
    if (len > cap)
        return CAPOS_E_RESULT_TOO_SMALL;
    int rc = copy_to_user(p, addr, deferred_out, len);
    if (rc == 0)
        *len_out = (uint32_t)len;
    return rc;
}

struct kobject *kcall_param_cap(struct kcall *kc, uint32_t index, uint64_t *interface_id,
                                uint32_t *cap_flags)
{
    if (index >= kc->in.n)
        return 0;
    if (interface_id)
        *interface_id = kc->in.iface[index];
    if (cap_flags)
        *cap_flags = kc->in.flags[index];
    return kc->in.obj[index];
}

static void drop_result_caps(struct kcall *kc)
{
    xfer_settle(0, &kc->out, false);
}

/* Frame the results (or the exception) and copy them, and the result
 * capabilities' records, to the caller. Returns 0 or a CAPOS_E_*. */
static int deliver(struct kcall *kc, struct capos_cqe *cqe)
{
    size_t len;
    if (capn_bld_write(&kc->results, results_out, sizeof(results_out), &len) != CAPN_OK)
        return CAPOS_E_INTERNAL;
    uint32_t records_at = CAPOS_CAP_RECORDS_OFFSET((uint32_t)len);
    size_t need =
        kc->out.n ? records_at + (size_t)kc->out.n * sizeof(struct capos_cap_record) : len;
    if (need > kc->sqe->result_len)
        return CAPOS_E_RESULT_TOO_SMALL;

    struct process *p = kc->caller;
    struct capos_cap_record rec[KCALL_MAX_RESULT_CAPS];
    int rc = xfer_give(p, &kc->out, rec);
    if (rc)
        return rc;
    rc = copy_to_user(p, kc->sqe->result_addr, results_out, len);
    if (rc == 0 && kc->out.n)
        rc = copy_to_user(p, kc->sqe->result_addr + records_at, rec, kc->out.n * sizeof(rec[0]));
    if (rc != 0) {
        /* Undo the inserts: the caller gets an error and no capability. */
        xfer_ungive(p, &kc->out, rec);
        return rc;
    }
    cqe->result_len = (uint32_t)len;
    cqe->cap_count = (uint16_t)kc->out.n;
    return 0;
}

struct exception_text {
    enum CapException_Type type;
    const char *message;
};

static void build_exception_msg(struct capn_bld *b, void *arg)
{
    const struct exception_text *t = arg;
    CapException_b ex = CapException_build_root(b);
    CapException_set_type(ex, t->type);
    CapException_set_message(ex, t->message, (uint32_t)strlen(t->message));
}

int kcall_write_exception(struct process *p, uint64_t addr, uint32_t cap,
                          enum CapException_Type type, const char *message, uint32_t *len_out)
{
    struct exception_text t = {type, message};
    return kcall_write_results(p, addr, cap, build_exception_msg, &t, len_out);
}

void kcall_fail_sqe(struct process *p, const struct capos_sqe *sqe, struct capos_cqe *cqe,
                    enum CapException_Type type, const char *message)
{
    uint32_t len = 0;
    int rc = kcall_write_exception(p, sqe->result_addr, sqe->result_len, type, message, &len);
    cqe->result = rc ? rc : CAPOS_RESULT_EXCEPTION;
    cqe->flags = rc ? 0 : CAPOS_CQE_F_EXCEPTION;
    cqe->result_len = len;
}

static int build_exception(struct kcall *kc)
{
    drop_result_caps(kc);
    capn_bld_reset(&kc->results);
    CapException_b ex = CapException_build_root(&kc->results);
    CapException_set_type(ex, (CapException_Type)kc->exception_type);
    const char *m = kc->exception_message ? kc->exception_message : "";
    CapException_set_message(ex, m, (uint32_t)strlen(m));
    return kc->results.err == CAPN_OK ? 0 : CAPOS_E_INTERNAL;
}

/* A failure status of a handler or of the generated dispatch (enum
 * capnpc_status below 0) as the CQE's transport error. */
static int status_to_capos(int rc)
{
    switch (rc) {
    case CAPNPC_E_BAD_METHOD:
        return CAPOS_E_BAD_METHOD;
    case CAPNPC_E_BAD_PARAMS:
        return CAPOS_E_BAD_MESSAGE;
    default: /* CAPNPC_E_NO_SPACE: the results outgrew the arena */
        return CAPOS_E_INTERNAL;
    }
}

/* Run the handler (through the interface's generated dispatch) and turn its
 * outcome into the CQE; 0 when results (or an exception) are ready to
 * deliver, else the transport error. */
static int run(struct kobject *obj, struct kcall *kc, struct capos_cqe *cqe)
{
    int rc = obj->type->call(obj, kc);
    if (kc->deferred)
        return 0;
    switch (rc) {
    case CAPNPC_OK:
        /* The params were checked before the handler ran; this catches a
         * handler reading beyond them (a kernel bug), not hostile input. */
        return capn_ok(&kc->params) ? 0 : CAPOS_E_BAD_MESSAGE;
    case CAPNPC_EXCEPTION:
        cqe->flags = CAPOS_CQE_F_EXCEPTION;
        return build_exception(kc);
    default:
        return status_to_capos(rc);
    }
}

bool kcall_execute(struct process *caller, struct kobject *obj, const struct capos_sqe *sqe,
                   struct capos_cqe *cqe)
{
    static struct capn_seg params_segs[KCALL_PARAMS_SEGS];
    static struct capn_seg results_seg;
    /* Not zero-initialised as a whole: the capability arrays are large and
     * only their first n entries are ever read. */
    struct kcall kc;
    kc.caller = caller;
    kc.sqe = sqe;
    kc.exception_type = 0;
    kc.exception_message = 0;
    xfer_init(&kc.in);
    xfer_init(&kc.out);
    kc.deferred = false;

    /* An ordinal the interface does not have is refused before any work. */
    int rc = CAPOS_E_BAD_METHOD;
    if (!obj->type->call || sqe->method >= obj->type->iface->method_count)
        goto done;
    rc = copy_from_user(caller, params_buf, sqe->params_addr, sqe->params_len);
    if (rc)
        goto done;
    rc = CAPOS_E_BAD_MESSAGE;
    if (capn_msg_read(&kc.params, params_segs, KCALL_PARAMS_SEGS, params_buf, sqe->params_len, 0) !=
        CAPN_OK)
        goto done;
    /* Bounded work: a params message may make the reader visit each of
     * its words a few times at most, whatever its pointers say. */
    kc.params.read_left = 4 * (sqe->params_len / 8) + 64;
    rc = xfer_take(caller, sqe, sqe->cap, 0, &kc.in);
    if (rc)
        goto done;
    kc.params.cap_count = kc.in.n;
    capn_bld_init_framed(&kc.results, &results_seg, results_out, sizeof(results_out));

    rc = run(obj, &kc, cqe);
    if (kc.deferred) {
        xfer_settle(caller, &kc.in, true);
        drop_result_caps(&kc);
        return false;
    }
    if (rc == 0)
        rc = deliver(&kc, cqe);
done:
    /* Moves happen only with a successful result: after a transport error
     * or an exception the caller still holds what it tried to move. */
    xfer_settle(caller, &kc.in, rc == 0 && !(cqe->flags & CAPOS_CQE_F_EXCEPTION));
    drop_result_caps(&kc);
    if (rc) {
        cqe->flags = 0;
        cqe->result = rc;
    } else {
        cqe->result = cqe->flags & CAPOS_CQE_F_EXCEPTION ? CAPOS_RESULT_EXCEPTION : 0;
    }
    return true;
}
