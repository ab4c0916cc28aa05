/*
 * The other CPUs, at boot (docs/smp.md): every CPU the MADT lists as
 * enabled is started, reports in, and waits for the scheduler to start;
 * from then on every CPU runs threads.
 */
#include <arch/smp.h>

#include "acpi.h"
#include "kprintf.h"
#include "memory.h"
#include "sched.h"
#include "smp.h"

static unsigned online = 1;

static void report(uint32_t apic_id, unsigned cpu, enum smp_start_result r)
{
    switch (r) {
    case SMP_STARTED:
        kprintf("smp: CPU %u (APIC id %u) is up\n", cpu, apic_id);
        break;
    case SMP_NO_RESPONSE:
        kprintf("smp: CPU with APIC id %u did not answer INIT-SIPI-SIPI within 200 ms; "
                "skipped\n",
                apic_id);
        break;
    case SMP_TOO_MANY:
        kprintf("smp: CPU with APIC id %u skipped: at most %u CPUs are used\n", apic_id,
                (unsigned)SMP_MAX_CPUS);
        break;
    case SMP_X2APIC_ONLY:
        kprintf("smp: CPU with APIC id %u skipped: ids above 255 need x2APIC mode\n", apic_id);
        break;
    }
}

void smp_init(uint32_t unanswered_apic_id)
{
    const struct acpi_info *a = acpi_get();
    if (!a) {
        kprintf("smp: no ACPI tables; running on the boot CPU only\n");
        return;
    }
    if (!arch_smp_capable()) {
        kprintf("smp: no local APIC in use; running on the boot CPU only\n");
        return;
    }
    if (!memory_ap_trampoline_usable()) {
        kprintf("smp: the start-up page at %#lx is not available RAM in the memory map; "
                "running on the boot CPU only\n",
                (unsigned long)ARCH_AP_TRAMPOLINE_PA);
        return;
    }
    uint32_t ids[ACPI_MAX_CPUS];
    unsigned n = 0, listed = 0;
    for (uint32_t i = 0; i < a->madt.cpu_count && i < ACPI_MAX_CPUS; i++) {
        if (!(a->madt.cpus[i].flags & ACPI_CPU_ENABLED))
            continue; /* online-capable: not started at boot */
        ids[n++] = a->madt.cpus[i].apic_id;
    }
    listed = n;
    online = arch_smp_start(ids, n, unanswered_apic_id, report);
    kprintf("smp: %u of %u CPUs online\n", online, listed ? listed : 1);
}

/* Each started CPU, set up by arch code: it waits for the scheduler to
 * start and then runs threads (sched_cpu_run). */
void smp_ap_main(uint32_t cpu)
{
    sched_cpu_run(cpu);
}

unsigned smp_cpus_online(void)
{
    return online;
}
