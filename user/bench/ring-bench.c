/*
 * Ring benchmarks (make bench): cycles per operation from rdtsc. Under
 * QEMU -icount shift=0,sleep=off, cycles are executed guest instructions.
 *
 *   empty-cap-enter   cap_enter(0, 0) with nothing queued
 *   nop               one NOP: submit, cap_enter(1), reap
 *   nop-batch16       16 NOPs in one cap_enter, per NOP
 *   timer-now         Timer.now through the generated stub: params built,
 *                     CALL, result decoded
 *   timer-sleep-1ms, timer-sleep-3ms
 *                     Timer.sleep(1 ms / 3 ms): ns of Timer.now from before
 *                     the call to after it returned (median and largest of
 *                     SLEEPS; nothing else is runnable)
 *   cap-enter-timeout-1us
 *                     cap_enter(1, 1000 ns) with nothing pending: ns of
 *                     Timer.now from before to after it returned (median
 *                     and largest of SLEEPS)
 *
 * The loop overhead and rdtsc itself are included; each figure is the mean
 * over ITERATIONS after a warm-up.
 */
#include "capos_rt.h"

#include "bench.h"
#include "capos.capnp.h"
#include "text/fmt.h"

#define ITERATIONS 1000
#define SLEEPS     11

static volatile struct capos_ring *r;

static void submit_nops(uint32_t n)
{
    /* What a runtime's prep-NOP does: every word of the SQE written. */
    uint32_t tail = r->sq_tail;
    for (uint32_t i = 0; i < n; i++) {
        volatile uint64_t *w = (volatile uint64_t *)&r->sq[(tail + i) & CAPOS_SQ_MASK];
        w[0] = CAPOS_OP_NOP;
        w[1] = w[2] = w[3] = w[4] = w[6] = w[7] = 0;
        w[5] = 1 + i; /* user_data */
    }
    __atomic_store_n(&r->sq_tail, tail + n, __ATOMIC_RELEASE);
}

static void reap_all(void)
{
    __atomic_store_n(&r->cq_head, __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

static uint64_t bench_empty(void)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < ITERATIONS; i++)
        capos_cap_enter(0, 0);
    return (rdtsc() - t0) / ITERATIONS;
}

static uint64_t bench_nops(uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < ITERATIONS; i++) {
        submit_nops(n);
        capos_cap_enter(n, UINT64_MAX);
        reap_all();
    }
    return (rdtsc() - t0) / ITERATIONS;
}

/* cap_enter alone with n NOPs already queued: the kernel's share. */
static uint64_t bench_kernel_nops(uint32_t n)
{
    uint64_t total = 0;
    for (int i = 0; i < ITERATIONS; i++) {
        submit_nops(n);
        uint64_t t0 = rdtsc();
        capos_cap_enter(n, UINT64_MAX);
        total += rdtsc() - t0;
        reap_all();
    }
    return total / ITERATIONS;
}

static uint64_t bench_timer_now(uint32_t timer)
{
    static uint8_t params[64], results[64];
    struct capnpc_call c;
    Timer_now_Results_r res;
    uint64_t sum = 0;
    uint64_t t0 = rdtsc();
    for (int i = 0; i < ITERATIONS; i++) {
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        if (Timer_now_call(&capos_transport, timer, &c, &res) != CAPNPC_OK)
            capos_panic("Timer.now failed");
        sum += Timer_now_Results_get_ns(res);
    }
    uint64_t per = (rdtsc() - t0) / ITERATIONS;
    return sum ? per : 0;
}

/* The same CALL with a prebuilt params message and a raw SQE: the kernel's
 * share of Timer.now plus the ring round trip, without the stubs. */
static uint64_t bench_timer_now_raw(uint32_t timer)
{
    /* Segment table (one segment of one word), then the root pointer: an
     * empty struct (Timer.now has no params). */
    static const uint64_t params[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
    static uint8_t results[64] __attribute__((aligned(8)));
    uint64_t t0 = rdtsc();
    for (int i = 0; i < ITERATIONS; i++) {
        uint32_t tail = r->sq_tail;
        r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){
            .opcode = CAPOS_OP_CALL,
            .cap = timer,
            .interface_id = Timer_INTERFACE_ID,
            .method = Timer_now_METHOD,
            .params_addr = (uint64_t)params,
            .params_len = sizeof(params),
            .result_addr = (uint64_t)results,
            .result_len = sizeof(results),
            .user_data = 9,
        };
        __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
        capos_cap_enter(1, UINT64_MAX);
        const volatile struct capos_cqe *c = &r->cq[r->cq_head & CAPOS_CQ_MASK];
        if (c->result != 0 || c->result_len != 24)
            capos_panic("raw Timer.now failed: %d", c->result);
        reap_all();
    }
    return (rdtsc() - t0) / ITERATIONS;
}

/* Virtual time (ns, from Timer.now) from before a wait to after it: the
 * median and the largest of SLEEPS. sleep_ns 0 means cap_enter(1, 1 us)
 * with nothing pending; otherwise Timer.sleep(sleep_ns). */
static void bench_wait(uint32_t timer, uint64_t sleep_ns, const char *name)
{
    uint64_t t[SLEEPS];
    const char *why = 0;
    for (int i = 0; i < SLEEPS && !why; i++) {
        reap_all();
        uint64_t t0 = bench_now(timer);
        if (sleep_ns) {
            if (!bench_sleep(timer, sleep_ns))
                why = "Timer.sleep failed";
        } else if (capos_cap_enter(1, 1000) != 0) {
            why = "cap_enter returned with a completion pending";
        }
        t[i] = bench_now(timer) - t0;
    }
    char max[48];
    fmt_snprintf(max, sizeof(max), "%s-max", name);
    if (why) {
        bench_print_failed(name, why);
        bench_print_failed(max, why);
        return;
    }
    bench_sort(t, SLEEPS);
    bench_print(name, bench_percentile(t, SLEEPS, 50));
    bench_print(max, t[SLEEPS - 1]);
}

int main(void)
{
    r = capos_ring();
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    if (!timer)
        capos_panic("no timer capability");
    /* Warm up every path once. */
    bench_empty();
    bench_nops(1);
    bench_nops(16);
    bench_timer_now(timer);

    uint64_t empty = bench_empty();
    uint64_t one = bench_nops(1);
    uint64_t batch = bench_nops(16);
    uint64_t now = bench_timer_now(timer);
    uint64_t k1 = bench_kernel_nops(1), k16 = bench_kernel_nops(16);
    uint64_t raw = bench_timer_now_raw(timer);
    capos_printf("bench: empty-cap-enter %lu\n", empty);
    capos_printf("bench: nop %lu\n", one);
    capos_printf("bench: nop-batch16-total %lu\n", batch);
    capos_printf("bench: nop-batch16-per-entry %lu\n", batch / 16);
    capos_printf("bench: kernel-cap-enter-1-nop %lu\n", k1);
    capos_printf("bench: kernel-cap-enter-16-nops %lu\n", k16);
    capos_printf("bench: kernel-per-entry %lu\n", (k16 - k1) / 15);
    capos_printf("bench: timer-now %lu\n", now);
    capos_printf("bench: timer-now-raw-sqe %lu\n", raw);
    bench_wait(timer, 1000000, "timer-sleep-1ms");
    bench_wait(timer, 3000000, "timer-sleep-3ms");
    bench_wait(timer, 0, "cap-enter-timeout-1us");
    return 0;
}
