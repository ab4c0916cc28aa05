/*
 * IPC benchmarks (make bench; docs/benchmarks.md): the round trip client
 * CALL -> server RECV -> RETURN -> client CQE between two processes that
 * share nothing but an endpoint, through raw ring entries (no stubs), with
 *   ipc-empty      a minimal params message (16 bytes: an empty struct),
 *   ipc-64, ipc-256, ipc-1k, ipc-4k
 *                  64, 256, 1,024 and 4,096 bytes of params (one struct of
 *                  data words; the results are 16 bytes every time),
 *   ipc-cap        the minimal message plus one capability copied (the
 *                  server releases it in the same cap_enter as its RETURN),
 *   ipc-move-back  one capability moved to the server and moved back with
 *                  the RETURN: two transfers and no release, so
 *                  (ipc-move-back - ipc-empty) / 2 is the cost of one
 *                  transfer.
 * Each figure is the mean over ITERATIONS round trips after a warm-up,
 * measured with rdtsc in the client: user and kernel time of both sides.
 *
 * Then:
 *   ipc-empty-loadK       ipc-empty with K CPU-bound neighbours runnable
 *                         (user/bench/ipc-spinner.c, K = 1, 2, 4): the mean,
 *                         and the median and 99th percentile of the round
 *                         trips timed one by one;
 *   ipc-clientsK          K client processes (user/bench/ipc-client.c) on
 *                         the one endpoint: the system's instructions per
 *                         round trip, and the increase per added client;
 *   fair-N                N counting processes (user/bench/cpu-counter.c)
 *                         beside this client and the server for one second:
 *                         each one's CPU share against the fair share.
 */
#include "capos_rt.h"

#include "bench.h"
#include "capos.capnp.h"
#include "text/fmt.h"

#define ITERATIONS   1000
#define MAX_CLIENTS  8
#define MAX_COUNTERS 4
/* Frames for each helper process (docs/memory.md): they need a few dozen. */
#define HELPER_QUOTA 256

/* Loaded round trips: timed one by one for at least LOADED_MIN_NS of
 * virtual time (many time slices) and LOADED_MIN_SAMPLES round trips,
 * at most MAX_SAMPLES of them. */
#define LOADED_MIN_NS      200000000ull
#define LOADED_MIN_SAMPLES 10
#define MAX_SAMPLES        (1u << 17)
/* Round trips of the multi-client benchmark, shared among the clients. */
#define CLIENTS_TOTAL_RTS 8192
/* The fairness window, and the counter's calibration run alone. */
#define FAIR_WINDOW_NS 1000000000ull
#define FAIR_CAL_NS    100000000ull

