/*
 * Parking for the runtime's locks and the C11 primitives: the ParkSpace
 * capability named "park". A process without it never has a second thread
 * (thrd_create refuses), so its locks are never contended and never park.
 *
 * These calls go straight to the ring with stack buffers: they must not
 * take any runtime lock themselves (the heap's lock parks through here).
 */
#include "capos_rt.h"

#include "capnp/flat.h"
#include "capos.capnp.h"
#include "capos_threads.h"

uint32_t capos_park_cap(void)
{
    static uint32_t cap;
    if (!cap)
        cap = capos_capset_find("park", ParkSpace_INTERFACE_ID, 0);
    return cap;
}

/*
 * A ParkSpace call: its params framed flat (lib/capnp/flat.h: the shape
 * the kernel answers without its general reader and builder) and written
 * in place in the SQ, room for the answer (flat results, or a
 * CapException from the kernel's general path), and its user_data. Both
 * methods' params and results are scalars only.
 */
struct park_call {
    uint64_t params[CAPN_FLAT_LEN(CAPN_FLAT_MAX_DATA)];
    uint64_t results[16];
    uint64_t id;
};
_Static_assert(CAPN_FLAT_WORDS(ParkSpace_wakeWait_Params) <= CAPN_FLAT_MAX_DATA &&
                   CAPN_FLAT_WORDS(ParkSpace_wait_Results) == 1 &&
                   CAPN_FLAT_WORDS(ParkSpace_wake_Results) == 1 &&
                   CAPN_FLAT_WORDS(ParkSpace_wakeWait_Results) == 1,
               "ParkSpace's params fit a flat message, and each result is one word");

/* park_submit and park_answer are inlined into each of the three calls:
 * a lock hand-over is one of them, and the calls cost as much as the
 * steps (park-pingpong-batched 1,517 -> 1,463, docs/benchmarks.md). */
__attribute__((always_inline)) static inline bool park_submit(struct park_call *c, uint32_t cap,
                                                              uint16_t method, uint32_t words)
{
    c->id = capos_ring_next_id();
    capn_flat_frame(c->params, words);
    struct capos_sqe sqe = {
        .opcode = CAPOS_OP_CALL,
        .method = method,
        .cap = cap,
        .interface_id = ParkSpace_INTERFACE_ID,
        .params_addr = (uint64_t)(uintptr_t)c->params,
        .params_len = 8 * CAPN_FLAT_LEN(words),
        .result_addr = (uint64_t)(uintptr_t)c->results,
        .result_len = sizeof(c->results),
        .user_data = c->id,
    };
    struct capos_sqe *slot = capos_ring_sqe_slot();
    if (!slot)
        return capos_ring_submit(&sqe);
    *slot = sqe;
    capos_ring_sqe_publish();
    return true;
}

/* The call's one result word, waited for; false on a transport error or
 * an exception (a bad address: the kernel words it, docs/threads.md). */
__attribute__((always_inline)) static inline bool park_answer(struct park_call *c, uint64_t *word)
{
    struct capos_cqe cqe;
    if (!capos_ring_take_first(c->id, &cqe) && !capos_ring_wait(c->id, &cqe))
        return false;
    if (cqe.result != 0 || (cqe.flags & CAPOS_CQE_F_EXCEPTION) ||
        cqe.result_len != 8 * CAPN_FLAT_LEN(1) || !capn_flat_framed(c->results, 1))
        return false;
    *word = c->results[CAPN_FLAT_DATA];
    return true;
}

static void wait_params(struct park_call *c, const volatile uint32_t *addr, uint32_t expected,
                        uint64_t timeout_ns)
{
    ParkSpace_wait_Params_b p =
        CAPN_FLAT_BUILDER(ParkSpace_wait_Params, c->params + CAPN_FLAT_DATA);
    for (uint32_t i = 0; i < CAPN_FLAT_WORDS(ParkSpace_wait_Params); i++)
        c->params[CAPN_FLAT_DATA + i] = 0;
    ParkSpace_wait_Params_set_addr(p, (uint64_t)(uintptr_t)addr);
    ParkSpace_wait_Params_set_expected(p, expected);
    ParkSpace_wait_Params_set_timeoutNs(p, timeout_ns);
}

