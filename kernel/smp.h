/* The other CPUs at boot (smp.c, docs/smp.md). */
#ifndef CAPOS_SMP_H
#define CAPOS_SMP_H

#include <stdint.h>

/* Start every enabled CPU of the MADT; each reports in and waits for
 * sched_init, then schedules threads. After
 * the timer runs (the start-up waits are timed). unanswered_apic_id (a
 * test hook; UINT32_MAX: none) gets INIT but no SIPI, so it never
 * answers, as a broken CPU would not. */
void smp_init(uint32_t unanswered_apic_id);
unsigned smp_cpus_online(void);

#endif
