/*
 * Round-robin scheduling on every CPU, blocking with deadlines, and thread
 * lifetimes (sched.h, docs/scheduling.md, docs/smp.md).
 *
 * Everything here is guarded by the kernel lock, which the running CPU
 * holds whenever it runs this code; only the idle loop lets go of it, to
 * halt. A thread that is not running is in exactly one place: a CPU's run
 * queue, the blocked set (and the sleepers list if it has a deadline), or
 * nowhere yet (new).
 */
#include "sched.h"
#include "hotpath.h"

#include <arch/cpu.h>
#include <arch/platform.h>
#include <arch/smp.h>
#include <arch/tlb.h>
#include <arch/trap.h>

#include "account.h"
#include "heap.h"
#include "kprintf.h"
#include "memory.h"
#include "percpu.h"
#include "process.h"
#include "registry.h"
#include "ringops.h"
#include "smp.h"
#include "spinlock.h"

#include "test_hooks.h"

HOT_DATA struct percpu percpu_of[SMP_MAX_CPUS];
static struct thread idle_of[SMP_MAX_CPUS];
/* Threads blocked with a deadline, on any CPU: whichever CPU's timer
 * fires first wakes them (each CPU arms its timer for the earliest). */
static struct thread *sleepers;
static unsigned live_threads;
/* CPUs that take part, as indices 0 .. ncpus-1 (set once each joins). */
HOT_DATA static uint32_t ncpus = 1;
/* The timer interrupts only when armed (per CPU: percpu.armed). */
static bool deadline_mode;
/* Set by the boot CPU once it holds the kernel lock: the others may join. */
static uint32_t scheduling_started;

static void idle_init(struct percpu *c, uint32_t cpu)
{
    struct thread *idle = &idle_of[cpu];
    idle->state = THREAD_RUNNING;
    idle->deadline_ns = UINT64_MAX;
    idle->cpu = cpu;
    c->idle = idle;
    c->arch.current = idle;
    c->armed = UINT64_MAX;
}

void percpu_init_boot(void)
{
    arch_percpu_install(&percpu_of[0].arch, 0);
    idle_init(&percpu_of[0], 0);
}

void sched_init(void)
{
    kernel_lock_elide_if_alone(smp_cpus_online() == 1);
    kernel_lock_enter();
    percpu_of[0].online = true;
    /* From now on the timer fires only for deadlines and, while a thread
     * runs, every SCHED_TICK_NS (docs/scheduling.md). */
    deadline_mode = arch_timer_deadline_mode();
    __atomic_store_n(&scheduling_started, 1, __ATOMIC_RELEASE);
}

/* ---- Run queues: doubly linked FIFOs, one per CPU, every operation O(1) ---- */

static void run_enqueue(struct percpu *c, struct thread *t)
{
    t->state = THREAD_RUNNABLE;
    t->cpu = c->arch.cpu;
    t->run_next = 0;
    t->run_prev = c->run_tail;
    if (c->run_tail)
        c->run_tail->run_next = t;
    else
        c->run_head = t;
    c->run_tail = t;
    c->queued++;
}

static void run_push_front(struct percpu *c, struct thread *t)
{
    t->state = THREAD_RUNNABLE;
    t->cpu = c->arch.cpu;
    t->run_prev = 0;
    t->run_next = c->run_head;
    if (c->run_head)
        c->run_head->run_prev = t;
    else
        c->run_tail = t;
    c->run_head = t;
    c->queued++;
}

static void run_unlink(struct thread *t)
{
    struct percpu *c = &percpu_of[t->cpu];
    if (t->run_prev)
        t->run_prev->run_next = t->run_next;
    else
        c->run_head = t->run_next;
    if (t->run_next)
        t->run_next->run_prev = t->run_prev;
    else
        c->run_tail = t->run_prev;
    t->run_next = t->run_prev = 0;
    c->queued--;
}

/* Idle: running its idle thread with nothing queued. */
static bool cpu_idle(const struct percpu *c)
{
    return c->online && c->arch.current == c->idle && !c->run_head;
}

/* The CPU a thread becoming runnable goes to: the one it last ran on if
 * that is idle (its cache may still be warm), else any idle one, else the
 * one it last ran on anyway. */
static struct percpu *place(const struct thread *t)
{
    struct percpu *home = &percpu_of[t->cpu];
    if (cpu_idle(home))
        return home;
    for (uint32_t i = 0; i < ncpus; i++)
        if (cpu_idle(&percpu_of[i]))
            return &percpu_of[i];
    return home->online ? home : percpu_this();
}

