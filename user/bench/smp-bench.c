/*
 * The SMP benchmark (make bench, tools/bench-smp.sh, docs/benchmarks.md).
 * Booted once with one CPU and once with two, under multi-threaded TCG;
 * the script divides the figures of the two runs. rdtsc is the clock:
 * under plain TCG it follows the host's time.
 *
 *   smp-cpu4     4 processes each doing a fixed amount of user-mode work:
 *                TSC cycles from the first start to the last end
 *   smp-ipc2     2 client/server pairs, each making a fixed number of
 *                empty round trips: cycles from first start to last end
 *   smp-ipc2-load2  the same beside 2 CPU-bound processes (ipc-spinner)
 *   smp-clients8 8 clients of one server, PAIR_RTS / 4 round trips each:
 *                cycles from the first start to the last end
 *   smp-wake     a thread parked on another CPU, woken: cycles from just
 *                before the wake call to the woken thread running again
 *                (median of 200; the 1-CPU run measures a switch instead)
 */
#include "capos_rt.h"

#include <threads.h>

#include "bench.h"
#include "capos.capnp.h"
#include "capos_threads.h"

#define WORKERS      4
#define MAX_HELPERS  8
#define CLIENTS      8
#define WORK         200000ull /* iterations of 500 loop steps each */
#define PAIRS        2
#define PAIR_RTS     20000ull
#define WAKES        200
#define HELPER_QUOTA 256

static uint32_t spawner, factory;

/* N helpers of `binary` with "ctl" (and "svc" if given): each says it is
 * ready, gets `arg`, and reports two rdtsc values; the span from the
 * earliest first to the latest second. 0 if any failed. */
static uint64_t span_of(const char *binary, const uint32_t *svcs, int n, uint64_t arg)
{
    uint32_t ctl_s, ctl_c, handles[MAX_HELPERS], calls[MAX_HELPERS];
    bench_endpoint(factory, &ctl_s, &ctl_c);
    for (int i = 0; i < n; i++) {
        struct capos_grant g[2] = {{"ctl", Echo_INTERFACE_ID, ctl_c},
                                   {"svc", Echo_INTERFACE_ID, svcs ? svcs[i] : 0}};
        handles[i] = bench_spawn(spawner, binary, g, svcs ? 2 : 1, HELPER_QUOTA, false, 0);
    }
    for (int i = 0; i < n; i++)
        calls[i] = bench_ctl_recv(ctl_s, 0, 0);
    for (int i = 0; i < n; i++)
        bench_ctl_return(ctl_s, calls[i], &arg, 1);
    uint64_t first = UINT64_MAX, last = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        uint64_t w[3] = {0, 0, 0};
        uint32_t id = bench_ctl_recv(ctl_s, w, svcs ? 3 : 2);
        first = w[0] < first ? w[0] : first;
        last = w[1] > last ? w[1] : last;
        failed |= w[2];
        bench_ctl_return(ctl_s, id, 0, 0);
    }
    for (int i = 0; i < n; i++)
        bench_wait_exit(handles[i]);
    bench_release(ctl_s);
    bench_release(ctl_c);
    return failed || last <= first ? 0 : last - first;
}

/* Ask an ipc-bench-server to exit (method 1), and wait for it. */
static void stop_server(uint32_t svc, uint32_t handle)
{
    static const uint64_t params[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
    static uint8_t results[64] __attribute__((aligned(8)));
    volatile struct capos_ring *r = capos_ring();
    uint32_t tail = r->sq_tail;
    r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                                     .cap = svc,
                                                     .interface_id = Echo_INTERFACE_ID,
                                                     .method = 1,
                                                     .params_addr = (uint64_t)params,
                                                     .params_len = sizeof(params),
                                                     .result_addr = (uint64_t)results,
                                                     .result_len = sizeof(results),
                                                     .user_data = 7};
    __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    capos_cap_enter(1, UINT64_MAX);
    __atomic_store_n(&r->cq_head, r->cq_head + 1, __ATOMIC_RELEASE);
    bench_wait_exit(handle);
}

/* ---- Cross-CPU wake-up ---- */

static volatile uint32_t wake_word, woken_count;
static volatile uint64_t woken_at;

static int sleeper(void *arg)
{
    (void)arg;
    for (uint32_t seen = 0; seen < WAKES;) {
        if (wake_word == seen) {
            capos_park_wait(&wake_word, seen, UINT64_MAX);
            continue;
        }
        woken_at = rdtsc();
        seen = wake_word;
        woken_count = seen;
    }
    return 0;
}

static uint64_t wake_latency(void)
{
    static uint64_t samples[WAKES];
    thrd_t t;
    if (thrd_create(&t, sleeper, 0) != thrd_success)
        return 0;
    unsigned n = 0;
    for (uint32_t i = 1; i <= WAKES; i++) {
        /* Let the sleeper park (its CPU goes idle) before each wake. */
        for (volatile int d = 0; d < 200000; d++)
            ;
        uint64_t t0 = rdtsc();
        __atomic_store_n(&wake_word, i, __ATOMIC_RELEASE);
        capos_park_wake(&wake_word, 1);
        while (woken_count != i)
            ;
        if (woken_at > t0)
            samples[n++] = woken_at - t0;
    }
    thrd_join(t, 0);
    if (n == 0)
        return 0;
    bench_sort(samples, n);
    return bench_percentile(samples, n, 50);
}

int main(void)
{
    spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    if (!spawner || !factory)
        capos_panic("smp-bench: needs spawner and endpoints");

    uint64_t cpu = span_of("cpu-work", 0, WORKERS, WORK);
    cpu ? bench_print("smp-cpu4", cpu) : bench_print_failed("smp-cpu4", "a worker failed");

    /* Two pairs, each client with its own server; then the same beside
     * two CPU-bound neighbours. */
    uint32_t svcs[MAX_HELPERS], servers[PAIRS];
    for (int i = 0; i < PAIRS; i++)
        servers[i] = bench_spawn(spawner, "ipc-bench-server", 0, 0, 0, true, &svcs[i]);
    uint64_t ipc = span_of("ipc-client", svcs, PAIRS, PAIR_RTS);
    ipc ? bench_print("smp-ipc2", ipc) : bench_print_failed("smp-ipc2", "a round trip failed");
    struct bench_spinners spinners;
    bench_spinners_start(&spinners, spawner, factory, 2, HELPER_QUOTA);
    ipc = span_of("ipc-client", svcs, PAIRS, PAIR_RTS);
    bench_spinners_stop(&spinners);
    ipc ? bench_print("smp-ipc2-load2", ipc)
        : bench_print_failed("smp-ipc2-load2", "a round trip failed");
    for (int i = 0; i < PAIRS; i++)
        stop_server(svcs[i], servers[i]);

    /* Many clients of one server. */
    uint32_t server = bench_spawn(spawner, "ipc-bench-server", 0, 0, 0, true, &svcs[0]);
    for (int i = 1; i < CLIENTS; i++)
        svcs[i] = svcs[0];
    ipc = span_of("ipc-client", svcs, CLIENTS, PAIR_RTS / 4);
    ipc ? bench_print("smp-clients8", ipc)
        : bench_print_failed("smp-clients8", "a round trip failed");
    stop_server(svcs[0], server);

    uint64_t wake = wake_latency();
    wake ? bench_print("smp-wake", wake) : bench_print_failed("smp-wake", "no wake-up measured");
    return 0;
}
