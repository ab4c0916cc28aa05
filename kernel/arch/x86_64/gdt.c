/*
 * GDT and TSS. Segments are flat in long mode; the GDT exists for the
 * privilege levels and the TSS for the stacks the CPU switches to: RSP0 on
 * entry from user mode, and the IST stacks for double fault and NMI, which
 * must work even when the current kernel stack is unusable (overflowed
 * into its guard page).
 */
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <stdint.h>

#include "hotpath.h"

struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

/* One TSS and GDT per CPU: a TSS holds its CPU's stacks, and loading it
 * marks its descriptor busy, so no two CPUs can share one. tss_set_rsp0
 * and tss_set_ist change the running CPU's. */
HOT_DATA static struct tss tss_of[SMP_MAX_CPUS];

/* null, kernel code, kernel data, user data, user code, TSS (two slots).
 * User data precedes user code because sysret derives both from one MSR. */
static uint64_t gdt_of[SMP_MAX_CPUS][7];

/* Stacks for double fault and NMI: the boot CPU's until guarded ones
 * exist; the other CPUs keep theirs. */
static uint8_t early_ist_stack[SMP_MAX_CPUS][2][4096] __attribute__((aligned(16)));

void gdt_init(void)
{
    gdt_init_cpu(0);
}

void gdt_init_cpu(unsigned cpu)
{
    uint64_t *gdt = gdt_of[cpu];
    struct tss *t = &tss_of[cpu];
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;
    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffff; /* kernel code: L, P, DPL 0 */
    gdt[2] = 0x00cf92000000ffff; /* kernel data */
    gdt[3] = 0x00cff2000000ffff; /* user data, DPL 3 */
    gdt[4] = 0x00affa000000ffff; /* user code, DPL 3 */

    t->iomap_base = sizeof(*t); /* no I/O permission bitmap */
    t->ist[IST_DOUBLE_FAULT - 1] = (uint64_t)&early_ist_stack[cpu][0][4096];
    t->ist[IST_NMI - 1] = (uint64_t)&early_ist_stack[cpu][1][4096];

    uint64_t base = (uint64_t)t;
    uint64_t limit = sizeof(*t) - 1;
    gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) /* P, 64-bit TSS */
             | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[6] = base >> 32;

    gdtr.limit = sizeof(gdt_of[cpu]) - 1;
    gdtr.base = (uint64_t)gdt;
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "mov %2, %%ds\n\t"
                     "mov %2, %%es\n\t"
                     "mov %2, %%ss\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
                     : "rax", "memory");
}

/* The running CPU's TSS. */
void tss_set_ist(int slot, uint64_t stack_top)
{
    tss_of[arch_percpu_self()->cpu].ist[slot - 1] = stack_top;
}

void tss_set_rsp0(uint64_t stack_top)
{
    tss_of[arch_percpu_self()->cpu].rsp[0] = stack_top;
}
