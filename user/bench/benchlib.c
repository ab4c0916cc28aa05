/* What the benchmark programs share: see bench.h. */
#include "bench.h"

#include <string.h>

#include "capos.capnp.h"

struct capos_cqe bench_op(struct capos_sqe sqe)
{
    sqe.user_data = capos_ring_next_id();
    struct capos_cqe c = {0};
    if (!capos_ring_submit(&sqe) || !capos_ring_wait(sqe.user_data, &c))
        capos_panic("bench: ring operation %u failed", sqe.opcode);
    return c;
}

void bench_release(uint32_t cap)
{
    bench_op((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = cap});
}

uint32_t bench_spawn(uint32_t spawner, const char *binary, const struct capos_grant *grants,
                     uint32_t ngrants, uint32_t quota, bool export_svc, uint32_t *client)
{
    static uint8_t p[1024] __attribute__((aligned(8))), res[512] __attribute__((aligned(8)));
    uint32_t caps[4], rcaps[2];
    if (ngrants > 4)
        capos_panic("bench: too many grants for %s", binary);
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    capnpc_call_caps(&c, caps, ngrants, rcaps, 2);
    struct capos_spawn_request req = {.binary = binary, .grants = grants, .ngrants = ngrants,
                                      .quota = quota, .export_name = export_svc ? "svc" : 0,
                                      .export_iface = Echo_INTERFACE_ID, .nexports = 1};
    capos_spawn_params(&c, &req);
    ProcessSpawner_spawn_Results_r sr;
    if (ProcessSpawner_spawn_send(&capos_transport, spawner, &c, &sr) != CAPNPC_OK)
        capos_panic("bench: cannot start %s", binary);
    uint32_t h = capos_spawn_result(&c, sr, rcaps, export_svc ? client : 0);
    if (!h || (export_svc && !*client))
        capos_panic("bench: %s started without its handle or export", binary);
    return h;
}

void bench_wait_exit(uint32_t handle)
{
    static uint8_t p[64] __attribute__((aligned(8))), res[64] __attribute__((aligned(8)));
    ProcessHandle_wait_Results_r wr;
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    if (ProcessHandle_wait_call(&capos_transport, handle, &c, &wr) != CAPNPC_OK)
        capos_panic("bench: ProcessHandle.wait failed");
    bench_release(handle);
}

void bench_endpoint(uint32_t factory, uint32_t *owner, uint32_t *client)
{
    static uint8_t p[256] __attribute__((aligned(8))), res[256] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    if (capos_endpoint_create(factory, Echo_INTERFACE_ID, &c, owner, client) != CAPNPC_OK)
        capos_panic("bench: EndpointFactory.create failed");
}

uint32_t bench_frame(uint64_t *buf, const uint64_t *words, uint32_t n)
{
    buf[0] = (uint64_t)(1 + n) << 32; /* one segment of 1 + n words */
    /* The root: a struct of n data words right after the pointer (an
     * empty struct is conventionally offset -1). */
    buf[1] = n ? (uint64_t)n << 32 : 0x00000000fffffffcull;
    for (uint32_t i = 0; i < n; i++)
        buf[2 + i] = words[i];
    return (2 + n) * 8;
}

/* The data words of a framed one-segment struct message, as bench_frame
 * makes them; missing words read as 0. */
static void unframe(const uint8_t *msg, uint32_t len, uint64_t *out, uint32_t nout)
{
    for (uint32_t i = 0; i < nout; i++)
        out[i] = 0;
    if (len < 16)
        return;
    uint64_t root;
    memcpy(&root, msg + 8, 8);
    uint32_t words = (uint32_t)((root >> 32) & 0xffff);
    for (uint32_t i = 0; i < nout && i < words && 16 + 8 * (i + 1) <= len; i++)
        memcpy(&out[i], msg + 16 + 8 * i, 8);
}

bool bench_ctl_call(uint32_t ctl, const uint64_t *in, uint32_t nin, uint64_t *out, uint32_t nout)
{
    static uint64_t params[2 + BENCH_CTL_WORDS];
    static uint8_t results[16 + 8 * BENCH_CTL_WORDS] __attribute__((aligned(8)));
    uint32_t len = bench_frame(params, in, nin);
    struct capos_cqe c = bench_op((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                                     .cap = ctl,
                                                     .interface_id = Echo_INTERFACE_ID,
                                                     .params_addr = (uint64_t)params,
                                                     .params_len = len,
                                                     .result_addr = (uint64_t)results,
                                                     .result_len = sizeof(results)});
    if (c.result != 0)
        return false;
    unframe(results, c.result_len, out, nout);
    return true;
}

