/*
 * Starting the application processors: INIT-SIPI-SIPI through the local
 * APIC, the real-mode trampoline (ap_start.S), and each CPU's own set-up
 * (docs/smp.md).
 */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/platform.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <arch/trap.h>

#include "lapic.h"
#include "string.h"

#define LAPIC_ICR_LOW  0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_FIXED      0x00000000u
#define ICR_INIT       0x00000500u
#define ICR_STARTUP    0x00000600u
#define ICR_ASSERT     0x00004000u
#define ICR_PENDING    0x00001000u /* delivery status: not yet accepted */
#define EFER_LME       (1ull << 8)

/* The layout of ap_boot_block in ap_start.S. */
struct ap_boot {
    uint64_t cr3;
    uint64_t efer;
    uint64_t stack;
    uint64_t entry;
    uint64_t cpu;
};

extern const uint8_t ap_trampoline[], ap_trampoline_end[], ap_boot_block[];
extern uint8_t boot_pml4[]; /* boot.S: maps the trampoline page 1:1 */

#define AP_STACK_SIZE 8192
static uint8_t ap_stacks[SMP_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static uint32_t ap_online[SMP_MAX_CPUS];
/* Local APIC id of each CPU index (IPIs name APIC ids). */
static uint32_t apic_id_of[SMP_MAX_CPUS];

bool arch_smp_capable(void)
{
    return lapic_present();
}

uint32_t arch_cpu_apic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

_Noreturn void ap_entry(uint32_t cpu);

/* On the new CPU, on the boot page tables: the kernel's own tables, this
 * CPU's descriptor tables and protections, its local APIC, the syscall
 * MSRs; then report in and go to generic code. */
void ap_entry(uint32_t cpu)
{
    paging_load_kernel_tables();
    gdt_init_cpu(cpu);
    idt_load();
    cpu_enable_protections();
    lapic_enable_this_cpu();
    arch_syscall_init_cpu();
    /* Release: everything above is done before the boot CPU reads 1. */
    __atomic_store_n(&ap_online[cpu], 1, __ATOMIC_RELEASE);
    smp_ap_main(cpu);
}

static void icr_send(uint32_t apic_id, uint32_t low)
{
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, low);
    for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LOW) & ICR_PENDING); i++)
        __asm__ volatile("pause");
}

static void delay_ns(uint64_t ns)
{
    uint64_t end = arch_clock_ns() + ns;
    while (arch_clock_ns() < end)
        __asm__ volatile("pause");
}

static bool start_one(uint32_t apic_id, unsigned cpu, bool send_sipi)
{
    struct ap_boot *b = phys_to_virt(ARCH_AP_TRAMPOLINE_PA + (ap_boot_block - ap_trampoline));
    b->cr3 = (uint64_t)boot_pml4;
    b->efer = rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE);
    /* As after a call: ap_entry finds RSP + 8 16-byte aligned. */
    b->stack = (uint64_t)&ap_stacks[cpu][AP_STACK_SIZE] - 8;
    b->entry = (uint64_t)ap_entry;
    b->cpu = cpu;
    __atomic_store_n(&ap_online[cpu], 0, __ATOMIC_RELAXED);
    /* The block is written before the IPIs that make the CPU read it. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    icr_send(apic_id, ICR_INIT | ICR_ASSERT);
    delay_ns(10000000);
    uint32_t vector = (uint32_t)(ARCH_AP_TRAMPOLINE_PA >> 12);
    for (int i = 0; send_sipi && i < 2 && !__atomic_load_n(&ap_online[cpu], __ATOMIC_ACQUIRE);
         i++) {
        icr_send(apic_id, ICR_STARTUP | ICR_ASSERT | vector);
        delay_ns(200000);
    }
    uint64_t give_up = arch_clock_ns() + 200000000;
    while (!__atomic_load_n(&ap_online[cpu], __ATOMIC_ACQUIRE)) {
        if (arch_clock_ns() >= give_up) {
            /* Hold it in reset: a late start would find the next CPU's
             * stack in the parameter block. */
            icr_send(apic_id, ICR_INIT | ICR_ASSERT);
            return false;
        }
        __asm__ volatile("pause");
    }
    return true;
}

unsigned arch_smp_start(const uint32_t *apic_ids, unsigned n, uint32_t no_sipi_apic_id,
                        void (*report)(uint32_t apic_id, unsigned cpu, enum smp_start_result r))
{
    size_t len = (size_t)(ap_trampoline_end - ap_trampoline);
    memcpy(phys_to_virt(ARCH_AP_TRAMPOLINE_PA), ap_trampoline, len);
    uint32_t self = arch_cpu_apic_id();
    apic_id_of[0] = self;
    unsigned cpus = 1;
    for (unsigned i = 0; i < n; i++) {
        uint32_t id = apic_ids[i];
        if (id == self)
            continue;
        enum smp_start_result r;
        if (cpus >= SMP_MAX_CPUS)
            r = SMP_TOO_MANY;
        else if (id > 255)
            r = SMP_X2APIC_ONLY;
        else
            r = start_one(id, cpus, id != no_sipi_apic_id) ? SMP_STARTED : SMP_NO_RESPONSE;
        report(id, cpus, r);
        if (r == SMP_STARTED)
            apic_id_of[cpus++] = id;
    }
    return cpus;
}

void arch_ipi_send(uint32_t cpu, uint32_t vector)
{
    icr_send(apic_id_of[cpu], ICR_FIXED | ICR_ASSERT | vector);
}

void arch_cpu_kick(uint32_t cpu)
{
    arch_ipi_send(cpu, VEC_IPI_RESCHED);
}
