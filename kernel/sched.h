/*
 * Threads and the scheduler: preemptive round robin, one run queue per
 * CPU (docs/scheduling.md, docs/smp.md).
 *
 * The kernel is not preemptible: it runs with interrupts off except in the
 * idle loop, and under the kernel lock (spinlock.h), which guards every
 * field here. A thread in user mode is preempted by its CPU's timer after
 * its time slice; a thread in the kernel gives up the CPU only by blocking
 * or yielding. A woken thread goes back to the CPU it last ran on unless
 * another is idle; an idle CPU steals from the longest queue; a direct
 * IPC handoff stays on the handing CPU.
 */
#ifndef CAPOS_SCHED_H
#define CAPOS_SCHED_H

#include <arch/percpu.h>
#include <arch/thread.h>
#include <capos/ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "kcore/ring.h"

struct process;
struct pending_call;
struct exit_status;

enum thread_state {
    THREAD_NEW, /* created, not yet started (sched_start) */
    THREAD_RUNNABLE,
    THREAD_RUNNING,
    THREAD_BLOCKED,
    THREAD_DEAD,
};

/* Why a blocked thread woke up. */
enum wake_reason {
    WAKE_NONE,
    WAKE_SIGNALLED, /* sched_wake() */
    WAKE_TIMEOUT,   /* its deadline passed */
};

struct thread {
    struct arch_thread arch; /* first: keeps the FPU area 16-byte aligned */
    struct process *process; /* NULL for the idle thread */
    enum thread_state state;
    enum wake_reason wake_reason;
    uint64_t deadline_ns;               /* blocked with a timeout; UINT64_MAX: none */
    struct thread *run_next, *run_prev; /* run queue (doubly linked: O(1) unlink) */
    struct thread *sleep_next;          /* threads blocked with a deadline */
    uint64_t kstack_top;
    uint32_t cpu;            /* the CPU whose queue holds it, or that it last ran on */
    uint64_t slice_end_ns;   /* preempted after this, if others are runnable */
    bool donated;            /* slice_end_ns was handed over: keep it when it runs */
    struct account *account; /* pays for this struct and the kernel stack */

    /* A user thread's own ring (docs/threads.md): its completions, its
     * cap_enter, its calls in flight. */
    volatile struct capos_ring *ring; /* the ring page, through the direct map */
    struct ring_state ring_state;
    uint64_t ring_va;                   /* where the thread sees it */
    struct pending_call *pending_calls; /* deferred completions it waits for */
    bool cap_enter_waiting;             /* blocked in cap_enter */
    uint32_t cap_enter_min;             /* ... for this many completions */
    /* Its place in its process (thread.c). */
    struct thread *proc_next;
    uint32_t slot;     /* 0: the main thread; selects the ring address */
    bool exit_pending; /* ThreadControl.exit: end at the next safe point */
    int32_t exit_code;
    struct exit_status *exit_status; /* shared with its ThreadHandle, if any */
};

#define THREAD_KSTACK_PAGES 4
#define SCHED_SLICE_NS      20000000ull /* 20 ms */
/* A thread running user code is interrupted this often (slice accounting,
 * ring polling); an idle CPU is interrupted only for deadlines. */
#define SCHED_TICK_NS 10000000ull

/* The boot CPU's running context becomes its idle thread, and it takes the
 * kernel lock for good (it gives it up only to halt): the other CPUs may
 * start scheduling from now on. */
void sched_init(void);
/* Another CPU, after its own set-up (smp.c): it becomes a scheduling CPU
 * and runs threads forever. */
_Noreturn void sched_cpu_run(uint32_t cpu);
/* A new user thread of `p` (THREAD_NEW: sched_start makes it runnable),
 * paid for by p's account. NULL when p's quota cannot pay. */
struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t user_rsp,
                                  uint64_t rdi, uint64_t rsi, uint64_t rdx);
void sched_start(struct thread *t);
/* Drop a thread that is not running (new, queued, or blocked): it is taken
 * off every list and its stack and struct are freed at once. Whatever it
 * was blocked in must already have let go of it. */
void sched_discard(struct thread *t);
/* The running thread: inline, one load through GS, as nearly every
 * kernel path asks. */
static inline struct thread *thread_current(void)
{
    return (struct thread *)arch_percpu_current();
}
/* The running thread's process (NULL on an idle thread). */
static inline struct process *process_current(void)
{
    return thread_current()->process;
}
/* Make a running thread's CPU look at it soon (it is on another CPU, in
 * user mode or about to be): its next kernel exit is its safe point. */
void sched_kick_running(struct thread *t);

/* Block the running thread until sched_wake() or until the clock reaches
 * deadline_ns (UINT64_MAX: no deadline). Returns why it woke. */
enum wake_reason sched_block(uint64_t deadline_ns);
void sched_wake(struct thread *t);
/*
 * Direct handoff: wake t and make it the next thread to run, on what is
 * left of the running thread's time slice (a server whose RECV a CALL just
 * satisfied; a caller whose call a RETURN just answered). The slice is
 * donated, not renewed, so a pair of threads passing control back and
 * forth shares one slice and cannot starve anyone else (docs/scheduling.md).
 */
void sched_wake_next(struct thread *t);
/*
 * Block the running thread (no deadline) and switch straight to `next`,
 * which must be blocked: exactly sched_wake_next(next) then
 * sched_block(UINT64_MAX), without passing through the run queue (the
 * fast path, docs/ipc.md). Returns when the running thread is woken.
 */
void sched_block_handoff(struct thread *next);
void sched_yield(void);
/* The running thread is finished: never scheduled again; its stack is
 * reclaimed later, by someone else. */
_Noreturn void sched_exit_thread(void);
/* Timer hook: wake expired sleepers, preempt a user thread whose slice ran
 * out, and arm the timer for the next thing to do. */
void sched_tick(bool from_user);
/* Someone has something to do at deadline_ns (registry.h next_deadline):
 * make sure the timer fires by then. */
void sched_deadline_added(uint64_t deadline_ns);

/* Run threads until none is left, then return (on the idle thread). */
void sched_run_until_idle(void);
/* The cycles every online CPU has spent halted, summed, with the halts in
 * progress counted up to `now` (a cycle count); *cpus: how many CPUs. */
uint64_t sched_idle_cycles(uint64_t now, uint32_t *cpus);

#endif
