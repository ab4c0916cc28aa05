/* User memory access through page-table lookups (see usercopy.h). */
#include "usercopy.h"
#include "hotpath.h"

#include <arch/paging.h>
#include <capos/errors.h>
#include <capos/layout.h>

#include "process.h"
#include "string.h"

int copy_from_user_any(struct process *p, void *dst, uint64_t uaddr, size_t len)
{
    if (!user_range_ok(uaddr, len))
        return CAPOS_E_BAD_ADDRESS;
    /* The space CR3 holds: copy through its mapping, faults caught. */
    if (space_in_cr3(p))
        return arch_user_copy(dst, (const void *)uaddr, len) ? CAPOS_E_BAD_ADDRESS : 0;
    uint8_t *d = dst;
    while (len) {
        const uint8_t *s = vmspace_user_page(&p->vm, uaddr, false);
        if (!s)
            return CAPOS_E_BAD_ADDRESS;
        size_t chunk = PAGE_SIZE - (uaddr & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        memcpy(d, s, chunk);
        d += chunk;
        uaddr += chunk;
        len -= chunk;
    }
    return 0;
}

int copy_to_user_any(struct process *p, uint64_t uaddr, const void *src, size_t len)
{
    if (!user_range_ok(uaddr, len))
        return CAPOS_E_BAD_ADDRESS;
    if (space_in_cr3(p))
        return arch_user_copy((void *)uaddr, src, len) ? CAPOS_E_BAD_ADDRESS : 0;
    /* Within one page, the common case (a message and its header): one
     * walk. */
    size_t first = PAGE_SIZE - (uaddr & (PAGE_SIZE - 1));
    if (len <= first) {
        uint8_t *d = user_span_writable(p, uaddr, len);
        if (!d)
            return CAPOS_E_BAD_ADDRESS;
        memcpy(d, src, len);
        return 0;
    }
    /* Check every page first so that a failure writes nothing, keeping
     * what the walk found for the copy (messages span a few pages; a
     * longer range is walked again). */
    enum { KEEP = 18 };
    uint8_t *pages[KEEP];
    unsigned n = 0;
    for (uint64_t va = uaddr & ~(uint64_t)(PAGE_SIZE - 1); va < uaddr + len; va += PAGE_SIZE, n++) {
        uint8_t *d = vmspace_user_page(&p->vm, va, true);
        if (!d)
            return CAPOS_E_BAD_ADDRESS;
        if (n < KEEP)
            pages[n] = d;
    }
    const uint8_t *s = src;
    for (unsigned i = 0; len; i++) {
        uint64_t off = uaddr & (PAGE_SIZE - 1);
        uint8_t *d = i < KEEP ? pages[i] + off : vmspace_user_page(&p->vm, uaddr, true);
        size_t chunk = PAGE_SIZE - off;
        if (chunk > len)
            chunk = len;
        memcpy(d, s, chunk);
        s += chunk;
        uaddr += chunk;
        len -= chunk;
    }
    return 0;
}

bool user_writable_range(struct process *p, uint64_t dst, size_t len)
{
    if (!user_range_ok(dst, len))
        return false;
    for (uint64_t va = dst & ~(uint64_t)(PAGE_SIZE - 1); va < dst + len; va += PAGE_SIZE)
        if (!vmspace_user_page(&p->vm, va, true))
            return false;
    return true;
}

int copy_user_across(struct process *p, uint64_t dst, uint64_t src, size_t len)
{
    if (!user_range_ok(src, len))
        return CAPOS_E_BAD_ADDRESS;
    /* src is the running process's: CR3 must hold its space, not (after a
     * switch) the previous thread's. */
    vmspace_sync();
    while (len) {
        size_t chunk = PAGE_SIZE - (dst & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        /* Checked writable by user_writable_range; found again (the page
         * remembered, or one walk) rather than kept in a list. */
        uint8_t *d = vmspace_user_page(&p->vm, dst, true);
        if (!d || arch_user_copy(d, (const void *)src, chunk))
            return CAPOS_E_BAD_ADDRESS;
        dst += chunk;
        src += chunk;
        len -= chunk;
    }
    return 0;
}
