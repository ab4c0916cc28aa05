/* The register frame built by isr.S for every interrupt and exception,
 * and in part for a system call (RIP, RFLAGS, RSP, RAX, RDI, RSI: only
 * those may be read or written in a system call's frame). */
#ifndef CAPOS_ARCH_TRAP_H
#define CAPOS_ARCH_TRAP_H

#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    /* Pushed by the CPU. */
    uint64_t rip, cs, rflags, rsp, ss;
};

#define TRAP_FRAME_SIZE (22 * 8)
_Static_assert(sizeof(struct trap_frame) == TRAP_FRAME_SIZE, "isr.S depends on this layout");

/* The page-fault exception and the bits of its error code. */
#define TRAP_PAGE_FAULT 14
#define PF_ERR_PRESENT  (1u << 0) /* a protection violation, not a missing page */
#define PF_ERR_WRITE    (1u << 1)
#define PF_ERR_USER     (1u << 2)
#define PF_ERR_RESERVED (1u << 3)
#define PF_ERR_FETCH    (1u << 4) /* an instruction fetch (from a no-execute page) */

/* Interrupt vectors. The legacy PIC is remapped to 0x20-0x2f and masked
 * (only the PIT fallback unmasks IRQ 0). */
#define VEC_PIC_BASE    0x20
#define VEC_PIT         (VEC_PIC_BASE + 0)
#define VEC_LAPIC_TIMER 0x30
#define VEC_IPI_RESCHED 0x40 /* wake an idle CPU: work was queued for it */
#define VEC_IPI_TLB     0x41 /* TLB shootdown request (tlb.c) */
#define VEC_SPURIOUS    0xff

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_USER_DATA   0x18
#define GDT_USER_CODE   0x20
#define GDT_TSS         0x28
#define USER_CS         (GDT_USER_CODE | 3)
#define USER_DS         (GDT_USER_DATA | 3)

/* trap_frame.vector of a system call. */
#define SYSCALL_VECTOR 256

static inline int trap_from_user(const struct trap_frame *tf)
{
    return (tf->cs & 3) == 3;
}

/* Generic code's entry points from the architecture. */
void syscall_dispatch(struct trap_frame *tf);
/* A user-mode exception: the process is at fault, not the kernel. */
void user_fault(struct trap_frame *tf, uint64_t fault_addr, const char *what);
/* The way out to user mode of every entry (and of a new thread's first
 * start): the running thread's safe point, then the kernel lock goes. */
void kernel_return_to_user(void);
/* Every entry from kernel mode, first thing: if it ended this CPU's idle
 * halt, the halt's time is counted up to here (sched.c). */
void sched_halt_end(void);

/* Interrupt stack table slots (1-based, as the IDT encodes them). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2

void trap_dispatch(struct trap_frame *tf);
void idt_init(void);
void gdt_init(void);
/* CPU `cpu`'s own GDT and TSS (cpu < SMP_MAX_CPUS; 0 is the boot CPU's,
 * which gdt_init sets up). */
void gdt_init_cpu(unsigned cpu);
void idt_load(void);
/* Point an IST slot at a stack (once guarded stacks exist). */
void tss_set_ist(int slot, uint64_t stack_top);
void tss_set_rsp0(uint64_t stack_top);

#endif
