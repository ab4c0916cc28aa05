/* Round-robin scheduler, blocking with deadlines, and thread lifetimes. */
#include "sched.h"

#include <arch/platform.h>
#include <arch/trap.h>

#include "account.h"
#include "heap.h"
#include "kprintf.h"
#include "memory.h"
#include "process.h"
#include "registry.h"
#include "ringops.h"

static struct thread idle_thread;
/* The running thread (sched.h: thread_current). One CPU runs threads. */
struct thread *sched_current = &idle_thread;
#define current sched_current
static struct thread *run_head, *run_tail;
static struct thread *sleepers;
/* A dead thread's stack cannot be freed while it runs on it; the next
 * thread to run frees it. */
static struct thread *reap_pending;
static unsigned live_threads;
/* What the timer is armed for (UINT64_MAX: nothing), in deadline mode. */
static bool deadline_mode;
static uint64_t armed = UINT64_MAX;

void sched_init(void)
{
    idle_thread.state = THREAD_RUNNING;
    idle_thread.deadline_ns = UINT64_MAX;
    arch_syscall_init(&idle_thread.arch);
}

/* The run queue: a doubly linked FIFO, every operation O(1). */
static void run_enqueue(struct thread *t)
{
    t->state = THREAD_RUNNABLE;
    t->run_next = 0;
    t->run_prev = run_tail;
    if (run_tail)
        run_tail->run_next = t;
    else
        run_head = t;
    run_tail = t;
}

static void run_push_front(struct thread *t)
{
    t->state = THREAD_RUNNABLE;
    t->run_prev = 0;
    t->run_next = run_head;
    if (run_head)
        run_head->run_prev = t;
    else
        run_tail = t;
    run_head = t;
}

static void run_unlink(struct thread *t)
{
    if (t->run_prev)
        t->run_prev->run_next = t->run_next;
    else
        run_head = t->run_next;
    if (t->run_next)
        t->run_next->run_prev = t->run_prev;
    else
        run_tail = t->run_prev;
    t->run_next = t->run_prev = 0;
}

static struct thread *run_dequeue(void)
{
    struct thread *t = run_head;
    if (t)
        run_unlink(t);
    return t;
}

static void sleepers_remove(struct thread *t)
{
    for (struct thread **p = &sleepers; *p; p = &(*p)->sleep_next) {
        if (*p == t) {
            *p = t->sleep_next;
            t->sleep_next = 0;
            return;
        }
    }
}

static void thread_free(struct thread *t);

__attribute__((noinline)) static void reap_slow(void)
{
    struct thread *t = reap_pending;
    if (t != current) {
        reap_pending = 0;
        thread_free(t);
    }
}

/* Free a dead thread's stack once off it; nearly always nothing to do. */
static inline void reap(void)
{
    if (__builtin_expect(reap_pending != 0, 0))
        reap_slow();
}

/* Switch to the next runnable thread, or to idle when there is none. The
 * caller has already put `current` where it belongs (queue, blocked, dead). */
static void schedule(void)
{
    struct thread *prev = current;
    struct thread *next = run_dequeue();
    if (!next)
        next = &idle_thread;
    if (next == prev) {
        prev->state = THREAD_RUNNING;
        return;
    }
    next->state = THREAD_RUNNING;
    /* A handoff runs on the donor's slice; anyone else starts afresh (and
     * leaving idle, makes sure a tick is coming). */
    if (!next->donated) {
        uint64_t now = arch_clock_ns();
        next->slice_end_ns = now + SCHED_SLICE_NS;
        if (prev == &idle_thread && armed > now + SCHED_TICK_NS)
            sched_deadline_added(now + SCHED_TICK_NS);
    }
    next->donated = false;
    current = next;
    arch_switch(&prev->arch, &next->arch, next->process ? process_vmspace(next->process) : 0);
    /* Back on prev's stack: whoever switched to us may have left a dead
     * thread behind. */
    reap();
}

struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t user_rsp,
                                  uint64_t rdi, uint64_t rsi, uint64_t rdx)
{
    struct thread *t = kzalloc_in(p->account, sizeof(*t));
    if (!t)
        return 0;
    if (!account_charge(p->account, FL_STACKS, THREAD_KSTACK_PAGES)) {
        kfree(t);
        return 0;
    }
    t->kstack_top = kstack_alloc(THREAD_KSTACK_PAGES);
    if (!t->kstack_top) {
        account_release(p->account, FL_STACKS, THREAD_KSTACK_PAGES);
        kfree(t);
        return 0;
    }
    t->account = p->account;
    t->process = p;
    t->deadline_ns = UINT64_MAX;
    t->state = THREAD_NEW;
    arch_thread_init_user(&t->arch, t->kstack_top, entry, user_rsp, rdi, rsi, rdx);
    live_threads++;
    return t;
}

