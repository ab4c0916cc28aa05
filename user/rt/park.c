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

int capos_park_wake_wait(const volatile uint32_t *wake_addr, uint32_t count,
                         const volatile uint32_t *wait_addr, uint32_t expected, uint64_t timeout_ns)
{
    uint32_t cap = capos_park_cap();
    if (!cap)
        return CAPOS_PARK_ERROR;
    uint8_t wake_p[64], wake_r[64], wait_p[64], wait_r[64];
    struct capnpc_call wake, wait;
    capnpc_call_init(&wake, wake_p, sizeof(wake_p), wake_r, sizeof(wake_r));
    ParkSpace_wake_Params_b w = ParkSpace_wake_begin(&wake);
    ParkSpace_wake_Params_set_addr(w, (uint64_t)(uintptr_t)wake_addr);
    ParkSpace_wake_Params_set_count(w, count);
    capnpc_call_init(&wait, wait_p, sizeof(wait_p), wait_r, sizeof(wait_r));
    ParkSpace_wait_Params_b a = ParkSpace_wait_begin(&wait);
    ParkSpace_wait_Params_set_addr(a, (uint64_t)(uintptr_t)wait_addr);
    ParkSpace_wait_Params_set_expected(a, expected);
    ParkSpace_wait_Params_set_timeoutNs(a, timeout_ns);
    uint64_t wake_id = capos_ring_next_id(), wait_id = capos_ring_next_id();
    if (!capos_call_start(&wake, cap, ParkSpace_INTERFACE_ID, ParkSpace_wake_METHOD, wake_id))
        return CAPOS_PARK_ERROR;
    bool waiting = capos_call_start(&wait, cap, ParkSpace_INTERFACE_ID, ParkSpace_wait_METHOD, wait_id);
    /* Both SQEs go in with this one entry: the wake completes at once,
     * the wait when woken (or at once if the word has changed). */
    capos_cap_enter(waiting ? 2 : 1, UINT64_MAX);
    struct capos_cqe cqe;
    if (!capos_ring_wait(wake_id, &cqe) || !waiting || !capos_ring_wait(wait_id, &cqe))
        return CAPOS_PARK_ERROR;
    struct capn_struct out;
    if (capos_call_finish(&wait, &cqe, &out) != CAPNPC_OK)
        return CAPOS_PARK_ERROR;
    return ParkSpace_wait_Results_get_woken((ParkSpace_wait_Results_r){out}) ? CAPOS_PARK_WOKEN
                                                                            : CAPOS_PARK_NOT_WOKEN;
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
