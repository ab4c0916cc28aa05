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
 *
 * Then under load: ipc-empty-loadK is ipc-empty with K CPU-bound
 * neighbours runnable (user/bench/ipc-spinner.c, K = 1, 2, 4), the mean of
 * LOADED_ITERATIONS round trips (each can wait for the neighbours' time
 * slices, so a few tell the story and many would take minutes).
 */
#include "capos_rt.h"

#include "bench.h"
#include "capos.capnp.h"

#define ITERATIONS        1000
#define LOADED_ITERATIONS 10
#define MAX_SPINNERS      4

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

/* Spawn `binary` with one grant (name, interface, capability) and at most
 * one export; its ProcessHandle, and the export's client facet in *client. */
static uint32_t spawn(uint32_t spawner, const char *binary, uint32_t len, const char *grant,
                      uint32_t grant_len, uint32_t grant_cap, bool export_svc, uint32_t *client)
{
    static uint8_t p[1024] __attribute__((aligned(8))), res[512] __attribute__((aligned(8)));
    uint32_t caps[1] = {grant_cap}, rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    capnpc_call_caps(&c, caps, 1, rcaps, 2);
    ProcessSpawner_spawn_Params_b sp = ProcessSpawner_spawn_begin(&c);
    ProcessSpawner_spawn_Params_set_name(sp, binary, len);
    ProcessSpawner_spawn_Params_set_binaryName(sp, binary, len);
    if (grant) {
        List_ProcessSpawner_Grant_b g = ProcessSpawner_spawn_Params_init_grants(sp, 1);
        ProcessSpawner_Grant_set_name(List_ProcessSpawner_Grant_at(g, 0), grant, grant_len);
        ProcessSpawner_Grant_set_interfaceId(List_ProcessSpawner_Grant_at(g, 0), Echo_INTERFACE_ID);
        ProcessSpawner_Grant_set_cap(List_ProcessSpawner_Grant_at(g, 0),
                                     capnpc_call_add_cap(&c, grant_cap));
    }
    if (export_svc) {
        List_Export_b x = ProcessSpawner_spawn_Params_init_exports(sp, 1);
        Export_set_name(List_Export_at(x, 0), "svc", 3);
        Export_set_interfaceId(List_Export_at(x, 0), Echo_INTERFACE_ID);
    }
    ProcessSpawner_spawn_Results_r sr;
    if (ProcessSpawner_spawn_send(&capos_transport, spawner, &c, &sr) != CAPNPC_OK)
        capos_panic("ipc-bench: cannot start %s", binary);
    if (export_svc) {
        List_ProcessSpawner_Grant_r ex = ProcessSpawner_spawn_Results_get_exports(sr);
        *client = rcaps[ProcessSpawner_Grant_get_cap(List_ProcessSpawner_Grant_get(ex, 0)) & 1];
    }
    return rcaps[ProcessSpawner_spawn_Results_get_handle(sr) & 1];
}

static void wait_exit(uint32_t handle)
{
    static uint8_t p[64] __attribute__((aligned(8))), res[64] __attribute__((aligned(8)));
    ProcessHandle_wait_Results_r wr;
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    ProcessHandle_wait_call(&capos_transport, handle, &c, &wr);
}

/* One ring operation, waited for. */
static struct capos_cqe run_op(struct capos_sqe sqe)
{
    sqe.user_data = capos_ring_next_id();
    struct capos_cqe c = {0};
    if (!capos_ring_submit(&sqe) || !capos_ring_wait(sqe.user_data, &c))
        capos_panic("ipc-bench: ring operation %u failed", sqe.opcode);
    return c;
}

/* ipc-empty with k CPU-bound neighbours: each calls `stop` when it runs,
 * which we take (so all of them are running), then we measure, then
 * answer them and wait for them to exit. */
static uint64_t loaded(uint32_t spawner, uint32_t factory, uint32_t svc, int k)
{
    static uint8_t p[256] __attribute__((aligned(8))), res[256] __attribute__((aligned(8)));
    static uint8_t rb[256] __attribute__((aligned(8)));
    static const uint64_t empty[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
    uint32_t rcaps[2];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    capnpc_call_caps(&c, 0, 0, rcaps, 2);
    EndpointFactory_create_Results_r cr;
    if (EndpointFactory_create_call(&capos_transport, factory, &c, Echo_INTERFACE_ID, &cr) !=
        CAPNPC_OK)
        capos_panic("ipc-bench: no endpoint for the neighbours");
    uint32_t stop_s = rcaps[EndpointFactory_create_Results_get_server(cr) & 1];
    uint32_t stop_k = rcaps[EndpointFactory_create_Results_get_client(cr) & 1];
    uint32_t handles[MAX_SPINNERS], calls[MAX_SPINNERS];
    for (int i = 0; i < k; i++)
        handles[i] = spawn(spawner, "ipc-spinner", 11, "stop", 4, stop_k, false, 0);
    for (int i = 0; i < k; i++) {
        struct capos_cqe rc = run_op((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                                        .cap = stop_s,
                                                        .result_addr = (uint64_t)rb,
                                                        .result_len = sizeof(rb)});
        calls[i] = rc.call_id;
    }
    uint64_t mean = bench(svc, 16, 0, LOADED_ITERATIONS);
    for (int i = 0; i < k; i++)
        run_op((struct capos_sqe){.opcode = CAPOS_OP_RETURN,
                                  .cap = stop_s,
                                  .call_id = calls[i],
                                  .params_addr = (uint64_t)empty,
                                  .params_len = sizeof(empty)});
    for (int i = 0; i < k; i++) {
        wait_exit(handles[i]);
        run_op((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = handles[i]});
    }
    run_op((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = stop_s});
    run_op((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = stop_k});
    return mean;
}

int main(void)
{
    r = capos_ring();
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    if (!spawner || !timer)
        capos_panic("ipc-bench: needs spawner and timer");

    uint32_t factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    if (!factory)
        capos_panic("ipc-bench: needs endpoints");
    uint32_t svc = 0;
    uint32_t handle = spawn(spawner, "ipc-bench-server", 16, 0, 0, 0, true, &svc);

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
    for (int k = 1; k <= MAX_SPINNERS; k *= 2)
        capos_printf("bench: ipc-empty-load%d %lu\n", k, loaded(spawner, factory, svc, k));

    /* The last call asks the server to exit; wait for it, so that the
     * machine halts when we exit. */
    method = 1;
    bench(svc, 16, 0, 1);
    wait_exit(handle);
    return 0;
}
