/*
 * Profiling target (tools/qemu-profile.py): round trips to
 * ipc-bench-server that move a capability there and back (the
 * ipc-move-back row of ipc-bench.c), between the "prof: start" and
 * "prof: end N" markers; beside prof-ipc.c's empty round trips, the
 * difference is what two transfers cost. Boot it as init of a manifest
 * with ipc-bench-server and the timer; not run by make bench.
 */
#include "bench.h"

#define N 2000

static const uint64_t empty_msg[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
static uint8_t results[64] __attribute__((aligned(8)));

static uint32_t move_rt(volatile struct capos_ring *r, uint32_t svc, uint32_t cap)
{
    struct capos_xfer x = {.cap = cap, .mode = CAPOS_XFER_MOVE};
    uint32_t tail = r->sq_tail;
    r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){
        .opcode = CAPOS_OP_CALL,
        .cap = svc,
        .interface_id = Echo_INTERFACE_ID,
        .method = 2,
        .params_addr = (uint64_t)empty_msg,
        .params_len = sizeof(empty_msg),
        .result_addr = (uint64_t)results,
        .result_len = sizeof(results),
        .user_data = 7,
        .xfer_count = 1,
        .xfer_addr = (uint64_t)&x,
    };
    __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    capos_cap_enter(1, UINT64_MAX);
    const volatile struct capos_cqe *c = &r->cq[r->cq_head & CAPOS_CQ_MASK];
    if (c->result != 0 || c->cap_count != 1)
        capos_panic("prof-move: the capability did not come back: %d", c->result);
    __atomic_store_n(&r->cq_head, r->cq_head + 1, __ATOMIC_RELEASE);
    return ((const struct capos_cap_record *)(results + 16))->cap;
}

int main(void)
{
    volatile struct capos_ring *r = capos_ring();
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t svc = 0;
    bench_spawn(spawner, "ipc-bench-server", 0, 0, 0, true, &svc);
    for (int i = 0; i < 100; i++)
        timer = move_rt(r, svc, timer);
    capos_printf("prof: start\n");
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    for (int i = 0; i < N; i++)
        timer = move_rt(r, svc, timer);
    capos_printf("prof: end %d\n", N);
    capos_printf("prof: done\n"); /* the benchmark system does not halt by itself */
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    return 0;
}
