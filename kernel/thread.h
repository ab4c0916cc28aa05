/*
 * The user threads of a process (docs/threads.md): each has its own ring
 * page, kernel stack and FS base; they share the process's address space,
 * capability table and frame account. sched.h schedules them; this file
 * gives them a place in their process, from creation to the end.
 *
 * Lifetimes. A thread ends by ThreadControl.exit (thread_exit_current),
 * which ends the process too when it is the last one; or with its process
 * (exit, a fault, a kill), when the thread that ends the process ends every
 * other one at once (thread_end_all). On one CPU the others are never
 * running then: each is queued or blocked in cap_enter, and is dropped
 * where it stands.
 */
#ifndef CAPOS_THREAD_H
#define CAPOS_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "sched.h"

struct process;
struct elf64_tls;

/* Where a spawned thread starts (ThreadSpawner.spawn), already checked:
 * user addresses, the stack 16-byte aligned. */
struct thread_start {
    uint64_t entry;
    uint64_t stack_top;
    uint64_t arg;
    uint64_t tls_base;
};

/* The main thread of a new process: ring at CAPOS_USER_RING_ADDR, TCB and
 * TLS block built from the image's PT_TLS (tls NULL: none), entering at
 * entry with RDI = ring, RSI = pid, RDX = CapSet page. Not yet runnable
 * (thread_start_running). False when p's quota cannot pay. */
bool thread_create_main(struct process *p, uint64_t entry, const struct elf64_tls *tls,
                        const void *image);

/* Another thread of p, runnable at once. NULL with *why when p has
 * CAPOS_MAX_THREADS already or its quota cannot pay. */
struct thread *thread_spawn(struct process *p, const struct thread_start *s, const char **why);

/* Make a created thread runnable. */
void thread_start_running(struct thread *t);

/* End the running thread with `code` (ThreadControl.exit, at its next safe
 * point): its calls in flight are abandoned and its ring unmapped. The
 * last thread's end is its process's exit. */
_Noreturn void thread_exit_current(int32_t code);
static inline void thread_exit_if_pending(struct thread *t)
{
    if (__builtin_expect(t->exit_pending, 0))
        thread_exit_current(t->exit_code);
}

/* p is exiting and `self`, one of its threads, stops now (its calls
 * abandoned, unlinked); the last one to stop frees the process. */
void thread_leave_exiting(struct process *p, struct thread *self);
/* p is exiting on its running thread `self`: every other thread ends now
 * (their calls abandoned, their stacks freed), and self's calls are
 * abandoned; self then leaves through sched_exit_thread. */
void thread_end_all(struct process *p, struct thread *self);

/* A kill: wake every thread of p blocked in cap_enter, to reach its safe
 * point. */
void thread_wake_all(struct process *p);

/* A completion was posted to t's ring: wake t if it waits for that many;
 * with handoff, it runs next (sched_wake_next). */
void thread_notify_completion(struct thread *t, bool handoff);

/* Whether one more completion posted to t ends the cap_enter it is blocked
 * in, so that posting it and switching to t (sched_block_handoff) is what
 * thread_notify_completion with handoff, then the switch, would do. */
bool thread_cap_enter_needs_more(struct thread *t);
static inline bool thread_waits_for_one(struct thread *t)
{
    return t->state == THREAD_BLOCKED && t->cap_enter_waiting &&
           (t->cap_enter_min <= 1 || !thread_cap_enter_needs_more(t));
}

#endif
