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
static struct thread *current = &idle_thread;
static struct thread *run_head, *run_tail;
static struct thread *sleepers;
/* A dead thread's stack cannot be freed while it runs on it; the next
 * thread to run frees it. */
static struct thread *reap_pending;
static unsigned live_threads;

struct thread *thread_current(void)
{
    return current;
}

void sched_init(void)
{
    idle_thread.state = THREAD_RUNNING;
    idle_thread.deadline_ns = UINT64_MAX;
    arch_syscall_init(&idle_thread.arch);
}

static void run_enqueue(struct thread *t)
{
    t->state = THREAD_RUNNABLE;
    t->run_next = 0;
    if (run_tail)
        run_tail->run_next = t;
    else
        run_head = t;
    run_tail = t;
}

static struct thread *run_dequeue(void)
{
    struct thread *t = run_head;
    if (t) {
        run_head = t->run_next;
        if (!run_head)
            run_tail = 0;
        t->run_next = 0;
    }
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

static void reap(void)
{
    struct thread *t = reap_pending;
    if (t && t != current) {
        reap_pending = 0;
        struct account *a = t->account;
        kstack_free(t->kstack_top, THREAD_KSTACK_PAGES);
        account_release(a, FL_STACKS, THREAD_KSTACK_PAGES);
        kfree(t); /* may free the account, if this was all it paid for */
    }
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
    next->slice_left = SCHED_SLICE_TICKS;
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
    arch_thread_init_user(&t->arch, t->kstack_top, entry, user_rsp, rdi, rsi, rdx);
    live_threads++;
    run_enqueue(t);
    return t;
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
    /* wake() (now or earlier) appended it; move it to the front. */
    if (run_head != t) {
        struct thread *prev = run_head;
        while (prev && prev->run_next != t)
            prev = prev->run_next;
        if (prev) {
            prev->run_next = t->run_next;
            if (run_tail == t)
                run_tail = prev;
            t->run_next = run_head;
            run_head = t;
        }
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

void sched_tick(bool from_user)
{
    uint64_t now = arch_clock_ns();
    registry_tick(now);
    for (struct thread *t = sleepers, *next; t; t = next) {
        next = t->sleep_next;
        if (t->deadline_ns <= now)
            wake(t, WAKE_TIMEOUT);
    }
    /* Only a thread interrupted in user mode may be preempted: kernel code
     * is never interrupted half-way through changing shared state. */
    if (from_user && current != &idle_thread) {
        process_exit_if_killed();
        ring_poll_irq(current->process);
        if (current->slice_left > 0)
            current->slice_left--;
        if (current->slice_left == 0 && run_head) {
            sched_yield();
            process_exit_if_killed(); /* killed while it waited to run */
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
