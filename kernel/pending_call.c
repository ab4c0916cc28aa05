/* Pending calls (pending_call.h). */
#include "pending_call.h"
#include "hotpath.h"

#include <capos/errors.h>

#include "kcall.h"
#include "process.h"
#include "sched.h"
#include "tap.h"
#include "thread.h"

/* SQEs are only ever consumed on the thread that owns the ring (its
 * cap_enter, or the tick that interrupted it), so the running thread is
 * the one the answer must go back to. */
void pending_call_start(struct pending_call *pc, struct process *p, const struct capos_sqe *sqe)
{
    struct thread *t = thread_current();
    pc->caller = p;
    pc->thread = t;
    pc->user_data = sqe->user_data;
    pc->result_addr = sqe->result_addr;
    pc->result_len = sqe->result_len;
    pc->prev = 0;
    pc->next = t->pending_calls;
    if (pc->next)
        pc->next->prev = pc;
    t->pending_calls = pc;
}

static void unlink_call(struct pending_call *pc)
{
    if (pc->prev)
        pc->prev->next = pc->next;
    else
        pc->thread->pending_calls = pc->next;
    if (pc->next)
        pc->next->prev = pc->prev;
    pc->next = pc->prev = 0;
}

void pending_calls_abandon(struct thread *t, struct process *p)
{
    for (struct pending_call *pc = t->pending_calls, *next; pc; pc = next) {
        next = pc->next;
        pc->caller = 0;
        pc->thread = 0;
        pc->next = pc->prev = 0;
        /* Last: the hook may free pc. */
        if (pc->abandon)
            pc->abandon(pc, p);
    }
    t->pending_calls = 0;
}

int pending_call_cancel(struct process *p, uint64_t user_data)
{
    /* The list is newest first: the earliest match is the last one. */
    struct pending_call *found = 0;
    for (struct pending_call *pc = thread_current()->pending_calls; pc; pc = pc->next)
        if (pc->user_data == user_data)
            found = pc;
    if (!found)
        return CAPOS_E_NOT_FOUND;
    /* Its completion goes into the CQ slot reserved for it, so posting
     * cannot fail; then the owner lets go of it (the hook may free it). */
    struct capos_cqe cqe = {.result = CAPOS_E_CANCELLED};
    void (*abandon)(struct pending_call *, struct process *) = found->abandon;
    pending_call_post(found, &cqe);
    if (abandon)
        abandon(found, p);
    return 0;
}

FAST_PATH struct thread *pending_call_post_quiet(struct pending_call *pc, struct capos_cqe *cqe)
{
    struct process *p = pc->caller;
    struct thread *t = pc->thread;
    cqe->user_data = pc->user_data;
    unlink_call(pc);
    pc->caller = 0;
    pc->thread = 0;
    ring_post_reserved(t->ring, &t->ring_state, cqe);
    if (tap_enabled)
        tap_cqe(p, cqe);
    return t;
}

static void post(struct pending_call *pc, struct capos_cqe *cqe, bool handoff)
{
    thread_notify_completion(pending_call_post_quiet(pc, cqe), handoff);
}

void pending_call_post(struct pending_call *pc, struct capos_cqe *cqe)
{
    post(pc, cqe, false);
}

void pending_call_post_handoff(struct pending_call *pc, struct capos_cqe *cqe)
{
    post(pc, cqe, true);
}

void pending_call_complete(struct pending_call *pc, int32_t result)
{
    if (!pc->caller)
        return;
    struct capos_cqe cqe = {.result = result};
    pending_call_post(pc, &cqe);
}

/* Complete with what a writer put in the caller's result buffer: rc and
 * the length written. */
static void complete_written(struct pending_call *pc, int rc, uint32_t len, bool handoff)
{
    struct capos_cqe cqe = {.result = rc, .result_len = len};
    post(pc, &cqe, handoff);
}

void pending_call_complete_with(struct pending_call *pc, pending_build_fn build, void *arg)
{
    if (!pc->caller)
        return;
    uint32_t len = 0;
    int rc = kcall_write_results(pc->caller, pc->result_addr, pc->result_len, build, arg, &len);
    complete_written(pc, rc, len, false);
}

/* Inlined (link-time) into the park fast path, as its other steps are. */
inline __attribute__((always_inline)) struct thread *
pending_call_complete_flat_quiet(struct pending_call *pc, const uint64_t *words, uint32_t n)
{
    uint32_t len = 0;
    int rc = kcall_write_flat(pc->caller, pc->result_addr, pc->result_len, words, n, &len);
    struct capos_cqe cqe = {.result = rc, .result_len = len};
    return pending_call_post_quiet(pc, &cqe);
}

void pending_call_complete_flat(struct pending_call *pc, const uint64_t *words, uint32_t n,
                                bool handoff)
{
    if (!pc->caller)
        return;
    thread_notify_completion(pending_call_complete_flat_quiet(pc, words, n), handoff);
}