static volatile struct capos_ring *r;
static uint64_t params[512] = {0x0000000100000000ull, 0x00000000fffffffcull};
static uint8_t results[64] __attribute__((aligned(8)));
static const uint64_t empty_msg[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
static uint64_t samples[MAX_SAMPLES];
static uint64_t ticks_per_s;

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
            /* One descriptor travels in the entry, as the runtime sends it. */
            .flags = cap ? CAPOS_SQE_F_XFER_INLINE : 0,
            .xfer_count = cap ? 1 : 0,
            .xfer_addr = cap ? capos_xfer_inline(x.cap, x.mode) : 0,
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

/* params: a struct of n data words, (2 + n) * 8 bytes framed. */
static uint32_t set_params(uint32_t bytes)
{
    static uint64_t zero[510];
    if (bytes == 16) {
        params[0] = empty_msg[0];
        params[1] = empty_msg[1];
        return 16;
    }
    return bench_frame(params, zero, bytes / 8 - 2);
}

/* ipc-empty with k CPU-bound neighbours: each calls `stop` when it runs,
 * which we take (so all of them are running), then we measure, then
 * answer them and wait for them to exit. */
static void loaded(uint32_t spawner, uint32_t factory, uint32_t svc, int k)
{
    struct bench_spinners spinners;
    bench_spinners_start(&spinners, spawner, factory, k, HELPER_QUOTA);

    /* Each round trip timed on its own; the mean over all of them. */
    uint64_t budget = LOADED_MIN_NS * (ticks_per_s / 1000000) / 1000;
    uint32_t n = 0;
    bool ok = true;
    uint64_t t0 = rdtsc(), t = t0;
    while (ok && n < MAX_SAMPLES && (n < LOADED_MIN_SAMPLES || t - t0 < budget)) {
        uint64_t a = rdtsc();
        ok = bench_rt(r, svc, empty_msg, sizeof(empty_msg), results, sizeof(results));
        t = rdtsc();
        samples[n++] = t - a;
    }

    bench_spinners_stop(&spinners);

    static const char *const what[] = {"", "-median", "-p99", "-samples"};
    char name[4][40];
    for (int i = 0; i < 4; i++)
        fmt_snprintf(name[i], sizeof(name[i]), "ipc-empty-load%d%s", k, what[i]);
    if (!ok) {
        for (int i = 0; i < 4; i++)
            bench_print_failed(name[i], "a loaded round trip failed");
        return;
    }
    uint64_t mean = (t - t0) / n;
    bench_sort(samples, n);
    bench_print(name[0], mean);
    bench_print(name[1], bench_percentile(samples, n, 50));
    bench_print(name[2], bench_percentile(samples, n, 99));
    bench_print(name[3], n);
}

/* k clients (user/bench/ipc-client.c) on the server's endpoint, each
 * making CLIENTS_TOTAL_RTS / k round trips once all are ready: the
 * instructions from the first client's start to the last one's end, per
 * round trip. 0 if it could not be measured. */
static uint64_t clients(uint32_t spawner, uint32_t factory, uint32_t svc, int k)
{
    uint32_t ctl_s, ctl_c;
    bench_endpoint(factory, &ctl_s, &ctl_c);
    struct capos_grant g[2] = {{"svc", Echo_INTERFACE_ID, svc}, {"ctl", Echo_INTERFACE_ID, ctl_c}};
    uint32_t handles[MAX_CLIENTS], calls[MAX_CLIENTS];
    for (int i = 0; i < k; i++)
        handles[i] = bench_spawn(spawner, "ipc-client", g, 2, HELPER_QUOTA, false, 0);
    for (int i = 0; i < k; i++)
        calls[i] = bench_ctl_recv(ctl_s, 0, 0);
    uint64_t m = CLIENTS_TOTAL_RTS / (uint64_t)k;
    for (int i = 0; i < k; i++)
        bench_ctl_return(ctl_s, calls[i], &m, 1);
    uint64_t first = UINT64_MAX, last = 0, failed = 0;
    for (int i = 0; i < k; i++) {
        uint64_t w[3];
        uint32_t id = bench_ctl_recv(ctl_s, w, 3);
        if (w[0] < first)
            first = w[0];
        if (w[1] > last)
            last = w[1];
        failed |= w[2];
        bench_ctl_return(ctl_s, id, 0, 0);
    }
    for (int i = 0; i < k; i++)
        bench_wait_exit(handles[i]);
    bench_release(ctl_s);
    bench_release(ctl_c);
    if (failed || last <= first)
        return 0;
    return (last - first) / (m * (uint64_t)k);
}

/* Run `n` counters (user/bench/cpu-counter.c) until `window` ticks from
 * now, making round trips meanwhile if pair; their counts in counts[], the
 * round trips made in *rts. */
static void count_window(uint32_t spawner, uint32_t factory, uint32_t svc, int n, uint64_t window,
                         bool pair, uint64_t *counts, uint64_t *rts)
{
    uint32_t ctl_s, ctl_c;
    bench_endpoint(factory, &ctl_s, &ctl_c);
    struct capos_grant g = {"ctl", Echo_INTERFACE_ID, ctl_c};
    uint32_t handles[MAX_COUNTERS], calls[MAX_COUNTERS];
    for (int i = 0; i < n; i++)
        handles[i] = bench_spawn(spawner, "cpu-counter", &g, 1, HELPER_QUOTA, false, 0);
    for (int i = 0; i < n; i++)
        calls[i] = bench_ctl_recv(ctl_s, 0, 0);
    uint64_t deadline = rdtsc() + window;
    for (int i = 0; i < n; i++)
        bench_ctl_return(ctl_s, calls[i], &deadline, 1);
    *rts = 0;
    if (pair) {
        while (rdtsc() < deadline) {
            if (!bench_rt(r, svc, empty_msg, sizeof(empty_msg), results, sizeof(results)))
                capos_panic("ipc-bench: a round trip beside the counters failed");
            ++*rts;
        }
    }
    for (int i = 0; i < n; i++) {
        uint32_t id = bench_ctl_recv(ctl_s, &counts[i], 1);
        bench_ctl_return(ctl_s, id, 0, 0);
    }
    for (int i = 0; i < n; i++)
        bench_wait_exit(handles[i]);
    bench_release(ctl_s);
    bench_release(ctl_c);
}

/* n counters beside the busy pair (this client and the server) for
 * FAIR_WINDOW_NS: each counter's share of the CPU, from its count and the
 * rate of one counter alone, against the fair share 1 / (n + 1) (n
 * counters and the pair, of which only one side is ever runnable), in
 * per-mille; the smallest and largest, and the pair's round trips. */
static void fairness(uint32_t spawner, uint32_t factory, uint32_t svc, int n, uint64_t cal_count,
                     uint64_t cal_window)
{
    uint64_t window = FAIR_WINDOW_NS * (ticks_per_s / 1000000) / 1000;
    uint64_t counts[MAX_COUNTERS], rts;
    count_window(spawner, factory, svc, n, window, true, counts, &rts);
    char min_name[32], max_name[32], rts_name[32];
    fmt_snprintf(min_name, sizeof(min_name), "fair-%d-min-share", n);
    fmt_snprintf(max_name, sizeof(max_name), "fair-%d-max-share", n);
    fmt_snprintf(rts_name, sizeof(rts_name), "fair-%d-pair-rts", n);
    /* What a counter would count with a fair share of the window. */
    uint64_t fair = cal_count * window / cal_window / (uint64_t)(n + 1);
    if (!fair) {
        bench_print_failed(min_name, "the counter did not count when alone");
        bench_print_failed(max_name, "the counter did not count when alone");
    } else {
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int i = 0; i < n; i++) {
            uint64_t s = counts[i] * 1000 / fair;
            lo = s < lo ? s : lo;
            hi = s > hi ? s : hi;
        }
        bench_print_fixed(min_name, (int64_t)lo, 1);
        bench_print_fixed(max_name, (int64_t)hi, 1);
    }
    bench_print(rts_name, rts);
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
    uint32_t handle = bench_spawn(spawner, "ipc-bench-server", 0, 0, 0, true, &svc);
    ticks_per_s = bench_ticks_per_s(timer);

    bench(svc, 16, 0, 100); /* warm-up: both processes' pages and caches */
    uint64_t empty = bench(svc, 16, 0, ITERATIONS);
    static const uint32_t sizes[] = {64, 256, 1024, 4096};
    static const char *const size_names[] = {"ipc-64", "ipc-256", "ipc-1k", "ipc-4k"};
    uint64_t sized[4];
    for (int i = 0; i < 4; i++) {
        uint32_t len = set_params(sizes[i]);
        bench(svc, len, 0, 100);
        sized[i] = bench(svc, len, 0, ITERATIONS);
    }
    set_params(16);
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

    bench_print("ipc-empty", empty);
    for (int i = 0; i < 4; i++)
        bench_print(size_names[i], sized[i]);
    bench_print("ipc-cap", cap);
    /* Differences can come out negative in plain-TCG cycles (noise). */
    bench_print_signed("ipc-cap-extra", (int64_t)(cap - empty));
    bench_print("ipc-move-back", move);
    bench_print_signed("ipc-per-transfer", (int64_t)(move - empty) / 2);

    for (int k = 1; k <= BENCH_MAX_SPINNERS; k *= 2)
        loaded(spawner, factory, svc, k);

    uint64_t one = 0;
    for (int k = 1; k <= MAX_CLIENTS; k *= 2) {
        char name[32], step[40];
        fmt_snprintf(name, sizeof(name), "ipc-clients%d", k);
        fmt_snprintf(step, sizeof(step), "ipc-clients%d-per-added", k);
        uint64_t cost = clients(spawner, factory, svc, k);
        if (k == 1)
            one = cost;
        if (!cost) {
            bench_print_failed(name, "a client's round trip failed");
            if (k > 1)
                bench_print_failed(step, "no figure for this many clients");
            continue;
        }
        bench_print(name, cost);
        if (k == 1)
            continue;
        if (!one) {
            bench_print_failed(step, "no figure for one client");
            continue;
        }
        /* Per added client, in hundredths of a percent of one client's. */
        int64_t d = ((int64_t)cost - (int64_t)one) * 10000 / (int64_t)one / (k - 1);
        bench_print_fixed(step, d, 2);
    }

    /* One counter alone: its rate. */
    uint64_t cal_window = FAIR_CAL_NS * (ticks_per_s / 1000000) / 1000;
    uint64_t cal_count, no_rts;
    count_window(spawner, factory, svc, 1, cal_window, false, &cal_count, &no_rts);
    for (int n = 2; n <= MAX_COUNTERS; n *= 2)
        fairness(spawner, factory, svc, n, cal_count, cal_window);

    /* The last call asks the server to exit; wait for it, so that the
     * machine halts when we exit. */
    method = 1;
    bench(svc, 16, 0, 1);
    bench_wait_exit(handle);
    return 0;
}