static void make_runnable(struct thread *t)
{
    struct percpu *c = place(t);
    run_enqueue(c, t);
    /* An idle CPU is halted, or about to be: the IPI ends the halt (one
     * sent just before its sti;hlt is held pending and ends it at once;
     * tests/spin/smp.pml checks that no wake-up is lost). A busy CPU finds
     * the thread at its next switch. */
    if (c != percpu_this() && c->arch.current == c->idle)
        arch_cpu_kick(c->arch.cpu);
}

/* Threads wait in this CPU's queue while another CPU idles (after a
 * handoff pulled a thread here, or several were woken here by RETURNs):
 * wake an idle CPU, whose idle loop steals one. An idle CPU halts, so it
 * would not look by itself. */
static void kick_an_idle_cpu(const struct percpu *self)
{
    for (uint32_t i = 0; i < ncpus; i++) {
        struct percpu *c = &percpu_of[i];
        if (c != self && cpu_idle(c)) {
            arch_cpu_kick(c->arch.cpu);
            return;
        }
    }
}

/* An idle CPU takes the newest thread of the longest other queue. */
static struct thread *steal(struct percpu *self)
{
    struct percpu *victim = 0;
    for (uint32_t i = 0; i < ncpus; i++) {
        struct percpu *v = &percpu_of[i];
        if (v != self && v->queued && (!victim || v->queued > victim->queued))
            victim = v;
    }
    if (!victim)
        return 0;
    struct thread *t = victim->run_tail;
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

__attribute__((noinline)) static void reap_slow(struct percpu *c)
{
    struct thread *t = c->reap_pending;
    if (t != thread_current()) {
        c->reap_pending = 0;
        thread_free(t);
    }
}

/* Free a dead thread's stack once this CPU is off it; nearly always
 * nothing to do. */
static inline void reap(void)
{
    struct percpu *c = percpu_this();
    if (__builtin_expect(c->reap_pending != 0, 0))
        reap_slow(c);
}

/* Run next (off every queue, not prev) in place of prev on this CPU.
 * handoff (a constant): prev is a thread handing its slice to next
 * (sched_block_handoff), so neither is idle and next's slice is set. */
__attribute__((always_inline)) static inline void switch_to(struct percpu *c, struct thread *prev,
                                                            struct thread *next, bool handoff)
{
    /* Others still wait here: another CPU may be idle. (Not after the
     * usual IPC handoff: its queue held only the thread handed to.) */
    if (__builtin_expect(c->run_head != 0, 0) && ncpus > 1)
        kick_an_idle_cpu(c);
    next->state = THREAD_RUNNING;
    next->cpu = c->arch.cpu;
    /* A handoff runs on the donor's slice; anyone else starts afresh. And
     * leaving idle makes sure a tick is coming, whoever runs: an idle CPU
     * may have let its timer go (rearm), and a thread with a donated
     * slice gets here from idle too when this CPU stole it from the
     * donor's queue. Without the tick nothing would ever preempt it: the
     * SMP benchmark hung under host load with one CPU running a spinner,
     * another thread in its queue and its timer disarmed. */
    if (!handoff && (!next->donated || prev == c->idle)) {
        uint64_t now = arch_clock_ns();
        if (!next->donated)
            next->slice_end_ns = now + SCHED_SLICE_NS;
        if (prev == c->idle && c->armed > now + SCHED_TICK_NS)
            sched_deadline_added(now + SCHED_TICK_NS);
    }
    /* Test kernels: a CPU that runs a thread has a tick coming, or
     * nothing would ever preempt it (with the steal above missing its
     * tick, qemu-smp-stress stops here). */
    if (CAPOS_TEST_HOOKS && deadline_mode && next != c->idle && c->armed == UINT64_MAX)
        panic("sched: CPU %u switches to thread %p with its timer disarmed: nothing would "
              "preempt it",
              c->arch.cpu, (void *)next);
    next->donated = false;
    c->arch.current = next;
    arch_switch(&prev->arch, &next->arch, next->process ? process_vmspace(next->process) : 0);
    /* Back on prev's stack, maybe on another CPU: whoever switched to us
     * may have left a dead thread behind. */
    reap();
}

/* Switch to the next runnable thread: this CPU's queue first, then one
 * stolen from another, else the idle thread. The caller has already put
 * the running thread where it belongs (queue, blocked, dead). */
static void schedule(void)
{
    struct percpu *c = percpu_this();
    struct thread *prev = c->arch.current;
    struct thread *next = c->run_head;
    if (next)
        run_unlink(next);
    else if (!(next = steal(c)))
        next = c->idle;
    if (next == prev) {
        prev->state = THREAD_RUNNING;
        return;
    }
    switch_to(c, prev, next, false);
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
    t->cpu = cpu_index();
    arch_thread_init_user(&t->arch, t->kstack_top, entry, user_rsp, rdi, rsi, rdx);
    live_threads++;
    return t;
}

void sched_start(struct thread *t)
{
    make_runnable(t);
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
    if (t->state == THREAD_RUNNING)
        panic("sched: discarding thread %p, which runs on CPU %u", (void *)t, t->cpu);
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
    lockcheck_blocking_point(LOCK_SITE);
    struct thread *t = thread_current();
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

/* Take a blocked thread out of the blocked set; false if it was not
 * blocked (already woken, or running). */
static bool unblock(struct thread *t, enum wake_reason why)
{
    if (t->state != THREAD_BLOCKED)
        return false;
    if (t->deadline_ns != UINT64_MAX)
        sleepers_remove(t);
    t->deadline_ns = UINT64_MAX;
    t->wake_reason = why;
    return true;
}

void sched_wake(struct thread *t)
{
    if (unblock(t, WAKE_SIGNALLED))
        make_runnable(t);
}

void sched_wake_next(struct thread *t)
{
    struct percpu *c = percpu_this();
    if (unblock(t, WAKE_SIGNALLED)) {
        run_push_front(c, t);
    } else if (t->state == THREAD_RUNNABLE && c->run_head != t) {
        /* Woken earlier, maybe onto another CPU's queue: pull it here, to
         * the front (alone in the queue, the common case, it is there). */
        run_unlink(t);
        run_push_front(c, t);
    } else if (t->state != THREAD_RUNNABLE) {
        return;
    }
    struct thread *donor = thread_current();
    if (donor != c->idle) {
        t->slice_end_ns = donor->slice_end_ns;
        t->donated = true;
    }
}

void sched_block_handoff(struct thread *next)
{
    lockcheck_blocking_point(LOCK_SITE);
    struct thread *t = thread_current();
    t->state = THREAD_BLOCKED;
    t->wake_reason = WAKE_NONE;
    t->deadline_ns = UINT64_MAX;
    if (!unblock(next, WAKE_SIGNALLED))
        panic("sched: handoff to thread %p, which is not blocked", (void *)next);
    /* sched_wake_next's donation (the running thread is never idle here:
     * it is in cap_enter). */
    next->slice_end_ns = t->slice_end_ns;
    next->donated = true;
    switch_to(percpu_this(), t, next, true);
}

void sched_yield(void)
{
    struct percpu *c = percpu_this();
    struct thread *t = thread_current();
    if (t != c->idle)
        run_enqueue(c, t);
    schedule();
}

void sched_kick_running(struct thread *t)
{
    if (t->state == THREAD_RUNNING && t->cpu != cpu_index())
        arch_cpu_kick(t->cpu);
}

void sched_exit_thread(void)
{
    lockcheck_blocking_point(LOCK_SITE);
    struct thread *t = thread_current();
    if (t->deadline_ns != UINT64_MAX)
        sleepers_remove(t);
    t->state = THREAD_DEAD;
    /* The boot CPU waits in its idle loop for the last thread to end. */
    if (--live_threads == 0 && cpu_index() != 0)
        arch_cpu_kick(0);
    /* At most one thread per CPU can be pending: it is reaped by the very
     * next thread to run here, before that thread can exit itself. */
    reap();
    percpu_this()->reap_pending = t;
    schedule();
    __builtin_unreachable();
}

void sched_deadline_added(uint64_t deadline_ns)
{
    struct percpu *c = percpu_this();
    if (deadline_mode && deadline_ns < c->armed) {
        c->armed = deadline_ns;
        arch_timer_arm(deadline_ns);
    }
}

/* Arm this CPU's timer for the next thing to do after `now`: the earliest
 * deadline (sleeping threads, the registry's classes), and a tick while
 * this CPU has a thread running or runnable. */
static void rearm(struct percpu *c, uint64_t now, bool busy)
{
    if (!deadline_mode)
        return;
    uint64_t next = registry_next_deadline();
    for (struct thread *t = sleepers; t; t = t->sleep_next)
        next = t->deadline_ns < next ? t->deadline_ns : next;
    if (busy && now + SCHED_TICK_NS < next)
        next = now + SCHED_TICK_NS;
    c->armed = next;
    arch_timer_arm(next);
}

void sched_tick(bool from_user)
{
    struct percpu *c = percpu_this();
    uint64_t now = arch_clock_ns();
    registry_tick(now);
    for (struct thread *t = sleepers, *next; t; t = next) {
        next = t->sleep_next;
        if (t->deadline_ns <= now && unblock(t, WAKE_TIMEOUT))
            make_runnable(t);
    }
    struct thread *t = thread_current();
    rearm(c, now, t != c->idle || c->run_head);
    /* Only a thread interrupted in user mode may be preempted: kernel code
     * is never interrupted half-way through changing shared state. */
    if (from_user && t != c->idle) {
        process_exit_if_killed(t->process);
        ring_poll_irq(t);
        /* A slice ends at the tick nearest its end, not the first one
         * after it: a slice starts a little after a tick (when the thread
         * before it yielded) and the tick that ends it is seen a little
         * late (whatever the thread was doing in the kernel when it came
         * due), and which of the two little delays is longer decided
         * whether a slice lasted two ticks or three, by thread: CPU-bound
         * processes got 10 % more than an IPC pair beside them. */
        if (now + SCHED_TICK_NS / 2 >= t->slice_end_ns && c->run_head) {
            sched_yield();
            process_exit_if_killed(thread_current()->process); /* killed while it waited */
        }
    }
}

/* Whether another CPU's queue has a thread to steal. */
static bool others_queued(const struct percpu *self)
{
    for (uint32_t i = 0; i < ncpus; i++)
        if (&percpu_of[i] != self && percpu_of[i].queued)
            return true;
    return false;
}

/* Idle time: a halt is timed from just before `hlt` to the first thing
 * after it, which is the interrupt that ended it (trap_dispatch calls
 * sched_halt_end before anything else), so the handler's work counts as
 * busy. rdtsc is read only here, never on the way to user mode. */
static void idle_seq_bump(struct percpu *c)
{
    __atomic_store_n(&c->idle_seq, c->idle_seq + 1, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void halt_begin(struct percpu *c)
{
    idle_seq_bump(c);
    __atomic_store_n(&c->halted_at, arch_cycles(), __ATOMIC_RELAXED);
    idle_seq_bump(c);
}

void sched_halt_end(void)
{
    struct percpu *c = percpu_this();
    if (!c->halted_at)
        return;
    uint64_t now = arch_cycles();
    idle_seq_bump(c);
    if (now > c->halted_at)
        __atomic_store_n(&c->idle_cycles, c->idle_cycles + (now - c->halted_at), __ATOMIC_RELAXED);
    __atomic_store_n(&c->halted_at, 0, __ATOMIC_RELAXED);
    idle_seq_bump(c);
}

uint64_t sched_idle_cycles(uint64_t now, uint32_t *cpus)
{
    uint64_t total = 0;
    uint32_t online = 0;
    for (uint32_t i = 0; i < ncpus; i++) {
        struct percpu *c = &percpu_of[i];
        if (!c->online)
            continue;
        uint32_t seq;
        uint64_t idle, since;
        do {
            while ((seq = __atomic_load_n(&c->idle_seq, __ATOMIC_ACQUIRE)) & 1)
                cpu_pause();
            idle = __atomic_load_n(&c->idle_cycles, __ATOMIC_RELAXED);
            since = __atomic_load_n(&c->halted_at, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
        } while (__atomic_load_n(&c->idle_seq, __ATOMIC_RELAXED) != seq);
        total += idle + (since && now > since ? now - since : 0);
        online++;
    }
    *cpus = online;
    return total;
}

/* Run threads; with nothing to run, halt until an interrupt (the kernel
 * lock is let go for the halt). `until_no_threads`: return once no thread
 * is left (the boot CPU). */
static void idle_loop(bool until_no_threads)
{
    for (;;) {
        struct percpu *c = percpu_this();
        if (until_no_threads && live_threads == 0)
            return;
        if (c->run_head || others_queued(c)) {
            schedule();
            continue;
        }
        kernel_lock_leave();
        halt_begin(c);
        arch_wait_for_interrupt();
        arch_interrupts_disable();
        sched_halt_end(); /* if no interrupt handler ended it */
        kernel_lock_enter();
    }
}

void sched_run_until_idle(void)
{
    idle_loop(true);
    reap();
}

void sched_cpu_run(uint32_t cpu)
{
    struct percpu *c = &percpu_of[cpu];
    arch_percpu_install(&c->arch, cpu);
    idle_init(c, cpu);
    while (!__atomic_load_n(&scheduling_started, __ATOMIC_ACQUIRE))
        cpu_pause();
    /* Without a one-shot LAPIC timer nothing would preempt its threads. */
    if (!deadline_mode || !arch_timer_start_cpu()) {
        kprintf("smp: CPU %u stays parked: its LAPIC timer has no one-shot mode\n", cpu);
        for (;;)
            arch_wait_for_interrupt();
    }
    kernel_lock_enter();
    /* Kernel mappings changed while this CPU was parked, with no
     * shootdown reaching it: drop everything it may have cached before
     * it takes part. */
    arch_tlb_cpu_online(cpu);
    arch_tlb_flush_local();
    c->online = true;
    if (cpu + 1 > ncpus)
        ncpus = cpu + 1;
    idle_loop(false);
    __builtin_unreachable();
}
