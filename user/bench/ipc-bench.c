/*
 * IPC benchmarks (make bench; docs/benchmarks.md): the round trip client
 * CALL -> server RECV -> RETURN -> client CQE between two processes that
 * share nothing but an endpoint, through raw ring entries (no stubs), with
 *   ipc-empty      a minimal params message (16 bytes: an empty struct),
 *   ipc-256        256 bytes of params,
 *   ipc-cap        the minimal message plus one capability copied (the
 *                  server releases it in the same cap_enter as its RETURN),
 *   ipc-move-back  one capability moved to the server and moved back with
 *                  the RETURN: two transfers and no release, so
 *                  (ipc-move-back - ipc-empty) / 2 is the cost of one
 *                  transfer.
 * Each figure is the mean over ITERATIONS round trips after a warm-up,
 * measured with rdtsc in the client: user and kernel time of both sides.
 */
#include "capos_rt.h"

#include "bench.h"
#include "capos.capnp.h"

#define ITERATIONS 1000

static volatile struct capos_ring *r;
static uint64_t params[32] = {0x0000000100000000ull, 0x00000000fffffffcull};
static uint8_t results[64] __attribute__((aligned(8)));

static uint16_t method; /* 1 asks the server to exit after answering */

static uint32_t xfer_mode = CAPOS_XFER_COPY;

static uint64_t bench(uint32_t svc, uint32_t params_len, uint32_t cap, int iterations)
{
    struct capos_xfer x = {.cap = cap, .mode = xfer_mode};
    uint64_t t0 = rdtsc();
    for (int i = 0; i < iterations; i++) {
        uint32_t tail = r->sq_tail;
        r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){
            .opcode = CAPOS_OP_CALL,
            .cap = svc,
            .interface_id = Echo_INTERFACE_ID,
            .method = method,
            .params_addr = (uint64_t)params,
            .params_len = params_len,
            .result_addr = (uint64_t)results,
            .result_len = sizeof(results),
            .user_data = 7,
            .xfer_count = cap ? 1 : 0,
            .xfer_addr = cap ? (uint64_t)&x : 0,
        };
        __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
        capos_cap_enter(1, UINT64_MAX);
        const volatile struct capos_cqe *c = &r->cq[r->cq_head & CAPOS_CQ_MASK];
        if (c->result != 0 || c->result_len != 16)
            capos_panic("ipc-bench: call %d failed: %d", i, c->result);
        if (xfer_mode == CAPOS_XFER_MOVE) {
            /* It came back under a new id. */
            const struct capos_cap_record *rec = (const void *)(results + 16);
            if (c->cap_count != 1)
                capos_panic("ipc-bench: the capability did not come back");
            x.cap = rec->cap;
        }
        __atomic_store_n(&r->cq_head, r->cq_head + 1, __ATOMIC_RELEASE);
    }
    return (rdtsc() - t0) / (uint64_t)iterations;
}

int main(void)
{
    r = capos_ring();
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    if (!spawner || !timer)
        capos_panic("ipc-bench: needs spawner and timer");

    static uint8_t p[1024] __attribute__((aligned(8))), res[512] __attribute__((aligned(8)));
    uint32_t rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    capnpc_call_caps(&c, 0, 0, rcaps, 2);
    ProcessSpawner_spawn_Params_b sp = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(sp, "ipc-bench-server", 16);
    ProcessSpawner_spawn_Params_set_binaryName(sp, "ipc-bench-server", 16);
    List_Export_b x = ProcessSpawner_spawn_Params_init_exports(sp, 1);
    Export_set_name(List_Export_at(x, 0), "svc", 3);
    Export_set_interfaceId(List_Export_at(x, 0), Echo_INTERFACE_ID);
    ProcessSpawner_spawn_Results_r sr;
    if (ProcessSpawner_spawn_send(&capos_transport, spawner, &c, &sr) != CAPNPC_OK)
        capos_panic("ipc-bench: cannot start the server");
    List_ProcessSpawner_Grant_r ex = ProcessSpawner_spawn_Results_get_exports(sr);
    uint32_t svc = rcaps[ProcessSpawner_Grant_get_cap(List_ProcessSpawner_Grant_get(ex, 0)) & 1];
    uint32_t handle = rcaps[ProcessSpawner_spawn_Results_get_handle(sr) & 1];

    /* 256 bytes of params: a struct with 31 data words. */
    static uint64_t big[32];
    big[0] = 0x0000001f00000000ull; /* one segment of 31 words */
    big[1] = 0x0000001e00000000ull; /* root: struct, 30 data words, no pointers */

    bench(svc, 16, 0, 100); /* warm-up: both processes' pages and caches */
    uint64_t empty = bench(svc, 16, 0, ITERATIONS);
    for (int i = 0; i < 32; i++)
        params[i] = big[i];
    bench(svc, 256, 0, 100);
    uint64_t b256 = bench(svc, 256, 0, ITERATIONS);
    params[0] = 0x0000000100000000ull;
    params[1] = 0x00000000fffffffcull;
    bench(svc, 16, timer, 100);
    uint64_t cap = bench(svc, 16, timer, ITERATIONS);

    /* The Timer goes to the server and comes back, under a new id each
     * time (read from the result-capability record). */
    xfer_mode = CAPOS_XFER_MOVE;
    method = 2;
    bench(svc, 16, timer, 1); /* gives it back under a new id */
    timer = *(const uint32_t *)(results + 16);
    bench(svc, 16, timer, 100);
    uint64_t move = bench(svc, 16, *(const uint32_t *)(results + 16), ITERATIONS);
    method = 0;
    xfer_mode = CAPOS_XFER_COPY;

    capos_printf("bench: ipc-empty %lu\n", empty);
    capos_printf("bench: ipc-256 %lu\n", b256);
    capos_printf("bench: ipc-cap %lu\n", cap);
    /* Differences can come out negative in plain-TCG cycles (noise). */
    capos_printf("bench: ipc-cap-extra %ld\n", (int64_t)(cap - empty));
    capos_printf("bench: ipc-move-back %lu\n", move);
    capos_printf("bench: ipc-per-transfer %ld\n", (int64_t)(move - empty) / 2);

    /* The last call asks the server to exit; wait for it, so that the
     * machine halts when we exit. */
    method = 1;
    bench(svc, 16, 0, 1);
    ProcessHandle_wait_Results_r wr;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    ProcessHandle_wait_call(&capos_transport, handle, &c, &wr);
    return 0;
}
