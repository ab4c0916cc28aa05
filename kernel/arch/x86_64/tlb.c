/*
 * TLB shootdown by IPI (arch/tlb.h, docs/smp.md).
 *
 * One request at a time: every sender holds the kernel lock (all page
 * table changes are made under it), so a single mailbox suffices. The
 * sender writes the address, then the set of CPUs that must answer
 * (release), sends each an IPI and spins until the set is empty; each
 * receiver flushes, then clears its bit (release). The receivers never
 * need the kernel lock to answer: the IPI handler and the lock's spin loop
 * both call arch_tlb_service.
 */
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/platform.h>
#include <arch/smp.h>
#include <arch/tlb.h>
#include <arch/trap.h>

#include "kprintf.h"
#include "tlb_internal.h"

static struct {
    uint64_t va;      /* the page to flush, or TLB_FLUSH_ALL */
    uint32_t pending; /* CPUs that have not flushed yet */
} request;

/* CPUs that take part in scheduling: the targets of kernel-half changes.
 * Parked CPUs run only their start-up loop, which touches nothing that
 * can be unmapped, and flush everything when they join. */
static uint32_t online_cpus = 1;

void arch_tlb_cpu_online(uint32_t cpu)
{
    __atomic_fetch_or(&online_cpus, 1u << cpu, __ATOMIC_RELEASE);
}

/* Drop every translation, global (kernel) ones too: toggling CR4.PGE
 * flushes the whole TLB. */
void tlb_flush_all_local(void)
{
    uint64_t cr4 = read_cr4();
    if (cr4 & CR4_PGE) {
        write_cr4(cr4 & ~CR4_PGE);
        write_cr4(cr4);
    } else {
        write_cr3(read_cr3());
    }
}

void arch_tlb_flush_local(void)
{
    tlb_flush_all_local();
}

void arch_tlb_service(void)
{
    uint32_t me = 1u << arch_percpu_self()->cpu;
    if (!(__atomic_load_n(&request.pending, __ATOMIC_ACQUIRE) & me))
        return;
    uint64_t va = request.va;
    if (va == TLB_FLUSH_ALL)
        tlb_flush_all_local();
    else
        invlpg(va);
    /* Release: the flush is done before the sender sees the bit clear. */
    __atomic_fetch_and(&request.pending, ~me, __ATOMIC_RELEASE);
}

void tlb_shootdown(uint32_t cpus, uint64_t va)
{
    cpus &= ~(1u << arch_percpu_self()->cpu);
    if (!cpus)
        return;
    request.va = va;
    __atomic_store_n(&request.pending, cpus, __ATOMIC_RELEASE);
    for (uint32_t m = cpus; m; m &= m - 1)
        arch_ipi_send((uint32_t)__builtin_ctz(m), VEC_IPI_TLB);
    /* Every target answers within microseconds: from user mode through
     * the IPI, from a spin loop by polling. A CPU that never does is
     * broken; say so rather than hang. */
    uint64_t give_up = arch_clock_ns() + 1000000000ull;
    while (__atomic_load_n(&request.pending, __ATOMIC_ACQUIRE)) {
        cpu_pause();
        if (arch_clock_ns() > give_up)
            panic("tlb: CPU set %#x did not answer a shootdown of %#lx within 1 s",
                  __atomic_load_n(&request.pending, __ATOMIC_RELAXED), (unsigned long)va);
    }
}

uint32_t tlb_online_cpus(void)
{
    return __atomic_load_n(&online_cpus, __ATOMIC_ACQUIRE);
}
