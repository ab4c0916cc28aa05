/*
 * Timer: the monotonic clock and sleeping.
 *
 * sleep does not block the calling thread inside the kernel: its completion
 * is deferred (the ring keeps a CQ slot for it) and posted by the tick
 * after the deadline, so the process may go on with other work and wait
 * for it with cap_enter like for any other completion.
 */
#include <arch/platform.h>

#include "heap.h"
#include "kcall.h"
#include "kobject.h"
#include "objects/objects.h"
#include "process.h"

struct sleeper {
    struct kcall_token token;
    uint64_t deadline_ns;
    struct sleeper *next;
};

static struct sleeper *sleepers; /* unsorted; few at a time */

static int timer_now(void *self, Timer_now_Params_r params, Timer_now_Results_b results, void *ctx)
{
    Timer_now_Results_set_ns(results, arch_clock_ns());
    return CAPNPC_OK;
}

static int timer_sleep(void *self, Timer_sleep_Params_r params, Timer_sleep_Results_b results,
                       void *ctx)
{
    struct kcall *kc = ctx;
    uint64_t ns = Timer_sleep_Params_get_ns(params);
    if (!kcall_params_ok(kc))
        return CAPNPC_OK;
    struct sleeper *s = kzalloc(sizeof(*s));
    if (!s)
        return kcall_fail(kc, CapException_Type_overloaded, "no memory for another sleeper");
    uint64_t now = arch_clock_ns();
    s->deadline_ns = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
    s->next = sleepers;
    sleepers = s;
    return kcall_defer(kc, &s->token);
}

void timer_expire(uint64_t now_ns)
{
    for (struct sleeper **pp = &sleepers; *pp;) {
        struct sleeper *s = *pp;
        if (s->deadline_ns <= now_ns) {
            *pp = s->next;
            kcall_complete_deferred(&s->token, 0);
            kfree(s);
        } else {
            pp = &s->next;
        }
    }
}

void timer_cancel_process(struct process *p)
{
    /* Runs before kcall_process_exit, while the tokens still name p. */
    for (struct sleeper **pp = &sleepers; *pp;) {
        struct sleeper *s = *pp;
        if (s->token.caller == p) {
            *pp = s->next;
            kfree(s);
        } else {
            pp = &s->next;
        }
    }
}

static const struct Timer_ops timer_ops = {
    .now = timer_now,
    .sleep = timer_sleep,
};

static int timer_call(struct kobject *obj, struct kcall *kc)
{
    return Timer_dispatch(&timer_ops, obj, kc->sqe->method, &kc->params, &kc->results, kc);
}

static const struct kobject_type timer_type = {
    .name = "Timer",
    .iface = &Timer_IFACE,
    .call = timer_call,
};

static struct kobject timer = {.type = &timer_type, .refs = 1};

struct kobject *timer_object(void)
{
    return &timer;
}
