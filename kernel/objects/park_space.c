/*
 * ParkSpace: a futex private to the caller's address space
 * (docs/threads.md). The waiting side is lib/kcore/park.c's table, keyed
 * by (process id, address) compared whole, so no choice of addresses lets
 * one process wake another's waiters. A wait is a deferred completion like
 * Timer.sleep: the waiting thread blocks in cap_enter as for any call.
 *
 * On one CPU nothing can change the word between the check and the park;
 * with several CPUs the bucket lock will cover both.
 */
#include <arch/platform.h>
#include <capos/errors.h>

#include "heap.h"
#include "kcall.h"
#include "kcore/park.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"
#include "sched.h"
#include "usercopy.h"

struct park_wait {
    struct pending_call call; /* first: the abandon hook gets this pointer */
    struct park_waiter waiter;
    uint64_t deadline_ns;    /* UINT64_MAX: none */
    struct park_wait *timed; /* in `timed_waits` when it has a deadline */
};

#define PARK_BUCKETS 256
static struct park_bucket buckets[PARK_BUCKETS];
static struct park_table table = {.buckets = buckets, .mask = PARK_BUCKETS - 1};
static struct park_wait *timed_waits; /* unsorted; few at a time */

static struct park_wait *wait_of(struct park_waiter *w)
{
    return (struct park_wait *)((char *)w - __builtin_offsetof(struct park_wait, waiter));
}

static void untime(struct park_wait *pw)
{
    if (pw->deadline_ns == UINT64_MAX)
        return;
    for (struct park_wait **pp = &timed_waits; *pp; pp = &(*pp)->timed) {
        if (*pp == pw) {
            *pp = pw->timed;
            return;
        }
    }
}

static void build_woken(struct capn_bld *b, void *arg)
{
    ParkSpace_wait_Results_set_woken(ParkSpace_wait_Results_build_root(b), *(bool *)arg);
}

/* Answer a wait that has left the table, and free it. */
static void finish(struct park_wait *pw, bool woken)
{
    untime(pw);
    pending_call_complete_with(&pw->call, build_woken, &woken);
    kfree(pw);
}

/* The waiting thread ended or cancelled: nobody reads the answer. */
static void wait_abandon(struct pending_call *pc, struct process *caller)
{
    struct park_wait *pw = (struct park_wait *)pc;
    park_remove(&table, &pw->waiter);
    untime(pw);
    kfree(pw);
}

static int space_wait(void *self, ParkSpace_wait_Params_r params, ParkSpace_wait_Results_b results,
                      void *ctx)
{
    struct kcall *kc = ctx;
    struct process *p = kc->caller;
    uint64_t addr = ParkSpace_wait_Params_get_addr(params);
    uint64_t timeout = ParkSpace_wait_Params_get_timeoutNs(params);
    if (addr & 3)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wait: addr must be 4-byte aligned");
    uint32_t now_value;
    if (copy_from_user(p, &now_value, addr, sizeof(now_value)) != 0)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wait: addr is not readable memory of yours");
    if (now_value != ParkSpace_wait_Params_get_expected(params)) {
        ParkSpace_wait_Results_set_woken(results, false);
        return CAPNPC_OK;
    }
    struct park_wait *pw = kzalloc_in(p->account, sizeof(*pw));
    if (!pw)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "ParkSpace.wait: your frame quota cannot pay for another waiter");
    pw->call.abandon = wait_abandon;
    pw->deadline_ns = UINT64_MAX;
    if (timeout) {
        uint64_t now = arch_clock_ns();
        pw->deadline_ns = timeout > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + timeout;
        pw->timed = timed_waits;
        timed_waits = pw;
        sched_deadline_added(pw->deadline_ns);
    }
    park_enqueue(&table, &pw->waiter, park_key(p->pid, addr));
    return kcall_defer(kc, &pw->call);
}

static void woken(void *ctx, struct park_waiter *w)
{
    finish(wait_of(w), true);
}

static int space_wake(void *self, ParkSpace_wake_Params_r params, ParkSpace_wake_Results_b results,
                      void *ctx)
{
    struct kcall *kc = ctx;
    uint64_t addr = ParkSpace_wake_Params_get_addr(params);
    if (addr & 3)
        return kcall_fail(kc, CapException_Type_invalidArgument,
                          "ParkSpace.wake: addr must be 4-byte aligned");
    uint32_t n = park_wake(&table, park_key(kc->caller->pid, addr),
                           ParkSpace_wake_Params_get_count(params), woken, 0);
    ParkSpace_wake_Results_set_woken(results, n);
    return CAPNPC_OK;
}

static uint64_t park_next_deadline(void)
{
    uint64_t next = UINT64_MAX;
    for (struct park_wait *pw = timed_waits; pw; pw = pw->timed)
        next = pw->deadline_ns < next ? pw->deadline_ns : next;
    return next;
}

/* Every timer interrupt: end the waits whose time has come. */
static void park_expire(uint64_t now_ns)
{
    for (struct park_wait **pp = &timed_waits; *pp;) {
        struct park_wait *pw = *pp;
        if (pw->deadline_ns <= now_ns) {
            *pp = pw->timed;
            pw->deadline_ns = UINT64_MAX; /* off the list already */
            park_remove(&table, &pw->waiter);
            finish(pw, false);
        } else {
            pp = &pw->timed;
        }
    }
}

static const struct ParkSpace_ops park_ops = {.wait = space_wait, .wake = space_wake};

KOBJECT_TYPE(park_type, ParkSpace, park_ops);

KOBJECT_SINGLETON(park_space, park, ParkSpace, park_type, .tick = park_expire,
                  .next_deadline = park_next_deadline);
