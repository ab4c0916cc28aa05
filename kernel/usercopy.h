/*
 * Copying between the kernel and a process's memory. A bad user pointer is
 * an error return, never a kernel fault: the range is checked to lie in the
 * user half, and then either the copy runs under a page-fault fixup
 * (arch_user_copy, when CR3 holds the process's address space) or every
 * page is looked up in the process's page tables and reached through the
 * direct map (any process).
 *
 * "CR3 holds it" (space_in_cr3), not "it is the running process": after
 * a switch CR3 keeps the previous thread's space until the kernel lock is
 * let go (docs/smp.md), and a copy through it then would reach that
 * process's memory.
 */
#ifndef CAPOS_USERCOPY_H
#define CAPOS_USERCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capos/errors.h>
#include <capos/layout.h>

#include <arch/paging.h>

#include "process.h"
#include "sched.h"

struct process;

/*
 * 0, or CAPOS_E_BAD_ADDRESS when any byte is not mapped for user access
 * (or, for copy_to_user, not writable). For the process in CR3 (the
 * running one, nearly always) the copy goes through its own mapping and
 * a fault ends it (fast; a failed copy_to_user may have written the
 * bytes before the bad page). For any other process every page is
 * looked up first and nothing is written on failure.
 */
int copy_from_user_any(struct process *p, void *dst, uint64_t uaddr, size_t len);
int copy_to_user_any(struct process *p, uint64_t uaddr, const void *src, size_t len);

/*
 * Between two processes, straight from the running process's memory at
 * src into p's at dst: one copy instead of two through a kernel buffer.
 * user_writable_range() first (nothing is written if it fails); then
 * copy_user_across() can fail only on the source side (a fault under the
 * fixup), after having written part of the destination.
 */
bool user_writable_range(struct process *p, uint64_t dst, size_t len);

int copy_user_across(struct process *p, uint64_t dst, uint64_t src, size_t len);

static inline bool space_in_cr3(struct process *p)
{
    return vmspace_in_cr3(process_vmspace(p));
}

static inline bool user_range_ok(uint64_t uaddr, size_t len)
{
    /* A length known at compile time (a futex word, a flat answer): one
     * compare, the same answer (for len 0, uaddr < CAPOS_USER_LIMIT). */
    if (__builtin_constant_p(len) && len <= CAPOS_USER_LIMIT)
        return uaddr < CAPOS_USER_LIMIT - len + (len != 0);
    return uaddr < CAPOS_USER_LIMIT && len <= CAPOS_USER_LIMIT - uaddr;
}

/* Where p's bytes [uaddr, uaddr + len) are, through the direct map, when
 * they lie within one page that p may write; else NULL. Valid until p's
 * mappings next change: use it at once, under the kernel lock. Inline,
 * like vmspace_user_page's first step: the fast path's hooks ask it once
 * each. */
static inline void *user_span_writable(struct process *p, uint64_t uaddr, size_t len)
{
    if (!user_range_ok(uaddr, len) || len > PAGE_SIZE - (uaddr & (PAGE_SIZE - 1)))
        return 0;
    return vmspace_user_page(&p->vm, uaddr, true);
}

/* The common case inline (every CALL copies its params in and its results
 * out): the memory of the process in CR3, under the fault fixup. */
static inline int copy_from_user(struct process *p, void *dst, uint64_t uaddr, size_t len)
{
    if (space_in_cr3(p) && user_range_ok(uaddr, len))
        return arch_user_copy(dst, (const void *)uaddr, len) ? CAPOS_E_BAD_ADDRESS : 0;
    return copy_from_user_any(p, dst, uaddr, len);
}

/* One 4-byte word at a 4-byte aligned uaddr (a futex word): as
 * copy_from_user, in a few instructions for the process in CR3. */
static inline int copy_u32_from_user(struct process *p, uint32_t *dst, uint64_t uaddr)
{
    if (space_in_cr3(p) && user_range_ok(uaddr, 4))
        return arch_user_load32(dst, (const void *)uaddr) ? CAPOS_E_BAD_ADDRESS : 0;
    return copy_from_user_any(p, dst, uaddr, 4);
}

static inline int copy_to_user(struct process *p, uint64_t uaddr, const void *src, size_t len)
{
    if (space_in_cr3(p) && user_range_ok(uaddr, len))
        return arch_user_copy((void *)uaddr, src, len) ? CAPOS_E_BAD_ADDRESS : 0;
    return copy_to_user_any(p, uaddr, src, len);
}

#endif
