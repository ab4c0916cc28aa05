/*
 * Capability handles with local reference counts: release is transport.
 * capos_handle_dup takes another local reference; capos_handle_drop gives
 * one back, and dropping the last queues a RELEASE that goes out with the
 * next submission (or capos_flush_releases). Received capabilities become
 * handles through capos_adopt, which checks the interface first.
 */
#include "capos_rt.h"

/* Extra references per capability-table index (the first one is implicit:
 * a capability the process holds has one reference until dropped). The
 * kernel's table has 256 slots per process; an index beyond that cannot be
 * dup'ed and is always released by its first drop. */
#define HANDLE_SLOTS 256
static uint16_t extra[HANDLE_SLOTS];

/* The counts are atomic: threads of one process share its handles. */
uint32_t capos_handle_dup(uint32_t cap)
{
    uint32_t i = cap & 0xffff;
    if (!cap || i >= HANDLE_SLOTS)
        return cap;
    uint16_t n = __atomic_load_n(&extra[i], __ATOMIC_RELAXED);
    while (n < UINT16_MAX && !__atomic_compare_exchange_n(&extra[i], &n, n + 1, true,
                                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    return cap;
}

void capos_handle_drop(uint32_t cap)
{
    if (!cap)
        return;
    uint32_t i = cap & 0xffff;
    if (i < HANDLE_SLOTS) {
        uint16_t n = __atomic_load_n(&extra[i], __ATOMIC_RELAXED);
        while (n && !__atomic_compare_exchange_n(&extra[i], &n, n - 1, true, __ATOMIC_RELAXED,
                                                 __ATOMIC_RELAXED))
            ;
        if (n)
            return;
    }
    capos_release(cap);
}

uint32_t capos_adopt(const struct capos_cap_record *rec, uint64_t interface_id)
{
    if (rec->interface_id != interface_id) {
        /* Not what the program expects: do not keep it around unused. */
        capos_release(rec->cap);
        return 0;
    }
    return rec->cap;
}
