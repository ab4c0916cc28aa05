/*
 * The two system calls, and what happens when user code faults.
 *
 * cap_enter(min_complete, timeout_ns) processes the caller's pending SQEs
 * (at most one SQ's worth: bounded work per call, so one process cannot
 * hold the CPU with its ring), then waits until min_complete CQEs are
 * available or the timeout passes, and returns how many are available.
 */
#include <arch/platform.h>
#include <arch/trap.h>
#include <capos/errors.h>
#include <capos/syscall.h>

#include "hotpath.h"
#include "kprintf.h"
#include "process.h"
#include "ringops.h"
#include "sched.h"
#include "spinlock.h"
#include "thread.h"

static int64_t cap_enter(uint64_t min_complete, uint64_t timeout_ns)
{
    struct thread *t = thread_current();
    struct process *p = t->process;
    /* The fast path (docs/ipc.md): a call, or an answer and the next
     * receive, that hands the CPU straight to the thread waiting for it.
     * Only when this cap_enter would wait for it: without a deadline, for
     * at least one completion, with no exit to take first. (It posts
     * nothing to this thread's own ring.) Its entry is copied and checked
     * before the kernel lock is taken: the SQ is this thread's alone, and
     * under TCG that copy is where the ring's page and the thread's are
     * walked again after the last CR3 write (docs/smp.md). */
    struct capos_sqe sqe;
    bool peeked = timeout_ns == UINT64_MAX && min_complete && ring_peek_fast(t, &sqe);
    kernel_lock_enter();
    process_exit_if_killed(p);
    if (min_complete > CAPOS_CQ_ENTRIES)
        min_complete = CAPOS_CQ_ENTRIES;
    uint32_t events = 0;
    uint32_t ready;
    uint64_t deadline = UINT64_MAX;
    struct thread *next = 0;
    if (peeked && !t->exit_pending)
        next = ring_dispatch_or_handoff(t, &sqe);
    else
        ring_dispatch(t);
    if (next) {
        ready = ring_cq_ready(t->ring, &t->ring_state, &events);
        if (ready >= min_complete) {
            /* Completions were waiting already: no wait after all. What
             * the general path would have done: the thread handed to
             * runs next, when this one next blocks or yields. */
            sched_wake_next(next);
            return ready;
        }
    } else {
        thread_exit_if_pending(t);
        ready = ring_cq_ready(t->ring, &t->ring_state, &events);
        /* The common case returns here, without reading the clock. */
        if (ready >= min_complete || timeout_ns == 0)
            return ready;
        if (timeout_ns != UINT64_MAX) {
            uint64_t now = arch_clock_ns();
            deadline = timeout_ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + timeout_ns;
        }
    }
    for (;;) {
        t->cap_enter_waiting = true;
        t->cap_enter_min = (uint32_t)min_complete;
        if (next)
            sched_block_handoff(next);
        else
            sched_block(deadline);
        next = 0;
        t->cap_enter_waiting = false;
        process_exit_if_killed(p);
        ready = ring_cq_ready(t->ring, &t->ring_state, &events);
        if (ready >= min_complete || arch_clock_ns() >= deadline)
            return ready;
    }
}

FAST_PATH void syscall_dispatch(struct trap_frame *tf)
{
    if (tf->rax == CAPOS_SYS_CAP_ENTER) {
        /* Takes the kernel lock itself, after its unlocked first step. */
        tf->rax = (uint64_t)cap_enter(tf->rdi, tf->rsi);
    } else {
        kernel_lock_enter();
        if (tf->rax == CAPOS_SYS_EXIT)
            process_exit_current((int)tf->rdi);
        tf->rax = (uint64_t)(int64_t)CAPOS_E_NO_SYSCALL;
    }
    /* cap_enter has its own safe points (a kill before its SQEs, a
     * thread exit before it blocks, a kill after it wakes), and a thread
     * that makes no system call is reached by the kick's interrupt: so
     * this way out needs no other check. */
    kernel_lock_leave();
}

void kernel_return_to_user(void)
{
    /* The safe point: a process killed, or a thread told to exit, while
     * this thread ran (maybe on another CPU) ends here, before user code
     * runs again. */
    struct thread *t = thread_current();
    process_exit_if_killed(t->process);
    thread_exit_if_pending(t);
    kernel_lock_leave();
}

void user_fault(struct trap_frame *tf, uint64_t fault_addr, const char *what)
{
    struct process *p = process_current();
    kprintf("process %s: pid %u killed: %s at RIP=%016lx", p->name, p->pid, what, tf->rip);
    if (tf->vector == TRAP_PAGE_FAULT) {
        const char *access = tf->error_code & PF_ERR_FETCH   ? "instruction fetch"
                             : tf->error_code & PF_ERR_WRITE ? "write"
                                                             : "read";
        kprintf(", address %016lx (%s %s)", fault_addr, access,
                tf->error_code & PF_ERR_PRESENT ? "denied" : "of an unmapped page");
    }
    kprintf("\n");
    /* Exit codes of killed processes are negative exception vectors. */
    process_exit_current(-(int)tf->vector - 1);
}
