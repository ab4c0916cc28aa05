/* Local APIC: registers mapped uncached in the MMIO region. */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/trap.h>

#include "lapic.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define SVR_ENABLE       (1u << 8)

static volatile uint32_t *lapic;

uint32_t lapic_read(uint32_t reg)
{
    return lapic[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t v)
{
    lapic[reg / 4] = v;
}

bool lapic_init(void)
{
    uint64_t base_msr = rdmsr(MSR_APIC_BASE);
    uint64_t pa = base_msr & 0x000ffffffffff000ull;
    if (!paging_map(MMIO_REGION_BASE, pa, VM_WRITE | VM_UNCACHED))
        return false;
    wrmsr(MSR_APIC_BASE, base_msr | APIC_BASE_ENABLE);
    lapic = (volatile uint32_t *)MMIO_REGION_BASE;
    lapic_write(LAPIC_SPURIOUS, SVR_ENABLE | VEC_SPURIOUS);
    return true;
}

bool lapic_present(void)
{
    return lapic != 0;
}

/* Another CPU's own local APIC (same address, its own registers). */
void lapic_enable_this_cpu(void)
{
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE);
    lapic_write(LAPIC_SPURIOUS, SVR_ENABLE | VEC_SPURIOUS);
}

void lapic_eoi(void)
{
    if (lapic)
        lapic_write(LAPIC_EOI, 0);
}
