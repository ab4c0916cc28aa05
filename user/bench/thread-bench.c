/*
 * Thread benchmarks (make bench; docs/threads.md): instructions per
 * operation under QEMU -icount shift=0,sleep=off.
 *
 *   thread-create-join  thrd_create + thrd_join of a thread that returns
 *                       at once (stack, TLS and record from the heap)
 *   park-pingpong       one round trip between two threads through
 *                       ParkSpace: each side wakes the other and waits,
 *                       through the runtime (capos_park_wake/wait stubs)
 *   park-pingpong-batched
 *                       the same with each side's wake and wait as two
 *                       prebuilt CALL SQEs in one cap_enter
 *   mtx-uncontended     mtx_lock + mtx_unlock with nobody else
 *   mtx-uncontended-kernel-entries
 *                       cap_enter calls made during those (must be 0)
 *
 * Run as the only program (a raw ELF boot module gets every kernel source).
 */
#include <threads.h>

#include "bench.h"
#include "capos_threads.h"

#define CREATES 200
#define PINGS   2000
#define LOCKS   10000

static int nothing(void *arg)
{
    return 0;
}

static uint64_t bench_create_join(void)
{
    thrd_t t;
    thrd_create(&t, nothing, 0); /* warm: the heap grows once */
    thrd_join(t, 0);
    uint64_t t0 = rdtsc();
    for (int i = 0; i < CREATES; i++) {
        if (thrd_create(&t, nothing, 0) != thrd_success || thrd_join(t, 0) != thrd_success)
            capos_panic("thread-bench: create/join failed");
    }
    return (rdtsc() - t0) / CREATES;
}

/* The word the two sides pass: 1 when it is B's turn, 0 when A's. */
static uint32_t turn;

static int pong(void *arg)
{
    for (int i = 0; i < PINGS + 1; i++) {
        while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == 0)
            capos_park_wait(&turn, 0, 0);
        __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
        capos_park_wake(&turn, 1);
    }
    return 0;
}

static uint64_t bench_pingpong(void)
{
    thrd_t t;
    turn = 0;
    thrd_create(&t, pong, 0);
    uint64_t t0 = 0;
    for (int i = 0; i < PINGS + 1; i++) {
        if (i == 1)
            t0 = rdtsc(); /* the first round trip starts the other thread */
        __atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
        capos_park_wake(&turn, 1);
        while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == 1)
            capos_park_wait(&turn, 1, 0);
    }
    uint64_t per = (rdtsc() - t0) / PINGS;
    thrd_join(t, 0);
    return per;
}

/* ---- the same, each side's wake and wait in one cap_enter ---- */

struct side {
    uint8_t wake_params[128], wait_params[128];
    uint32_t wake_len, wait_len;
    uint8_t wake_res[64], wait_res[64];
};

static uint32_t frame(struct capnpc_call *c, uint8_t *out)
{
    struct capnpc_request req;
    if (!capnpc_call_frame(c, 0, 0, 0, &req))
        capos_panic("thread-bench: params did not fit");
    __builtin_memcpy(out, req.params, req.params_len);
    return (uint32_t)req.params_len;
}

/* Prebuilt params: wake(turn, 1), and wait(turn, expected). */
static void side_init(struct side *s, uint32_t expected)
{
    uint8_t p[128], r[64];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    ParkSpace_wake_Params_b w = ParkSpace_wake_begin(&c);
    ParkSpace_wake_Params_set_addr(w, (uint64_t)(uintptr_t)&turn);
    ParkSpace_wake_Params_set_count(w, 1);
    s->wake_len = frame(&c, s->wake_params);
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    ParkSpace_wait_Params_b a = ParkSpace_wait_begin(&c);
    ParkSpace_wait_Params_set_addr(a, (uint64_t)(uintptr_t)&turn);
    ParkSpace_wait_Params_set_expected(a, expected);
    s->wait_len = frame(&c, s->wait_params);
}

/* Hand the turn over (store `give`), wake the other side and wait while
 * the word is still `give`, as two SQEs in one cap_enter. */
