/* Thread state, context switch glue, syscall MSRs and the per-CPU area. */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/thread.h>
#include <arch/trap.h>

#include "hotpath.h"
#include "string.h"

#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_SFMASK         0xc0000084
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define EFER_SCE           (1ull << 0)
#define RFLAGS_IF          (1ull << 9)

extern void syscall_entry(void);
extern void thread_first_entry(void);
void context_switch(uint64_t *save_rsp, uint64_t new_rsp);

void arch_percpu_install(struct arch_percpu *area, uint32_t cpu)
{
    area->self = area;
    area->cpu = cpu;
    area->cpu_bit = 1u << cpu;
    wrmsr(MSR_GS_BASE, (uint64_t)area);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void arch_syscall_init_cpu(void)
{
    /* sysret loads CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8. */
    wrmsr(MSR_STAR, ((uint64_t)(GDT_USER_DATA - 8) << 48) | ((uint64_t)GDT_KERNEL_CODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    /* Enter the kernel with IF, DF, TF and AC clear. */
    wrmsr(MSR_SFMASK, 0x40700);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* User code may use SSE: enable FXSAVE/FXRSTOR and SSE exceptions,
     * no x87 emulation, monitor coprocessor. */
    write_cr0((read_cr0() & ~(1ull << 2)) | (1ull << 1));
    write_cr4(read_cr4() | (1ull << 9) | (1ull << 10));
}

struct trap_frame *arch_thread_frame(struct arch_thread *t)
{
    return (struct trap_frame *)(t->kstack_top - sizeof(struct trap_frame));
}

void arch_thread_init_user(struct arch_thread *t, uint64_t kstack_top, uint64_t entry,
                           uint64_t user_rsp, uint64_t rdi, uint64_t rsi, uint64_t rdx)
{
    t->kstack_top = kstack_top;
    struct trap_frame *tf = arch_thread_frame(t);
    memset(tf, 0, sizeof(*tf));
    tf->rip = entry;
    tf->cs = USER_CS;
    tf->rflags = RFLAGS_IF;
    tf->rsp = user_rsp;
    tf->ss = USER_DS;
    tf->rdi = rdi;
    tf->rsi = rsi;
    tf->rdx = rdx;
    /* Below the frame: what context_switch pops (six callee-saved
     * registers, zero) and the address it returns to. */
    uint64_t *sp = (uint64_t *)tf;
    *--sp = (uint64_t)thread_first_entry;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
    t->saved_rsp = (uint64_t)sp;
    /* A clean FPU state: default control words (x87 0x37f, MXCSR 0x1f80). */
    memset(t->fpu, 0, sizeof(t->fpu));
    t->fpu[0] = 0x7f;
    t->fpu[1] = 0x03;
    t->fpu[24] = 0x80;
    t->fpu[25] = 0x1f;
}

void arch_thread_set_tls(struct arch_thread *t, uint64_t base, int running)
{
    t->fs_base = base;
    if (running)
        wrmsr(MSR_FS_BASE, base);
}

/* Inlined (at link time) into the scheduler's one switch: a call's return
 * is an indirect jump, which TCG looks up again after every CR3 write. */
inline __attribute__((always_inline)) void
arch_switch(struct arch_thread *from, struct arch_thread *to, struct vmspace *space)
{
    /* Load the next thread's FPU state now rather than after the switch:
     * a new thread never returns through here, and the kernel itself never
     * touches FPU/SSE registers in between. */
    __asm__ volatile("fxsave64 %0" : "=m"(from->fpu));
    __asm__ volatile("fxrstor64 %0" : : "m"(to->fpu));
    /* Most switches are between threads with the same FS base (0, or two
     * processes' main threads at CAPOS_USER_TLS_TCB): skip the MSR write. */
    if (to->fs_base != from->fs_base)
        wrmsr(MSR_FS_BASE, to->fs_base);
    if (space)
        vmspace_activate(space);
    else
        vmspace_activate_kernel();
    arch_percpu_self()->kernel_rsp = to->kstack_top;
    tss_set_rsp0(to->kstack_top);
    context_switch(&from->saved_rsp, to->saved_rsp);
}
