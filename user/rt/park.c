/*
 * Parking for the runtime's locks and the C11 primitives: the ParkSpace
 * capability named "park". A process without it never has a second thread
 * (thrd_create refuses), so its locks are never contended and never park.
 *
 * These calls go straight to the ring with stack buffers: they must not
 * take any runtime lock themselves (the heap's lock parks through here).
 */
#include "capos_rt.h"

#include "capos.capnp.h"
#include "capos_threads.h"

uint32_t capos_park_cap(void)
{
    static uint32_t cap;
    if (!cap)
        cap = capos_capset_find("park", ParkSpace_INTERFACE_ID, 0);
    return cap;
}

int capos_park_wait(const volatile uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    uint32_t cap = capos_park_cap();
    if (!cap)
        return CAPOS_PARK_ERROR;
    uint8_t params[128], results[128];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    ParkSpace_wait_Results_r r;
    if (ParkSpace_wait_call(&capos_transport, cap, &c, (uint64_t)(uintptr_t)addr, expected,
                            timeout_ns, &r) != CAPNPC_OK)
        return CAPOS_PARK_ERROR;
    return ParkSpace_wait_Results_get_woken(r) ? CAPOS_PARK_WOKEN : CAPOS_PARK_NOT_WOKEN;
}

uint32_t capos_park_wake(const volatile uint32_t *addr, uint32_t count)
{
    uint32_t cap = capos_park_cap();
    if (!cap)
        return 0;
    uint8_t params[128], results[128];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    ParkSpace_wake_Results_r r;
    if (ParkSpace_wake_call(&capos_transport, cap, &c, (uint64_t)(uintptr_t)addr, count, &r) !=
        CAPNPC_OK)
        return 0;
    return ParkSpace_wake_Results_get_woken(r);
}

/*
 * The runtime's lock: a three-state futex mutex (0 free, 1 held, 2 held
 * with waiters). Taking a free lock and giving back one nobody waits for
 * are one atomic instruction each, with no kernel entry.
 */
void capos_lock(struct capos_lock *l)
{
    uint32_t c = 0;
    /* Acquire: what the previous holder wrote is visible to us. */
    if (__atomic_compare_exchange_n(&l->state, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        capos_park_wait(&l->state, 2, 0);
        c = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
    }
}

bool capos_trylock(struct capos_lock *l)
{
    uint32_t c = 0;
    return __atomic_compare_exchange_n(&l->state, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void capos_unlock(struct capos_lock *l)
{
    /* Release: our writes are visible to the next holder. */
    if (__atomic_fetch_sub(&l->state, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(&l->state, 0, __ATOMIC_RELEASE);
        capos_park_wake(&l->state, 1);
    }
}
