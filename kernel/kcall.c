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
static uint8_t results_arena[KCALL_RESULT_ARENA] __attribute__((aligned(8)));
static uint8_t results_out[KCALL_RESULT_ARENA + 64] __attribute__((aligned(8)));

bool kcall_params_ok(struct kcall *kc)
{
    return capn_ok(&kc->params);
}

int kcall_fail(struct kcall *kc, enum CapException_Type type, const char *message)
{
    kc->exception_type = (int)type;
    kc->exception_message = message;
    return CAPNPC_EXCEPTION;
}

uint32_t kcall_add_result_cap(struct kcall *kc, struct kobject *obj, uint64_t interface_id)
{
    if (kc->nresult_caps == KCALL_MAX_RESULT_CAPS)
        return CAPNPC_NO_CAP;
    kc->result_caps[kc->nresult_caps] = kobject_ref(obj);
    kc->result_cap_ifaces[kc->nresult_caps] = interface_id;
    return kc->nresult_caps++;
}

int kcall_defer(struct kcall *kc, struct kcall_token *token)
{
    token->caller = kc->caller;
    token->user_data = kc->sqe->user_data;
    kc->deferred = true;
    return CAPNPC_OK;
}

void kcall_complete_deferred(const struct kcall_token *token, int32_t result)
{
    struct process *p = token->caller;
    struct capos_cqe cqe = {.user_data = token->user_data, .result = result};
    ring_post_reserved(p->ring, &p->ring_state, &cqe);
    if (tap_enabled)
        tap_cqe(p, &cqe);
    process_notify_completion(p);
}

static void drop_result_caps(struct kcall *kc)
{
    for (uint32_t i = 0; i < kc->nresult_caps; i++)
        kobject_unref(kc->result_caps[i]);
    kc->nresult_caps = 0;
}

/* Frame the results (or the exception) and copy them, and the result
 * capabilities' records, to the caller. Returns 0 or a CAPOS_E_*. */
static int deliver(struct kcall *kc, struct capos_cqe *cqe)
{
    size_t len;
    if (capn_bld_write(&kc->results, results_out, sizeof(results_out), &len) != CAPN_OK)
        return CAPOS_E_INTERNAL;
    uint32_t records_at = CAPOS_CAP_RECORDS_OFFSET((uint32_t)len);
    size_t need = records_at + (size_t)kc->nresult_caps * sizeof(struct capos_cap_record);
    if (need > kc->sqe->result_len)
        return CAPOS_E_RESULT_TOO_SMALL;

    /* Make room in the caller's table first, so that inserting cannot
     * fail half-way through. */
    struct process *p = kc->caller;
    if (cap_table_rx_reserve(&p->caps, kc->nresult_caps) != CAP_OK)
        return CAPOS_E_NO_SPACE;
    struct capos_cap_record rec[KCALL_MAX_RESULT_CAPS];
    for (uint32_t i = 0; i < kc->nresult_caps; i++) {
        struct cap_entry e = {.object = kc->result_caps[i],
                              .interface_id = kc->result_cap_ifaces[i]};
        cap_table_rx_fill(&p->caps, &e, &rec[i].cap);
        rec[i].reserved = 0;
        rec[i].interface_id = kc->result_cap_ifaces[i];
    }
    int rc = copy_to_user(p, kc->sqe->result_addr, results_out, len);
    if (rc == 0 && kc->nresult_caps)
        rc = copy_to_user(p, kc->sqe->result_addr + records_at, rec,
                          kc->nresult_caps * sizeof(rec[0]));
    if (rc != 0) {
        /* Undo the inserts: the caller gets an error and no capability. */
        for (uint32_t i = 0; i < kc->nresult_caps; i++) {
            struct cap_entry e;
            cap_table_rx_unfill(&p->caps, rec[i].cap, &e);
            kobject_unref(e.object);
        }
        cap_table_rx_cancel(&p->caps, kc->nresult_caps);
        kc->nresult_caps = 0;
        return rc;
    }
    /* The table now holds the references kcall_add_result_cap took. */
    cqe->result_len = (uint32_t)len;
    cqe->cap_count = (uint16_t)kc->nresult_caps;
    kc->nresult_caps = 0;
    return 0;
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

bool kcall_execute(struct process *caller, struct kobject *obj, const struct capos_sqe *sqe,
                   struct capos_cqe *cqe)
{
    static struct capn_seg params_segs[KCALL_PARAMS_SEGS];
    static struct capn_seg results_seg;
    struct kcall kc = {.caller = caller, .sqe = sqe};

    /* An ordinal the interface does not have is refused before any work. */
    if (!obj->type->call || !obj->type->iface || sqe->method >= obj->type->iface->method_count) {
        cqe->result = CAPOS_E_BAD_METHOD;
        return true;
    }
    int rc = copy_from_user(caller, params_buf, sqe->params_addr, sqe->params_len);
    if (rc) {
        cqe->result = rc;
        return true;
    }
    if (capn_msg_read(&kc.params, params_segs, KCALL_PARAMS_SEGS, params_buf, sqe->params_len,
                      0) != CAPN_OK) {
        cqe->result = CAPOS_E_BAD_MESSAGE;
        return true;
    }
    /* Bounded work: a params message may make the reader visit each of
     * its words a few times at most, whatever its pointers say. */
    kc.params.read_left = 4 * (sqe->params_len / 8) + 64;
    capn_bld_init(&kc.results, &results_seg, 1, results_arena, sizeof(results_arena));

    rc = obj->type->call(obj, &kc);
    if (kc.deferred) {
        drop_result_caps(&kc);
        return false;
    }
    switch (rc) {
    case CAPNPC_OK:
        if (!capn_ok(&kc.params)) {
            /* The handler read garbage; its results mean nothing. */
            drop_result_caps(&kc);
            cqe->result = CAPOS_E_BAD_MESSAGE;
            return true;
        }
        break;
    case CAPNPC_EXCEPTION:
        if ((rc = build_exception(&kc)) != 0) {
            cqe->result = rc;
            return true;
        }
        cqe->flags = CAPOS_CQE_F_EXCEPTION;
        break;
    case CAPNPC_E_BAD_METHOD:
        cqe->result = CAPOS_E_BAD_METHOD;
        drop_result_caps(&kc);
        return true;
    case CAPNPC_E_BAD_PARAMS:
        cqe->result = CAPOS_E_BAD_MESSAGE;
        drop_result_caps(&kc);
        return true;
    default:
        cqe->result = rc < 0 && rc > -1000 ? rc : CAPOS_E_INTERNAL;
        drop_result_caps(&kc);
        return true;
    }
    rc = deliver(&kc, cqe);
    drop_result_caps(&kc);
    if (rc) {
        cqe->flags = 0;
        cqe->result = rc;
        return true;
    }
    cqe->result = cqe->flags & CAPOS_CQE_F_EXCEPTION ? CAPOS_RESULT_EXCEPTION : 0;
    return true;
}
