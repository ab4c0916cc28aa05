/* Device register windows (mmio.h): a bump allocator over the MMIO region. */
#include "mmio.h"

#include <arch/layout.h>
#include <arch/paging.h>

/* The local APIC owns the region's first page (kernel/arch/x86_64/lapic.c);
 * drivers start 1 MiB in. */
#define MMIO_DRIVER_BASE (MMIO_REGION_BASE + 0x100000)

static uint64_t next = MMIO_DRIVER_BASE;

volatile void *mmio_map(uint64_t pa, uint64_t len)
{
    uint64_t first = pa & ~(uint64_t)(PAGE_SIZE - 1);
    if (len == 0 || pa > UINT64_MAX - len)
        return 0;
    uint64_t last = (pa + len - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t pages = (last - first) / PAGE_SIZE + 1;
    if (pages > (MMIO_REGION_BASE + MMIO_REGION_SIZE - next) / PAGE_SIZE)
        return 0;
    /* Claimed first: after a failure half way, the pages already mapped
     * stay out of later windows. */
    uint64_t va = next;
    next += pages * PAGE_SIZE;
    for (uint64_t i = 0; i < pages; i++)
        if (!paging_map(va + i * PAGE_SIZE, first + i * PAGE_SIZE, VM_WRITE | VM_UNCACHED))
            return 0;
    return (volatile void *)(va + (pa - first));
}