static void pass(struct side *s, uint32_t give)
{
    volatile struct capos_ring *r = capos_ring();
    uint32_t park = capos_park_cap();
    __atomic_store_n(&turn, give, __ATOMIC_RELEASE);
    for (;;) {
        uint32_t tail = r->sq_tail;
        r->sq[tail & CAPOS_SQ_MASK] =
            (struct capos_sqe){.opcode = CAPOS_OP_CALL,
                               .cap = park,
                               .interface_id = ParkSpace_INTERFACE_ID,
                               .method = ParkSpace_wake_METHOD,
                               .params_addr = (uint64_t)(uintptr_t)s->wake_params,
                               .params_len = s->wake_len,
                               .result_addr = (uint64_t)(uintptr_t)s->wake_res,
                               .result_len = sizeof(s->wake_res),
                               .user_data = 1};
        r->sq[(tail + 1) & CAPOS_SQ_MASK] =
            (struct capos_sqe){.opcode = CAPOS_OP_CALL,
                               .cap = park,
                               .interface_id = ParkSpace_INTERFACE_ID,
                               .method = ParkSpace_wait_METHOD,
                               .params_addr = (uint64_t)(uintptr_t)s->wait_params,
                               .params_len = s->wait_len,
                               .result_addr = (uint64_t)(uintptr_t)s->wait_res,
                               .result_len = sizeof(s->wait_res),
                               .user_data = 2};
        __atomic_store_n(&r->sq_tail, tail + 2, __ATOMIC_RELEASE);
        capos_cap_enter(2, UINT64_MAX);
        __atomic_store_n(&r->cq_head, r->cq_head + 2, __ATOMIC_RELEASE);
        if (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != give)
            return;
        /* Woken for nothing: go again (one more wake does no harm). */
    }
}

static struct side side_a, side_b;

static int pong_batched(void *arg)
{
    side_init(&side_b, 0);
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == 0)
        capos_park_wait(&turn, 0, 0);
    for (int i = 0; i < PINGS - 1; i++)
        pass(&side_b, 0);
    /* The last hand-back, without waiting for a turn that never comes. */
    __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
    capos_park_wake(&turn, 1);
    return 0;
}

static uint64_t bench_pingpong_batched(void)
{
    thrd_t t;
    turn = 0;
    side_init(&side_a, 1);
    thrd_create(&t, pong_batched, 0);
    pass(&side_a, 1); /* B starts, hands back */
    uint64_t t0 = rdtsc();
    for (int i = 0; i < PINGS - 1; i++)
        pass(&side_a, 1);
    uint64_t per = (rdtsc() - t0) / (PINGS - 1);
    thrd_join(t, 0);
    return per;
}

/* ---- uncontended mutex ---- */

static uint64_t bench_mutex(uint64_t *entries)
{
    mtx_t m;
    mtx_init(&m, mtx_plain);
    volatile struct capos_ring *r = capos_ring();
    uint32_t head0 = r->sq_head;
    uint64_t t0 = rdtsc();
    for (int i = 0; i < LOCKS; i++) {
        mtx_lock(&m);
        mtx_unlock(&m);
    }
    uint64_t per = (rdtsc() - t0) / LOCKS;
    /* Every kernel call goes through this thread's ring: its SQ head
     * moves only when the kernel consumed something. */
    *entries = r->sq_head - head0;
    return per;
}

int main(void)
{
    uint64_t cj = bench_create_join();
    uint64_t pp = bench_pingpong();
    uint64_t ppb = bench_pingpong_batched();
    uint64_t entries = 0;
    uint64_t mx = bench_mutex(&entries);
    capos_printf("bench: thread-create-join %lu\n", cj);
    capos_printf("bench: park-pingpong %lu\n", pp);
    capos_printf("bench: park-pingpong-batched %lu\n", ppb);
    capos_printf("bench: mtx-uncontended %lu\n", mx);
    capos_printf("bench: mtx-uncontended-kernel-entries %lu\n", entries);
    return 0;
}
