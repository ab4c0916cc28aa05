/*
 * ProcessHandle: a parent's view of a spawned child. wait completes at
 * once when the child has already exited, and otherwise when it exits.
 * One wait at a time; the capability is not transferable (CAPF_NO_TRANSFER
 * is set when the spawner hands it out).
 */
#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "objects/objects.h"
#include "process.h"

struct process_handle {
    struct kobject obj;
    struct process_status *status;
    struct kcall_token waiter;
};

static int handle_wait(void *self, ProcessHandle_wait_Params_r params,
                       ProcessHandle_wait_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct process_handle *h = self;
    struct process_status *st = h->status;
    if (st->exited) {
        ProcessHandle_wait_Results_set_exitCode(results, st->exit_code);
        return CAPNPC_OK;
    }
    if (st->waiting)
        return kcall_fail(kc, CapException_Type_failed,
                          "ProcessHandle.wait: another wait is already pending");
    st->waiting = true;
    st->waiter = &h->waiter;
    return kcall_defer(kc, &h->waiter);
}

static void handle_destroy(struct kobject *obj)
{
    struct process_handle *h = (struct process_handle *)obj;
    /* The last capability went away with a wait pending (only possible
     * by releasing it meanwhile): that wait can never be answered. */
    if (h->status->waiting) {
        h->status->waiting = false;
        kcall_complete_deferred(&h->waiter, CAPOS_E_DISCONNECTED);
    }
    process_status_unref(h->status);
    kfree(h);
}

static const struct ProcessHandle_ops handle_ops = {.wait = handle_wait};

static int handle_call(struct kobject *obj, struct kcall *kc)
{
    return ProcessHandle_dispatch(&handle_ops, obj, kc->sqe->method, &kc->params, &kc->results, kc);
}

static const struct kobject_type handle_type = {
    .name = "ProcessHandle",
    .iface = &ProcessHandle_IFACE,
    .call = handle_call,
    .destroy = handle_destroy,
};

struct kobject *process_handle_create(struct process_status *st)
{
    struct process_handle *h = kzalloc(sizeof(*h));
    if (!h)
        return 0;
    kobject_init(&h->obj, &handle_type);
    h->status = st;
    st->refs++;
    return &h->obj;
}