static void wake_params(struct park_call *c, const volatile uint32_t *addr, uint32_t count)
{
    ParkSpace_wake_Params_b p =
        CAPN_FLAT_BUILDER(ParkSpace_wake_Params, c->params + CAPN_FLAT_DATA);
    for (uint32_t i = 0; i < CAPN_FLAT_WORDS(ParkSpace_wake_Params); i++)
        c->params[CAPN_FLAT_DATA + i] = 0;
    ParkSpace_wake_Params_set_addr(p, (uint64_t)(uintptr_t)addr);
    ParkSpace_wake_Params_set_count(p, count);
}

static int woken_of(struct park_call *c)
{
    uint64_t w;
    if (!park_answer(c, &w))
        return CAPOS_PARK_ERROR;
    return ParkSpace_wait_Results_get_woken(CAPN_FLAT_READER(ParkSpace_wait_Results, &w))
               ? CAPOS_PARK_WOKEN
               : CAPOS_PARK_NOT_WOKEN;
}

int capos_park_wait(const volatile uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    uint32_t cap = capos_park_cap();
    struct park_call c;
    wait_params(&c, addr, expected, timeout_ns);
    if (!cap ||
        !park_submit(&c, cap, ParkSpace_wait_METHOD, CAPN_FLAT_WORDS(ParkSpace_wait_Params)))
        return CAPOS_PARK_ERROR;
    capos_cap_enter(1, UINT64_MAX);
    return woken_of(&c);
}

uint32_t capos_park_wake(const volatile uint32_t *addr, uint32_t count)
{
    uint32_t cap = capos_park_cap();
    struct park_call c;
    wake_params(&c, addr, count);
    uint64_t w;
    if (!cap ||
        !park_submit(&c, cap, ParkSpace_wake_METHOD, CAPN_FLAT_WORDS(ParkSpace_wake_Params)))
        return 0;
    capos_cap_enter(1, UINT64_MAX);
    if (!park_answer(&c, &w))
        return 0;
    return ParkSpace_wake_Results_get_woken(CAPN_FLAT_READER(ParkSpace_wake_Results, &w));
}

int capos_park_wake_wait(const volatile uint32_t *wake_addr, uint32_t count,
                         const volatile uint32_t *wait_addr, uint32_t expected, uint64_t timeout_ns)
{
    uint32_t cap = capos_park_cap();
    struct park_call c;
    ParkSpace_wakeWait_Params_b p =
        CAPN_FLAT_BUILDER(ParkSpace_wakeWait_Params, c.params + CAPN_FLAT_DATA);
    for (uint32_t i = 0; i < CAPN_FLAT_WORDS(ParkSpace_wakeWait_Params); i++)
        c.params[CAPN_FLAT_DATA + i] = 0;
    ParkSpace_wakeWait_Params_set_wakeAddr(p, (uint64_t)(uintptr_t)wake_addr);
    ParkSpace_wakeWait_Params_set_count(p, count);
    ParkSpace_wakeWait_Params_set_waitAddr(p, (uint64_t)(uintptr_t)wait_addr);
    ParkSpace_wakeWait_Params_set_expected(p, expected);
    ParkSpace_wakeWait_Params_set_timeoutNs(p, timeout_ns);
    uint64_t w;
    if (!cap || !park_submit(&c, cap, ParkSpace_wakeWait_METHOD,
                             CAPN_FLAT_WORDS(ParkSpace_wakeWait_Params)))
        return CAPOS_PARK_ERROR;
    capos_cap_enter(1, UINT64_MAX);
    if (!park_answer(&c, &w))
        return CAPOS_PARK_ERROR;
    return ParkSpace_wakeWait_Results_get_woken(CAPN_FLAT_READER(ParkSpace_wakeWait_Results, &w))
               ? CAPOS_PARK_WOKEN
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
