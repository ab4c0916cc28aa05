/*
 * Starting the other CPUs (docs/smp.md). Generic code lists the CPUs
 * (from ACPI's MADT) and asks for them to be started; each one sets up its
 * own GDT, TSS, IDT and local APIC, then enters generic code
 * (smp_ap_main), which makes it a scheduling CPU.
 */
#ifndef CAPOS_ARCH_SMP_H
#define CAPOS_ARCH_SMP_H

#include <stdbool.h>
#include <stdint.h>

#define SMP_MAX_CPUS 16
/* The real-mode start-up code is copied to this page, which the frame
 * allocator never hands out (below 1 MiB, as the SIPI vector requires). */
#define ARCH_AP_TRAMPOLINE_PA 0x8000ull

/* Whether other CPUs can be started: this CPU has a local APIC in use. */
bool arch_smp_capable(void);

/* The local APIC id of the CPU this runs on. */
uint32_t arch_cpu_apic_id(void);

/* What happened to one CPU asked for by arch_smp_start. */
enum smp_start_result {
    SMP_STARTED,
    SMP_NO_RESPONSE, /* INIT-SIPI-SIPI sent; it never reported in */
    SMP_TOO_MANY,    /* beyond SMP_MAX_CPUS */
    SMP_X2APIC_ONLY, /* an APIC id above 255: xAPIC cannot address it */
};

/*
 * Start the CPUs with these APIC ids (the running CPU's own is skipped),
 * one after the other, waiting at most 200 ms of clock time for each;
 * report(apic_id, cpu_index, result) is called for each. Returns how
 * many CPUs run now, this one included. A CPU that does not start is
 * reported and skipped; it never stops the boot. no_sipi_apic_id (tests;
 * UINT32_MAX: none) is sent INIT only, to play a CPU that never answers.
 */
unsigned arch_smp_start(const uint32_t *apic_ids, unsigned n, uint32_t no_sipi_apic_id,
                        void (*report)(uint32_t apic_id, unsigned cpu, enum smp_start_result r));

/* Send CPU `cpu` (an index, not an APIC id) the interrupt `vector`. */
void arch_ipi_send(uint32_t cpu, uint32_t vector);
/* Interrupt CPU `cpu` only to wake it from an idle halt (reschedule). */
void arch_cpu_kick(uint32_t cpu);

/* Defined by generic code: where CPU `cpu` goes once its own set-up is
 * done, on its start-up stack, interrupts off. */
_Noreturn void smp_ap_main(uint32_t cpu);

#endif
