/*
 * TLB shootdown (docs/smp.md). A CPU that narrows or removes a mapping
 * flushes its own TLB and asks every other CPU that may hold the old
 * translation to flush too, by IPI, and waits until each has: no stale
 * translation survives the call that removed it. paging.c does this on
 * every unmap and protect; generic code sees only the service hook.
 */
#ifndef CAPOS_ARCH_TLB_H
#define CAPOS_ARCH_TLB_H

#include <stdint.h>

/* Answer a shootdown request addressed to this CPU, if one is pending:
 * from the IPI handler, and from every spin loop (a CPU spinning with
 * interrupts off would otherwise never answer, and the requester, which
 * may hold the lock it spins on, would wait forever). */
void arch_tlb_service(void);

/* Drop every translation this CPU holds (a CPU joining the scheduler). */
void arch_tlb_flush_local(void);

/* CPU `cpu` takes part from now on: kernel-half changes reach it. */
void arch_tlb_cpu_online(uint32_t cpu);

#endif
