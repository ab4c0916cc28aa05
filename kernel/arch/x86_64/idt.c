/*
 * IDT and trap dispatch. Every exception ends in a report with the vector,
 * its name, the error code, RIP, CR2 and all registers, then a failure halt:
 * until user processes exist, any exception is a kernel bug.
 */
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/paging.h>
#include <arch/platform.h>
#include <arch/trap.h>
#include <stdint.h>

#include "kprintf.h"
#include "lapic.h"
#include "spinlock.h"
#include <arch/tlb.h>

struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};

static struct idt_gate idt[256];
extern const uint64_t isr_table[256];

static const char *const exception_names[32] = {
    "divide error",
    "debug",
    "non-maskable interrupt",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved (15)",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point error",
    "virtualization exception",
    "control protection exception",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "hypervisor injection",
    "VMM communication",
    "security exception",
    "reserved (31)",
};

static void set_gate(int vec, uint64_t handler, uint8_t ist)
{
    idt[vec] = (struct idt_gate){
        .offset_lo = handler & 0xffff,
        .selector = GDT_KERNEL_CODE,
        .ist = ist,
        .type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
        .offset_mid = (handler >> 16) & 0xffff,
        .offset_hi = handler >> 32,
    };
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++)
        set_gate(v, isr_table[v], 0);
    set_gate(2, isr_table[2], IST_NMI);
    set_gate(8, isr_table[8], IST_DOUBLE_FAULT);
    idt_load();
}

/* Every CPU loads the one IDT (the other CPUs at start-up, smp.c). */
void idt_load(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static void report_exception(const struct trap_frame *tf)
{
    uint64_t cr2 = read_cr2();
    kprintf("\ncapOS: EXCEPTION %lu (%s), error code 0x%lx\n", tf->vector,
            exception_names[tf->vector & 31], tf->error_code);
    if (tf->vector == TRAP_PAGE_FAULT) {
        uint64_t e = tf->error_code;
        kprintf("  page fault at address CR2=%016lx: %s, %s access, %s mode%s%s\n", cr2,
                e & PF_ERR_PRESENT ? "protection violation" : "page not present",
                e & PF_ERR_WRITE ? "write" : "read", e & PF_ERR_USER ? "user" : "kernel",
                e & PF_ERR_RESERVED ? ", reserved bit set" : "",
                e & PF_ERR_FETCH ? ", instruction fetch" : "");
    }
    uint64_t pa;
    uint32_t flags;
    if (cr2 >= KSTACK_REGION_BASE && cr2 < KSTACK_REGION_BASE + KSTACK_REGION_SIZE &&
        !paging_translate(cr2 & ~0xfffull, &pa, &flags))
        kprintf("  CR2=%016lx is a kernel stack guard page: stack overflow\n", cr2);
    kprintf("  RIP=%016lx CS=%04lx RFLAGS=%016lx\n", tf->rip, tf->cs, tf->rflags);
    kprintf("  RSP=%016lx SS=%04lx CR2=%016lx CR3=%016lx\n", tf->rsp, tf->ss, cr2, read_cr3());
    kprintf("  RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
    kprintf("  RSI=%016lx RDI=%016lx RBP=%016lx R8 =%016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
    kprintf("  R9 =%016lx R10=%016lx R11=%016lx R12=%016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
    kprintf("  R13=%016lx R14=%016lx R15=%016lx\n", tf->r13, tf->r14, tf->r15);
}

extern const char arch_user_copy_end[], arch_user_copy_fault[];

static void dispatch_locked(struct trap_frame *tf)
{
    if (tf->vector < 32) {
        user_fault(tf, read_cr2(), exception_names[tf->vector]);
        return;
    }
    switch (tf->vector) {
    case VEC_LAPIC_TIMER:
        lapic_eoi();
        timer_tick(trap_from_user(tf));
        return;
    case VEC_PIT:
        pic_eoi(0);
        timer_tick(trap_from_user(tf));
        return;
    case VEC_IPI_RESCHED:
        /* Only wakes the CPU: its idle loop, or the way back to user
         * mode, looks at the run queue. */
        lapic_eoi();
        return;
    case VEC_PIC_BASE + IRQ_COM1:
        /* Read before the EOI: the UART keeps its line raised while data
         * waits, so a new edge follows anything that arrives later. */
        serial_rx_interrupt();
        pic_eoi(IRQ_COM1);
        return;
    case VEC_SPURIOUS:
        return; /* spurious LAPIC interrupts need no EOI */
    default:
        kprintf("capOS: unexpected interrupt vector %lu ignored\n", tf->vector);
        if (tf->vector >= VEC_PIC_BASE && tf->vector < VEC_PIC_BASE + 16)
            pic_eoi((int)(tf->vector - VEC_PIC_BASE));
        else
            lapic_eoi();
    }
}

/*
 * Every interrupt and exception. Kernel code runs under the kernel lock
 * (spinlock.h): an entry from user mode or from an idle halt takes it, and
 * gives it back on the way out. Two things never take it: a fault the
 * kernel only reports before halting, and a TLB shootdown request, whose
 * sender may hold the lock while it waits for this CPU to answer.
 */
void trap_dispatch(struct trap_frame *tf)
{
    if (!trap_from_user(tf))
        sched_halt_end();
    /* A page fault inside arch_user_copy is a bad user pointer, not a
     * kernel bug: resume at its fault exit, which reports the error. */
    if (tf->vector == TRAP_PAGE_FAULT && !trap_from_user(tf) &&
        tf->rip >= (uint64_t)&arch_user_copy && tf->rip < (uint64_t)arch_user_copy_end) {
        tf->rip = (uint64_t)arch_user_copy_fault;
        return;
    }
    /* A fault in user mode is the process's problem: it ends, the kernel
     * goes on. NMI and machine checks are never the process's. */
    if (tf->vector < 32 && !(trap_from_user(tf) && tf->vector != 2 && tf->vector != 18)) {
        report_exception(tf);
        arch_halt(HALT_FAILURE);
    }
    if (tf->vector == VEC_IPI_TLB) {
        arch_tlb_service();
        lapic_eoi();
        return;
    }
    bool took = kernel_lock_enter();
    dispatch_locked(tf);
    if (!took)
        return;
    if (trap_from_user(tf))
        kernel_return_to_user();
    else
        kernel_lock_leave(); /* back to the idle loop's halt */
}
