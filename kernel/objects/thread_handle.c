/*
 * ThreadHandle: join a thread of one's own process. Like ProcessHandle,
 * the handle and the thread share a struct exit_status freed with the
 * last of them; the thread's end is this class's thread_exit hook.
 * Releasing the handle detaches the thread. One join at a time; the
 * capability is not transferable (a thread belongs to one process).
 */
#include "objects/thread_handle.h"

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "objects/exit_status.h"
#include "registry.h"
#include "sched.h"

/* The thread's side of the status is struct thread's exit_status (NULL:
 * detached, or no handle). */
struct thread_handle {
    struct exit_handle base; /* first: the object and its status */
    struct thread *thread;   /* valid while !status->exited; NULL until attached */
    struct pending_call waiter;
};

static void waiter_abandon(struct pending_call *pc, struct process *caller)
{
    struct thread_handle *h =
        (struct thread_handle *)((char *)pc - __builtin_offsetof(struct thread_handle, waiter));
    exit_status_wait_abandoned(h->base.status);
}

static int handle_join(void *self, ThreadHandle_join_Params_r params,
                       ThreadHandle_join_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct thread_handle *h = self;
    if (!h->base.status->exited && h->thread == thread_current())
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ThreadHandle.join: a thread cannot join itself");
    h->waiter.abandon = waiter_abandon;
    int rc;
    if (exit_status_wait(h->base.status, &h->waiter, kc,
                         "ThreadHandle.join: another join is already pending", &rc))
        return rc;
    ThreadHandle_join_Results_set_exitCode(results, h->base.status->exit_code);
    return CAPNPC_OK;
}

static void handle_destroy(struct kobject *obj)
{
    struct thread_handle *h = (struct thread_handle *)obj;
    /* Detached: the thread runs on without anyone to tell, and its share
     * of the status goes now. */
    if (!h->base.status->exited && h->thread) { /* NULL: never attached (spawn failed) */
        h->thread->exit_status = 0;
        exit_status_unref(h->base.status);
    }
    exit_status_handle_gone(h->base.status);
    kfree(h);
}

static const struct ThreadHandle_ops handle_ops = {.join = handle_join};

KOBJECT_TYPE(handle_type, ThreadHandle, handle_ops, .destroy = handle_destroy);

struct kobject *thread_handle_create(struct account *a)
{
    struct exit_handle *h = exit_handle_new(a, sizeof(struct thread_handle), &handle_type);
    return h ? &h->obj : 0;
}

void thread_handle_attach(struct kobject *handle, struct thread *t)
{
    struct thread_handle *h = (struct thread_handle *)handle;
    h->base.status->refs++;
    h->thread = t;
    t->exit_status = h->base.status;
}

static void build_exit_code(struct capn_bld *b, void *arg)
{
    ThreadHandle_join_Results_set_exitCode(ThreadHandle_join_Results_build_root(b),
                                           *(int32_t *)arg);
}

/* The thread is ending: answer a pending join. */
static void handle_thread_exit(struct thread *t)
{
    struct exit_status *st = t->exit_status;
    if (!st)
        return;
    t->exit_status = 0;
    exit_status_report(st, t->exit_code, build_exit_code);
}

const struct kobject_class thread_handle_class = {
    .name = "ThreadHandle",
    .source = KOBJECT_NO_SOURCE,
    .thread_exit = handle_thread_exit,
};
