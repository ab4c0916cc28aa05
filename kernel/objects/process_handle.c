/*
 * ProcessHandle: a parent's view of a spawned child. wait completes at
 * once when the child has already exited, and otherwise when it exits.
 * One wait at a time; the capability is not transferable (CAPF_NO_TRANSFER
 * is set when the spawner hands it out). kill ends the child.
 *
 * The handle and the child share a struct exit_status (exit_status.h),
 * freed with the last of them; the child's side is this class's
 * per-process state, and its exit is this class's process_exit hook.
 */
#include "objects/process_handle.h"

#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "objects/exit_status.h"
#include "process.h"
#include "registry.h"

struct process_handle {
    struct exit_handle base; /* first: the object and its status */
    struct process *child;   /* valid while !status->exited */
    struct pending_call waiter;
};

/* The child's side, in every process (NULL: nobody waits for it). */
struct handle_state {
    struct exit_status *status;
};

static uint32_t state_offset;

static void waiter_abandon(struct pending_call *pc, struct process *caller)
{
    struct process_handle *h =
        (struct process_handle *)((char *)pc - __builtin_offsetof(struct process_handle, waiter));
    exit_status_wait_abandoned(h->base.status);
}

static int handle_wait(void *self, ProcessHandle_wait_Params_r params,
                       ProcessHandle_wait_Results_b results, void *ctx)
{
    struct process_handle *h = self;
    h->waiter.abandon = waiter_abandon;
    int rc;
    if (exit_status_wait(h->base.status, &h->waiter, ctx,
                         "ProcessHandle.wait: another wait is already pending", &rc))
        return rc;
    ProcessHandle_wait_Results_set_exitCode(results, h->base.status->exit_code);
    return CAPNPC_OK;
}

static int handle_kill(void *self, ProcessHandle_kill_Params_r params,
                       ProcessHandle_kill_Results_b results, void *ctx)
{
    struct process_handle *h = self;
    if (!h->base.status->exited)
        process_kill(h->child, killedExitCode);
    return CAPNPC_OK;
}

/* The last capability went away (a wait pending on it can never be
 * answered); the child runs on. */
static void handle_destroy(struct kobject *obj)
{
    struct process_handle *h = (struct process_handle *)obj;
    exit_status_handle_gone(h->base.status);
    kfree(h);
}

static const struct ProcessHandle_ops handle_ops = {.wait = handle_wait, .kill = handle_kill};

KOBJECT_TYPE(handle_type, ProcessHandle, handle_ops, .destroy = handle_destroy);

struct kobject *process_handle_create(struct account *a)
{
    struct exit_handle *h = exit_handle_new(a, sizeof(struct process_handle), &handle_type);
    return h ? &h->obj : 0;
}

void process_handle_attach(struct kobject *handle, struct process *child)
{
    struct handle_state *hs = process_object_state(child, state_offset);
    struct process_handle *h = (struct process_handle *)handle;
    h->base.status->refs++;
    h->child = child;
    hs->status = h->base.status;
}

static void build_exit_code(struct capn_bld *b, void *arg)
{
    ProcessHandle_wait_Results_set_exitCode(ProcessHandle_wait_Results_build_root(b),
                                            *(int32_t *)arg);
}

static void handle_process_exit(struct process *p)
{
    struct handle_state *hs = process_object_state(p, state_offset);
    struct exit_status *st = hs->status;
    if (!st)
        return;
    hs->status = 0;
    exit_status_report(st, p->exit_code, build_exit_code);
}

const struct kobject_class process_handle_class = {
    .name = "ProcessHandle",
    .source = KOBJECT_NO_SOURCE,
    .process_state_size = sizeof(struct handle_state),
    .process_state_offset = &state_offset,
    .process_exit = handle_process_exit,
};
