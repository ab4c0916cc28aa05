/*
 * The Cap'n Proto share of one capOS system call, on the host: instruction
 * counts per call under callgrind for Timer.now and Timer.sleep through the
 * generated code (build/gen/capos.capnp.[ch]) and lib/capnp.
 *
 * server: what the kernel does with a CALL (kernel/kcall.c): read the framed
 *   params, start a results builder, run Timer_dispatch (root check,
 *   results root, the handler), frame the results with capn_bld_write.
 * client: what a user stub does around the ring: capnpc_call_init and
 *   Timer_now_call / Timer_sleep_call (begin, params, frame, call, read the
 *   reply, results root); the transport itself (here a copy of a canned
 *   reply) is not counted: run.sh passes --toggle-collect for both the loop
 *   and bench_transport, and callgrind stops counting inside the latter.
 *
 *   small-calls                       a check that every path works
 *   small-calls count NAME N          run NAME (server-now, server-sleep,
 *                                     client-now, client-sleep) N times
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capos.capnp.h"

/* Keep the compiler from knowing a buffer's contents, as it cannot in the
 * kernel (the params are copied in from user memory). */
#define OPAQUE() __asm__ volatile("" : : : "memory")

static uint64_t clock_ns = 1000;

static int h_now(void *self, Timer_now_Params_r p, Timer_now_Results_b r, void *ctx)
{
    (void)self, (void)p, (void)ctx;
    Timer_now_Results_set_ns(r, clock_ns++);
    return CAPNPC_OK;
}

static int h_sleep(void *self, Timer_sleep_Params_r p, Timer_sleep_Results_b r, void *ctx)
{
    (void)self, (void)r, (void)ctx;
    clock_ns += Timer_sleep_Params_get_ns(p);
    return CAPNPC_OK;
}

static const struct Timer_ops ops = {.now = h_now, .sleep = h_sleep};

/* Framed params as a user stub sends them: Timer.now's are an empty struct
 * (one segment of one word), Timer.sleep's one data word. */
static uint64_t now_params[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
static uint64_t sleep_params[3] = {0x0000000200000000ull, 0x0000000100000000ull, 5};

/* The kernel's buffers (static there too). */
static uint64_t results_arena[64];
static uint64_t results_out[72];
static struct capn_seg params_segs[4];
static struct capn_seg results_seg;

static inline __attribute__((always_inline)) int server(const void *params, size_t len,
                                                        uint16_t method)
{
    struct capn_msg m;
    struct capn_bld b;
    size_t out_len;
    if (capn_msg_read(&m, params_segs, 4, params, len, NULL) != CAPN_OK)
        return -1;
    m.read_left = 4 * (len / 8) + 64; /* as the kernel limits it */
    capn_bld_init(&b, &results_seg, 1, results_arena, sizeof(results_arena));
    int rc = Timer_dispatch(&ops, NULL, method, &m, &b, NULL);
    if (rc != CAPNPC_OK || !capn_ok(&m))
        return -1;
    if (capn_bld_write(&b, results_out, sizeof(results_out), &out_len) != CAPN_OK)
        return -1;
    return (int)out_len;
}

__attribute__((noinline)) static void server_now(long n)
{
    for (long i = 0; i < n; i++) {
        OPAQUE();
        if (server(now_params, sizeof(now_params), Timer_now_METHOD) != 24)
            abort();
    }
}

__attribute__((noinline)) static void server_sleep(long n)
{
    for (long i = 0; i < n; i++) {
        OPAQUE();
        if (server(sleep_params, sizeof(sleep_params), Timer_sleep_METHOD) != 16)
            abort();
    }
}

/* Canned replies, framed as the kernel writes them. */
static uint64_t now_reply[3] = {0x0000000200000000ull, 0x0000000100000000ull, 123456789};
static uint64_t sleep_reply[2] = {0x0000000100000000ull, 0x00000000fffffffcull};

/* The transport: copy the reply into the caller's buffer, as the kernel's
 * copy_to_user does. Not counted (see the top). */
int bench_transport(void *ctx, const struct capnpc_request *req, struct capnpc_reply *rep);
__attribute__((noinline)) int bench_transport(void *ctx, const struct capnpc_request *req,
                                              struct capnpc_reply *rep)
{
    (void)ctx;
    const uint64_t *r = req->method == Timer_now_METHOD ? now_reply : sleep_reply;
    size_t len = req->method == Timer_now_METHOD ? sizeof(now_reply) : sizeof(sleep_reply);
    if (len > rep->size)
        return -1;
    memcpy(rep->buf, r, len);
    rep->len = len;
    return CAPNPC_OK;
}

static const struct capnpc_transport transport = {bench_transport, NULL};
static uint8_t call_params[64] __attribute__((aligned(8)));
static uint8_t call_results[64] __attribute__((aligned(8)));
static volatile uint64_t sink;

/* A call, with its status checked; reading the results is not counted
 * (it is the caller's, and an inline field read). */
__attribute__((noinline)) static void client_now(long n)
{
    for (long i = 0; i < n; i++) {
        struct capnpc_call c;
        Timer_now_Results_r res;
        capnpc_call_init(&c, call_params, sizeof(call_params), call_results, sizeof(call_results));
        if (Timer_now_call(&transport, 3, &c, &res) != CAPNPC_OK)
            abort();
        if (n == 1)
            sink += Timer_now_Results_get_ns(res);
    }
}

__attribute__((noinline)) static void client_sleep(long n)
{
    for (long i = 0; i < n; i++) {
        struct capnpc_call c;
        Timer_sleep_Results_r res;
        capnpc_call_init(&c, call_params, sizeof(call_params), call_results, sizeof(call_results));
        if (Timer_sleep_call(&transport, 3, &c, (uint64_t)i, &res) != CAPNPC_OK)
            abort();
    }
}

static const struct {
    const char *name;
    void (*run)(long n);
} benches[] = {
    {"server-now", server_now},
    {"server-sleep", server_sleep},
    {"client-now", client_now},
    {"client-sleep", client_sleep},
};

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "count") == 0) {
        for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
            if (strcmp(argv[2], benches[i].name) == 0) {
                benches[i].run(atol(argv[3]));
                return 0;
            }
        fprintf(stderr, "unknown benchmark %s\n", argv[2]);
        return 2;
    }
    /* Check: every path works, and the results say what the handler set. */
    for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
        benches[i].run(3);
    client_now(1);
    uint64_t expect[3] = {0x0000000200000000ull, 0x0000000100000000ull, 0};
    server_now(1);
    expect[2] = clock_ns - 1;
    if (memcmp(results_out, expect, sizeof(expect)) != 0 || sink != 123456789ull) {
        fprintf(stderr, "small-calls: wrong results\n");
        return 1;
    }
    printf("small-calls: ok\n");
    return 0;
}
