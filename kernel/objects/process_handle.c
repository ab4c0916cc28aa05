/*
 * ProcessHandle: a parent's view of a spawned child. wait completes at
 * once when the child has already exited, and otherwise when it exits.
 * One wait at a time; the capability is not transferable (CAPF_NO_TRANSFER
 * is set when the spawner hands it out). kill ends the child.
 *
 * The handle and the child share a struct status, freed with the last of
 * them; the child's side is this class's per-process state, and its exit
 * is this class's process_exit hook.
 */
#include "objects/process_handle.h"

#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"

/* What the parent can still see after the child is gone. */
struct status {
    uint32_t refs;
    struct process *child; /* until it exits */
    bool exited;
    int32_t exit_code;
    bool waiting;                /* a wait is pending on `waiter` */
    struct pending_call *waiter; /* owned by the handle */
};

struct process_handle {
    struct kobject obj;
    struct status *status;
    struct pending_call waiter;
};

/* The child's side, in every process (NULL: nobody waits for it). */
struct handle_state {
    struct status *status;
};

static uint32_t state_offset;

static void status_unref(struct status *st)
{
    if (--st->refs == 0)
        kfree(st);
}

/* The wait ended early (cancelled, or its process exited): another may
 * start. */
static void waiter_abandon(struct pending_call *pc, struct process *caller)
{
    struct process_handle *h =
        (struct process_handle *)((char *)pc - __builtin_offsetof(struct process_handle, waiter));
    h->status->waiting = false;
}

static int handle_wait(void *self, ProcessHandle_wait_Params_r params,
                       ProcessHandle_wait_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct process_handle *h = self;
    struct status *st = h->status;
    if (st->exited) {
        ProcessHandle_wait_Results_set_exitCode(results, st->exit_code);
        return CAPNPC_OK;
    }
    if (st->waiting)
        return kcall_fail(kc, CapException_Type_failed,
                          "ProcessHandle.wait: another wait is already pending");
    st->waiting = true;
    st->waiter = &h->waiter;
    h->waiter.abandon = waiter_abandon;
    return kcall_defer(kc, &h->waiter);
}

static int handle_kill(void *self, ProcessHandle_kill_Params_r params,
                       ProcessHandle_kill_Results_b results, void *ctx)
{
    struct status *st = ((struct process_handle *)self)->status;
    if (!st->exited)
        process_kill(st->child, killedExitCode);
    return CAPNPC_OK;
}

static void handle_destroy(struct kobject *obj)
{
    struct process_handle *h = (struct process_handle *)obj;
    /* The last capability went away with a wait pending (only possible
     * by releasing it meanwhile): that wait can never be answered. */
    if (h->status->waiting) {
        h->status->waiting = false;
        pending_call_complete(&h->waiter, CAPOS_E_DISCONNECTED);
    }
    status_unref(h->status);
    kfree(h);
}

static const struct ProcessHandle_ops handle_ops = {.wait = handle_wait, .kill = handle_kill};

KOBJECT_TYPE(handle_type, ProcessHandle, handle_ops, .destroy = handle_destroy);

struct kobject *process_handle_create(struct account *a)
{
    struct process_handle *h = kzalloc_in(a, sizeof(*h));
    struct status *st = kzalloc_in(a, sizeof(*st));
    if (!h || !st) {
        kfree(h);
        kfree(st);
        return 0;
    }
    kobject_init(&h->obj, &handle_type);
    st->refs = 1;
    h->status = st;
    return &h->obj;
}

void process_handle_attach(struct kobject *handle, struct process *child)
{
    struct handle_state *hs = process_object_state(child, state_offset);
    struct status *st = ((struct process_handle *)handle)->status;
    st->refs++;
    st->child = child;
    hs->status = st;
}

static void build_exit_code(struct capn_bld *b, void *arg)
{
    ProcessHandle_wait_Results_set_exitCode(ProcessHandle_wait_Results_build_root(b),
                                            *(int32_t *)arg);
}

static void handle_process_exit(struct process *p)
{
    struct handle_state *hs = process_object_state(p, state_offset);
    struct status *st = hs->status;
    if (!st)
        return;
    hs->status = 0;
    st->child = 0;
    st->exited = true;
    st->exit_code = p->exit_code;
    if (st->waiting) {
        st->waiting = false;
        pending_call_complete_with(st->waiter, build_exit_code, &st->exit_code);
    }
    status_unref(st);
}

const struct kobject_class process_handle_class = {
    .name = "ProcessHandle",
    .source = KOBJECT_NO_SOURCE,
    .process_state_size = sizeof(struct handle_state),
    .process_state_offset = &state_offset,
    .process_exit = handle_process_exit,
};