void sched_start(struct thread *t)
{
    run_enqueue(t);
}

static void thread_free(struct thread *t)
{
    struct account *a = t->account;
    kstack_free(t->kstack_top, THREAD_KSTACK_PAGES);
    account_release(a, FL_STACKS, THREAD_KSTACK_PAGES);
    kfree(t); /* may free the account, if this was all it paid for */
}

void sched_discard(struct thread *t)
{
    if (t->state == THREAD_RUNNABLE)
        run_unlink(t);
    else if (t->state == THREAD_BLOCKED && t->deadline_ns != UINT64_MAX)
        sleepers_remove(t);
    t->state = THREAD_DEAD;
    live_threads--;
    /* It is suspended in arch_switch (or never ran): nothing runs on its
     * stack, which can go now. */
    thread_free(t);
}

enum wake_reason sched_block(uint64_t deadline_ns)
{
    struct thread *t = current;
    t->state = THREAD_BLOCKED;
    t->wake_reason = WAKE_NONE;
    t->deadline_ns = deadline_ns;
    if (deadline_ns != UINT64_MAX) {
        t->sleep_next = sleepers;
        sleepers = t;
        sched_deadline_added(deadline_ns);
    }
    schedule();
    return t->wake_reason;
}

static void wake(struct thread *t, enum wake_reason why)
{
    if (t->state != THREAD_BLOCKED)
        return;
    if (t->deadline_ns != UINT64_MAX)
        sleepers_remove(t);
    t->deadline_ns = UINT64_MAX;
    t->wake_reason = why;
    run_enqueue(t);
}

void sched_wake(struct thread *t)
{
    wake(t, WAKE_SIGNALLED);
}

void sched_wake_next(struct thread *t)
{
    wake(t, WAKE_SIGNALLED);
    if (t->state != THREAD_RUNNABLE)
        return;
    /* wake() (now or earlier) queued it; move it to the front (alone in
     * the queue, the common case, it is there already). */
    if (run_head != t) {
        run_unlink(t);
        run_push_front(t);
    }
    if (current != &idle_thread) {
        t->slice_end_ns = current->slice_end_ns;
        t->donated = true;
    }
}

void sched_yield(void)
{
    if (current != &idle_thread)
        run_enqueue(current);
    schedule();
}

void sched_exit_thread(void)
{
    struct thread *t = current;
    if (t->deadline_ns != UINT64_MAX)
        sleepers_remove(t);
    t->state = THREAD_DEAD;
    live_threads--;
    /* At most one thread can be pending: it is reaped by the very next
     * thread that runs, before that thread can exit itself. */
    reap();
    reap_pending = t;
    schedule();
    __builtin_unreachable();
}

void sched_deadline_added(uint64_t deadline_ns)
{
    if (deadline_mode && deadline_ns < armed) {
        armed = deadline_ns;
        arch_timer_arm(deadline_ns);
    }
}

void sched_start_deadlines(void)
{
    deadline_mode = arch_timer_deadline_mode();
    armed = UINT64_MAX;
}

/* Arm the timer for the next thing to do after `now`: the earliest
 * deadline (sleeping threads, the registry's classes), and a tick while
 * any thread is running or runnable. */
static void rearm(uint64_t now, bool busy)
{
    if (!deadline_mode)
        return;
    uint64_t next = registry_next_deadline();
    for (struct thread *t = sleepers; t; t = t->sleep_next)
        next = t->deadline_ns < next ? t->deadline_ns : next;
    if (busy && now + SCHED_TICK_NS < next)
        next = now + SCHED_TICK_NS;
    armed = next;
    arch_timer_arm(next);
}

void sched_tick(bool from_user)
{
    uint64_t now = arch_clock_ns();
    registry_tick(now);
    for (struct thread *t = sleepers, *next; t; t = next) {
        next = t->sleep_next;
        if (t->deadline_ns <= now)
            wake(t, WAKE_TIMEOUT);
    }
    rearm(now, current != &idle_thread || run_head);
    /* Only a thread interrupted in user mode may be preempted: kernel code
     * is never interrupted half-way through changing shared state. */
    if (from_user && current != &idle_thread) {
        process_exit_if_killed(current->process);
        ring_poll_irq(current);
        if (now >= current->slice_end_ns && run_head) {
            sched_yield();
            process_exit_if_killed(current->process); /* killed while it waited */
        }
    }
}

void sched_run_until_idle(void)
{
    /* The idle thread runs with interrupts enabled only while halted. */
    while (live_threads > 0) {
        if (run_head) {
            schedule();
            continue;
        }
        arch_wait_for_interrupt();
        arch_interrupts_disable();
    }
    reap();
}
