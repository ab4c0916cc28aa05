/* User memory access through page-table lookups (see usercopy.h). */
#include "usercopy.h"

#include <arch/paging.h>
#include <capos/errors.h>
#include <capos/layout.h>

#include "process.h"
#include "string.h"

/* Physical address of the user byte at va, if mapped with `need` flags. */
static bool user_page(const struct process *p, uint64_t va, uint32_t need, uint64_t *pa)
{
    uint32_t flags;
    if (!vmspace_translate(&p->vm, va, pa, &flags))
        return false;
    return (flags & VM_USER) && (flags & need) == need;
}

int copy_from_user_any(const struct process *p, void *dst, uint64_t uaddr, size_t len)
{
    if (!user_range_ok(uaddr, len))
        return CAPOS_E_BAD_ADDRESS;
    /* The caller's own memory: copy through its mapping, faults caught. */
    if (p == process_current())
        return arch_user_copy(dst, (const void *)uaddr, len) ? CAPOS_E_BAD_ADDRESS : 0;
    uint8_t *d = dst;
    while (len) {
        uint64_t pa;
        if (!user_page(p, uaddr, 0, &pa))
            return CAPOS_E_BAD_ADDRESS;
        size_t chunk = PAGE_SIZE - (uaddr & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        memcpy(d, phys_to_virt(pa), chunk);
        d += chunk;
        uaddr += chunk;
        len -= chunk;
    }
    return 0;
}

int copy_to_user_any(const struct process *p, uint64_t uaddr, const void *src, size_t len)
{
    if (!user_range_ok(uaddr, len))
        return CAPOS_E_BAD_ADDRESS;
    if (p == process_current())
        return arch_user_copy((void *)uaddr, src, len) ? CAPOS_E_BAD_ADDRESS : 0;
    /* Check every page first so that a failure writes nothing, keeping
     * what the walk found for the copy (messages span a few pages; a
     * longer range is walked again). */
    enum { KEEP = 18 };
    uint64_t pages[KEEP];
    unsigned n = 0;
    for (uint64_t va = uaddr & ~(uint64_t)(PAGE_SIZE - 1); va < uaddr + len; va += PAGE_SIZE, n++) {
        uint64_t pa;
        if (!user_page(p, va, VM_WRITE, &pa))
            return CAPOS_E_BAD_ADDRESS;
        if (n < KEEP)
            pages[n] = pa & ~(uint64_t)(PAGE_SIZE - 1);
    }
    const uint8_t *s = src;
    for (unsigned i = 0; len; i++) {
        uint64_t pa;
        if (i < KEEP)
            pa = pages[i] | (uaddr & (PAGE_SIZE - 1));
        else
            user_page(p, uaddr, VM_WRITE, &pa);
        size_t chunk = PAGE_SIZE - (uaddr & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        memcpy(phys_to_virt(pa), s, chunk);
        s += chunk;
        uaddr += chunk;
        len -= chunk;
    }
    return 0;
}
