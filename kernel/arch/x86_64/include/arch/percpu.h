/*
 * The per-CPU area as the architecture sees it: the fields the entry code
 * reaches through GS at fixed offsets (isr.S), the CPU's index, and the
 * address space its CR3 holds. Generic per-CPU data (kernel/percpu.h)
 * embeds this as its first member.
 *
 * In kernel mode GS's base is the running CPU's area (syscall and
 * interrupt entry from user mode swap it in with swapgs), so the area is
 * found with one GS-relative load and needs no lock: only its own CPU
 * writes it, with interrupts off.
 */
#ifndef CAPOS_ARCH_PERCPU_H
#define CAPOS_ARCH_PERCPU_H

#include <stdint.h>

struct vmspace;

struct arch_percpu {
    uint64_t kernel_rsp;      /* 0: the running thread's kernel stack top (isr.S) */
    struct arch_percpu *self; /* 8: the area's own address, for arch_percpu_self */
    void *current;            /* 16: the running thread (generic code's struct thread) */
    struct vmspace *loaded;   /* 24: the running thread's address space; NULL: the kernel's */
    struct vmspace *in_cr3;   /* 32: the one CR3 holds: `loaded` from vmspace_sync on */
    uint32_t cpu;             /* index: 0 is the boot CPU */
    uint32_t cpu_bit;         /* 1 << cpu: this CPU in a CPU set (vmspace.cpus) */
};

#define ARCH_PERCPU_SELF    8
#define ARCH_PERCPU_CURRENT 16
#define ARCH_PERCPU_LOADED  24
#define ARCH_PERCPU_IN_CR3  32
_Static_assert(__builtin_offsetof(struct arch_percpu, kernel_rsp) == 0 &&
                   __builtin_offsetof(struct arch_percpu, self) == ARCH_PERCPU_SELF &&
                   __builtin_offsetof(struct arch_percpu, current) == ARCH_PERCPU_CURRENT &&
                   __builtin_offsetof(struct arch_percpu, loaded) == ARCH_PERCPU_LOADED &&
                   __builtin_offsetof(struct arch_percpu, in_cr3) == ARCH_PERCPU_IN_CR3,
               "isr.S and the GS-relative loads depend on these offsets");

/* The running CPU's area. volatile: a thread may move to another CPU
 * across any switch, so the load must never be reused from before one. */
static inline struct arch_percpu *arch_percpu_self(void)
{
    struct arch_percpu *p;
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(p) : "i"(ARCH_PERCPU_SELF));
    return p;
}

/* The running thread, in one GS-relative load (thread_current() is on
 * nearly every kernel path); volatile for the same reason as above. */
static inline void *arch_percpu_current(void)
{
    void *t;
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(t) : "i"(ARCH_PERCPU_CURRENT));
    return t;
}

/* Make `area` this CPU's (GS base, kernel mode) for CPU `cpu`. */
void arch_percpu_install(struct arch_percpu *area, uint32_t cpu);

#endif
