/*
 * Per-CPU data (docs/smp.md). Each CPU's area is reached through GS (see
 * arch/percpu.h); only its own CPU touches the lock checker's record,
 * while the scheduler fields are read and written by any CPU under the
 * kernel lock (a waker queues a thread on another CPU).
 */
#ifndef CAPOS_PERCPU_H
#define CAPOS_PERCPU_H

#include <arch/percpu.h>
#include <arch/smp.h>
#include <stdbool.h>
#include <stdint.h>

struct thread;
struct spinlock;

#define LOCKCHECK_DEPTH 8

struct percpu {
    struct arch_percpu arch; /* first: the entry code's fields at fixed offsets */
    /* Scheduler (sched.c), under the kernel lock. */
    struct thread *idle;
    struct thread *run_head, *run_tail; /* the run queue: doubly linked, O(1) */
    uint32_t queued;                    /* threads in it */
    bool online;                        /* takes part in scheduling */
    struct thread *reap_pending;        /* a dead thread whose stack it still stood on */
    uint64_t armed;                     /* what its timer is armed for; UINT64_MAX: nothing */
    /* Idle time (sched.c): cycles spent halted, and the cycle count when
     * the halt in progress began (0: not halted). Only this CPU writes
     * them, with interrupts off and without the kernel lock; `idle_seq` is
     * odd while it does, for readers on other CPUs. */
    uint64_t idle_cycles;
    uint64_t halted_at;
    uint32_t idle_seq;
    /* Lock checker (spinlock.c, test kernels): the locks this CPU holds. */
    uint32_t nheld;
    struct {
        const struct spinlock *lock;
        const char *site;
    } held[LOCKCHECK_DEPTH];
};

extern struct percpu percpu_of[SMP_MAX_CPUS];

static inline struct percpu *percpu_this(void)
{
    return (struct percpu *)arch_percpu_self();
}

static inline uint32_t cpu_index(void)
{
    return arch_percpu_self()->cpu;
}

/* The boot CPU's area: installed first thing, before any output. */
void percpu_init_boot(void);

#endif
