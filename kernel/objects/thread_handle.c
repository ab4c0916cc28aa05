/*
 * ThreadHandle: join a thread of one's own process. Like ProcessHandle,
 * the handle and the thread share a struct status freed with the last of
 * them; the thread's end is this class's thread_exit hook. Releasing the
 * handle detaches the thread. One join at a time; the capability is not
 * transferable (a thread belongs to one process).
 */
#include "objects/thread_handle.h"

#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "registry.h"
#include "sched.h"

struct thread_status {
    uint32_t refs;
    struct thread *thread; /* until it ends */
    bool exited;
    int32_t exit_code;
    bool waiting;                /* a join is pending on `waiter` */
    struct pending_call *waiter; /* the handle's; it outlives the join */
};

struct thread_handle {
    struct kobject obj;
    struct thread_status *status;
    struct pending_call waiter;
};

static void status_unref(struct thread_status *st)
{
    if (--st->refs == 0)
        kfree(st);
}

static struct thread_handle *handle_of_waiter(struct pending_call *pc)
{
    return (struct thread_handle *)((char *)pc - __builtin_offsetof(struct thread_handle, waiter));
}

/* The join ended early (cancelled, or the joining thread ended). */
static void waiter_abandon(struct pending_call *pc, struct process *caller)
{
    handle_of_waiter(pc)->status->waiting = false;
}

static int handle_join(void *self, ThreadHandle_join_Params_r params,
                       ThreadHandle_join_Results_b results, void *ctx)
{
    struct kcall *kc = ctx;
    struct thread_handle *h = self;
    struct thread_status *st = h->status;
    if (st->exited) {
        ThreadHandle_join_Results_set_exitCode(results, st->exit_code);
        return CAPNPC_OK;
    }
    if (st->thread == thread_current())
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ThreadHandle.join: a thread cannot join itself");
    if (st->waiting)
        return kcall_fail(kc, CapException_Type_failed,
                          "ThreadHandle.join: another join is already pending");
    st->waiting = true;
    st->waiter = &h->waiter;
    h->waiter.abandon = waiter_abandon;
    return kcall_defer(kc, &h->waiter);
}

static void handle_destroy(struct kobject *obj)
{
    struct thread_handle *h = (struct thread_handle *)obj;
    struct thread_status *st = h->status;
    /* Released with a join pending: that join can never be answered. */
    if (st->waiting) {
        st->waiting = false;
        pending_call_complete(&h->waiter, CAPOS_E_DISCONNECTED);
    }
    /* Detached: the thread runs on without anyone to tell, and drops its
     * share of the status now. */
    if (st->thread) {
        st->thread->status = 0;
        st->thread = 0;
        status_unref(st);
    }
    status_unref(st);
    kfree(h);
}

static const struct ThreadHandle_ops handle_ops = {.join = handle_join};

KOBJECT_TYPE(handle_type, ThreadHandle, handle_ops, .destroy = handle_destroy);

struct kobject *thread_handle_create(struct account *a)
{
    struct thread_handle *h = kzalloc_in(a, sizeof(*h));
    struct thread_status *st = kzalloc_in(a, sizeof(*st));
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

void thread_handle_attach(struct kobject *handle, struct thread *t)
{
    struct thread_status *st = ((struct thread_handle *)handle)->status;
    st->refs++;
    st->thread = t;
    t->status = st;
}

static void build_exit_code(struct capn_bld *b, void *arg)
{
    ThreadHandle_join_Results_set_exitCode(ThreadHandle_join_Results_build_root(b),
                                           *(int32_t *)arg);
}

/* The thread is ending: answer a pending join. */
static void handle_thread_exit(struct thread *t)
{
    struct thread_status *st = t->status;
    if (!st)
        return;
    t->status = 0;
    st->thread = 0;
    st->exited = true;
    st->exit_code = t->exit_code;
    if (st->waiting) {
        st->waiting = false;
        pending_call_complete_with(st->waiter, build_exit_code, &st->exit_code);
    }
    status_unref(st);
}

const struct kobject_class thread_handle_class = {
    .name = "ThreadHandle",
    .source = KOBJECT_NO_SOURCE,
    .thread_exit = handle_thread_exit,
};
