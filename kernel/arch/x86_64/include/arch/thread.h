/*
 * Per-thread architecture state and the context switch. Each thread has its
 * own kernel stack; a thread that is not running is suspended inside
 * arch_switch() with its callee-saved registers on that stack. A thread
 * that entered the kernel has a struct trap_frame at the top of its kernel
 * stack: a whole one from an interrupt or exception, and from a system call
 * only RIP, RFLAGS, RSP, RAX, RDI and RSI (isr.S says why).
 */
#ifndef CAPOS_ARCH_THREAD_H
#define CAPOS_ARCH_THREAD_H

#include <stdint.h>

struct vmspace;

struct arch_thread {
    uint64_t saved_rsp;  /* valid while switched out */
    uint64_t kstack_top; /* RSP0 and the system call stack */
    uint64_t fs_base;    /* the user thread pointer (TLS), loaded at each switch */
    /* FXSAVE area: user code may use SSE, the kernel never does, so the
     * state is saved and restored at every switch between threads. */
    uint8_t fpu[512] __attribute__((aligned(16)));
};

/* Prepare a thread that will enter user mode at `entry` with the given
 * stack and the three argument registers RDI, RSI, RDX. */
void arch_thread_init_user(struct arch_thread *t, uint64_t kstack_top, uint64_t entry,
                           uint64_t user_rsp, uint64_t rdi, uint64_t rsi, uint64_t rdx);

/* Switch from `from` to `to`, whose address space is `space` (NULL: keep the
 * current one). Returns when `from` is switched back in. */
void arch_switch(struct arch_thread *from, struct arch_thread *to, struct vmspace *space);

/* Set up syscall/sysret and the FPU on the running CPU (each CPU once). */
void arch_syscall_init_cpu(void);

/* Set t's FS base (its TLS thread pointer); `running`: t is the thread on
 * this CPU, so the register is loaded now too. */
void arch_thread_set_tls(struct arch_thread *t, uint64_t base, int running);

/* Set a user thread's return value register (RAX) in its saved frame. */
struct trap_frame *arch_thread_frame(struct arch_thread *t);

#endif