uint32_t bench_ctl_recv(uint32_t owner, uint64_t *out, uint32_t nout)
{
    static uint8_t buf[512] __attribute__((aligned(8)));
    const struct capos_recv_header *h = (const void *)buf;
    struct capos_cqe c = bench_op((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                                     .cap = owner,
                                                     .result_addr = (uint64_t)buf,
                                                     .result_len = sizeof(buf)});
    if (c.result < 0)
        capos_panic("bench: RECV on the control endpoint failed: %d", c.result);
    if (h->params_offset > sizeof(buf) || h->params_len > sizeof(buf) - h->params_offset)
        capos_panic("bench: a control message out of bounds");
    unframe(buf + h->params_offset, h->params_len, out, nout);
    return c.call_id;
}

void bench_ctl_return(uint32_t owner, uint32_t call_id, const uint64_t *words, uint32_t n)
{
    static uint64_t msg[2 + BENCH_CTL_WORDS];
    uint32_t len = bench_frame(msg, words, n);
    struct capos_cqe c = bench_op((struct capos_sqe){.opcode = CAPOS_OP_RETURN,
                                                     .cap = owner,
                                                     .call_id = call_id,
                                                     .params_addr = (uint64_t)msg,
                                                     .params_len = len});
    if (c.result < 0)
        capos_panic("bench: RETURN on the control endpoint failed: %d", c.result);
}

uint64_t bench_now(uint32_t timer)
{
    static uint8_t p[64] __attribute__((aligned(8))), res[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_now_Results_r r;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    if (Timer_now_call(&capos_transport, timer, &c, &r) != CAPNPC_OK)
        capos_panic("bench: Timer.now failed");
    return Timer_now_Results_get_ns(r);
}

bool bench_sleep(uint32_t timer, uint64_t ns)
{
    static uint8_t p[64] __attribute__((aligned(8))), res[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_sleep_Results_r r;
    capnpc_call_init(&c, p, sizeof(p), res, sizeof(res));
    return Timer_sleep_call(&capos_transport, timer, &c, ns, &r) == CAPNPC_OK;
}

uint64_t bench_ticks_per_s(uint32_t timer)
{
    uint64_t n0 = bench_now(timer), t0 = rdtsc();
    if (!bench_sleep(timer, 20000000))
        capos_panic("bench: Timer.sleep failed");
    uint64_t n1 = bench_now(timer), t1 = rdtsc();
    if (n1 <= n0 || t1 <= t0)
        capos_panic("bench: the clocks did not advance across a sleep");
    return (t1 - t0) * 1000000000ull / (n1 - n0);
}

static void sift_down(uint64_t *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1] > a[c])
            c++;
        if (a[i] >= a[c])
            return;
        uint64_t t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

void bench_sort(uint64_t *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n; end-- > 1;) {
        uint64_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

uint64_t bench_percentile(const uint64_t *sorted, size_t n, unsigned p)
{
    size_t rank = (n * p + 99) / 100; /* ceil(n p / 100), 1-based */
    return sorted[rank ? rank - 1 : 0];
}

void bench_print(const char *name, uint64_t v)
{
    capos_printf("bench: %s %lu\n", name, v);
}

void bench_print_signed(const char *name, int64_t v)
{
    capos_printf("bench: %s %ld\n", name, v);
}

void bench_print_fixed(const char *name, int64_t v, unsigned decimals)
{
    char frac[20];
    uint64_t m = v < 0 ? (uint64_t)-v : (uint64_t)v;
    if (decimals >= sizeof(frac))
        decimals = sizeof(frac) - 1;
    frac[decimals] = 0;
    for (unsigned i = decimals; i-- > 0; m /= 10)
        frac[i] = (char)('0' + m % 10);
    capos_printf("bench: %s %s%lu%s%s\n", name, v < 0 ? "-" : "", m, decimals ? "." : "", frac);
}

void bench_print_failed(const char *name, const char *why)
{
    capos_printf("bench: %s failed\n", name);
    capos_printf("bench-why: %s %s\n", name, why);
}

void bench_spinners_start(struct bench_spinners *s, uint32_t spawner, uint32_t factory, int k,
                          uint32_t quota)
{
    if (k > BENCH_MAX_SPINNERS)
        capos_panic("bench: at most %d spinners", BENCH_MAX_SPINNERS);
    s->k = k;
    bench_endpoint(factory, &s->stop_owner, &s->stop_client);
    struct capos_grant g = {"stop", Echo_INTERFACE_ID, s->stop_client};
    for (int i = 0; i < k; i++)
        s->handles[i] = bench_spawn(spawner, "ipc-spinner", &g, 1, quota, false, 0);
    for (int i = 0; i < k; i++)
        s->calls[i] = bench_ctl_recv(s->stop_owner, 0, 0);
}

void bench_spinners_stop(struct bench_spinners *s)
{
    for (int i = 0; i < s->k; i++)
        bench_ctl_return(s->stop_owner, s->calls[i], 0, 0);
    for (int i = 0; i < s->k; i++)
        bench_wait_exit(s->handles[i]);
    bench_release(s->stop_owner);
    bench_release(s->stop_client);
}
