/*
 * Timer: the monotonic clock and sleeping.
 *
 * sleep does not block the calling thread inside the kernel: its completion
 * is deferred (the ring keeps a CQ slot for it) and posted by the timer
 * interrupt armed for the earliest deadline, so the process may go on with
 * other work and wait for it with cap_enter like for any other completion.
 */
#include <arch/platform.h>

#include "heap.h"
#include "kcall.h"
#include "kcore/ring.h"
#include "kobject.h"
#include "process.h"
#include "registry.h"
#include "sched.h"

struct sleeper {
    struct pending_call call; /* first: the abandon hook gets this pointer */
    uint64_t deadline_ns;
    struct sleeper *next;
};

static struct sleeper *sleepers; /* unsorted; few at a time */

static void sleeper_remove(struct sleeper *s)
{
    for (struct sleeper **pp = &sleepers; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            return;
        }
    }
}

/* The sleep ended early (its process exited, or cancelled it): nobody will
 * read the completion. */
static void sleeper_abandon(struct pending_call *pc, struct process *caller)
{
    struct sleeper *s = (struct sleeper *)pc;
    sleeper_remove(s);
    kfree(s);
}

static int timer_now(void *self, Timer_now_Params_r params, Timer_now_Results_b results, void *ctx)
{
    Timer_now_Results_set_ns(results, arch_clock_ns());
    return CAPNPC_OK;
}

static int timer_cpu_time(void *self, Timer_cpuTime_Params_r params,
                          Timer_cpuTime_Results_b results, void *ctx)
{
    uint32_t cpus;
    uint64_t now = arch_cycles();
    Timer_cpuTime_Results_set_idleCycles(results, sched_idle_cycles(now, &cpus));
    Timer_cpuTime_Results_set_cycles(results, now);
    Timer_cpuTime_Results_set_cpus(results, cpus);
    return CAPNPC_OK;
}

static int timer_sleep(void *self, Timer_sleep_Params_r params, Timer_sleep_Results_b results,
                       void *ctx)
{
    struct kcall *kc = ctx;
    uint64_t ns = Timer_sleep_Params_get_ns(params);
    struct sleeper *s = kzalloc_in(kc->caller->account, sizeof(*s));
    if (!s)
        return kcall_fail(kc, CapException_Type_overloaded,
                          "sleep: your frame quota cannot pay for another sleeper");
    uint64_t now = arch_clock_ns();
    s->deadline_ns = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
    s->call.abandon = sleeper_abandon;
    s->next = sleepers;
    sleepers = s;
    sched_deadline_added(s->deadline_ns);
    return kcall_defer(kc, &s->call);
}

static uint64_t timer_next_deadline(void)
{
    uint64_t next = UINT64_MAX;
    for (struct sleeper *s = sleepers; s; s = s->next)
        next = s->deadline_ns < next ? s->deadline_ns : next;
    return next;
}

/* Every timer interrupt: complete the sleeps whose time has come. */
static void timer_expire_sleeps(uint64_t now_ns)
{
    for (struct sleeper **pp = &sleepers; *pp;) {
        struct sleeper *s = *pp;
        if (s->deadline_ns <= now_ns) {
            *pp = s->next;
            pending_call_complete(&s->call, 0);
            kfree(s);
        } else {
            pp = &s->next;
        }
    }
}

static const struct Timer_ops timer_ops = {
    .now = timer_now,
    .sleep = timer_sleep,
    .cpuTime = timer_cpu_time,
};

/* Timer.now is the hottest kernel call there is: answered flat
 * (kcall.h), everything else through the general path. */
static int timer_ring_call(struct kobject *obj, struct process *p, const struct cap_entry *e,
                           const struct capos_sqe *sqe, struct capos_cqe *cqe);

KOBJECT_TYPE(timer_type, Timer, timer_ops, .ring_call = timer_ring_call);

static int timer_ring_call(struct kobject *obj, struct process *p, const struct cap_entry *e,
                           const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    if (sqe->method == Timer_now_METHOD && kcall_flat_params(p, sqe, 0, 0)) {
        uint64_t ns = arch_clock_ns();
        kcall_flat_results(p, sqe, cqe, &ns, 1);
        return RING_POST;
    }
    return kcall_execute(p, obj, sqe, cqe) ? RING_POST : RING_DEFER;
}

KOBJECT_SINGLETON(timer, timer, Timer, timer_type, .tick = timer_expire_sleeps,
                  .next_deadline = timer_next_deadline);
