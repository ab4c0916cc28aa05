/*
 * QEMU test program: a ring that cannot be wedged (CANCEL, and the CQ
 * slots kept for control opcodes).
 *
 * 30 Timer.sleeps of an hour hold every CQ slot that a CALL may take; a
 * RELEASE and a CANCEL still go through, and every sleep is cancelled, each
 * completing with CAPOS_E_CANCELLED. Then IPC: a queued CALL that moves a
 * capability is cancelled (the capability is the caller's again: CALL and
 * RELEASE on it said CAPOS_E_MOVING meanwhile); a waiting RECV is
 * cancelled; a CALL cancelled while the server holds it gets its answer
 * discarded; and the calls-in-flight count is given back (twice 30 more
 * CALLs are accepted). Exits with the number of failed checks.
 */
#include "capos_rt.h"

#include <capos/errors.h>

#include "capos.capnp.h"
#include "testlib.h"

#define SLEEPS     30 /* CAPOS_CQ_ENTRIES - RING_CONTROL_SLOTS (lib/kcore/ring.h) */
#define HOUR_NS    3600000000000ull
#define TEST_IFACE 0xcace11ed00000001ull

static uint64_t sleep_params[3] __attribute__((aligned(8)));
static uint8_t sleep_results[SLEEPS][64] __attribute__((aligned(8)));
static uint8_t call_results[SLEEPS][128] __attribute__((aligned(8)));
static uint8_t recv_buf[512] __attribute__((aligned(8)));
/* An empty struct as params: one segment of one word, the root pointer. */
static const uint64_t empty_params[2] = {(uint64_t)1 << 32, 0xfffffffcu};

static uint64_t submit(struct capos_sqe sqe)
{
    sqe.user_data = capos_ring_next_id();
    capos_ring_submit(&sqe);
    return sqe.user_data;
}

static struct capos_cqe wait_for(uint64_t ud)
{
    struct capos_cqe c = {0};
    capos_ring_wait(ud, &c);
    return c;
}

static uint64_t sleep_async(uint32_t timer, uint64_t ns, int i)
{
    /* Timer.sleep(ns): a root struct of one data word. */
    sleep_params[0] = (uint64_t)2 << 32;
    sleep_params[1] = (uint64_t)1 << 32;
    sleep_params[2] = ns;
    return submit((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                     .method = Timer_sleep_METHOD,
                                     .cap = timer,
                                     .interface_id = Timer_INTERFACE_ID,
                                     .params_addr = (uint64_t)sleep_params,
                                     .params_len = sizeof(sleep_params),
                                     .result_addr = (uint64_t)sleep_results[i],
                                     .result_len = sizeof(sleep_results[i])});
}

static uint64_t cancel(uint64_t target)
{
    return submit((struct capos_sqe){.opcode = CAPOS_OP_CANCEL, .target_user_data = target});
}

static uint64_t release(uint32_t cap)
{
    return submit((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = cap});
}

static uint64_t call_async(uint32_t cap, uint16_t method, int slot, const struct capos_xfer *x,
                           uint16_t nx)
{
    return submit((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                     .method = method,
                                     .cap = cap,
                                     .interface_id = TEST_IFACE,
                                     .params_addr = (uint64_t)empty_params,
                                     .params_len = sizeof(empty_params),
                                     .result_addr = (uint64_t)call_results[slot],
                                     .result_len = sizeof(call_results[slot]),
                                     .xfer_count = nx,
                                     .xfer_addr = (uint64_t)x});
}

static void test_sleeps(uint32_t timer, uint32_t spare)
{
    /* Nothing is printed until the sleeps are cancelled: printing is a
     * CALL (Console.write), which must wait while they hold the CQ. */
    uint64_t ud[SLEEPS];
    for (int i = 0; i < SLEEPS; i++)
        ud[i] = sleep_async(timer, HOUR_NS, i);
    capos_cap_enter(0, 0);
    volatile struct capos_ring *r = capos_ring();
    bool all_taken = r->sq_head == r->sq_tail && !(r->status & CAPOS_RING_CQ_FULL);

    /* The CQ has room for nothing but control opcodes now. */
    struct capos_cqe rel = wait_for(release(spare));
    uint64_t cu = cancel(ud[0]);
    struct capos_cqe can = wait_for(cu);
    struct capos_cqe first = wait_for(ud[0]);
    int cancelled = can.result == 0 && first.result == CAPOS_E_CANCELLED;
    for (int i = 1; i < SLEEPS; i++) {
        struct capos_cqe a = wait_for(cancel(ud[i]));
        struct capos_cqe b = wait_for(ud[i]);
        cancelled += a.result == 0 && b.result == CAPOS_E_CANCELLED;
    }
    CHECK(all_taken, "30 hour-long sleeps taken, each holding a CQ slot");
    CHECK(rel.result == 0, "RELEASE goes through a CQ full of sleeps (%d)", rel.result);
    CHECK(can.result == 0 && first.result == CAPOS_E_CANCELLED,
          "CANCEL goes through too, and the sleep completes cancelled (%d, %d)", can.result,
          first.result);
    CHECK(cancelled == SLEEPS, "every sleep cancelled (%d of %d)", cancelled, SLEEPS);
    struct capos_cqe c = wait_for(cancel(ud[5]));
    CHECK(c.result == CAPOS_E_NOT_FOUND, "a second CANCEL of it finds nothing: %d", c.result);
    c = wait_for(cancel(0x5eed));
    CHECK(c.result == CAPOS_E_NOT_FOUND, "CANCEL of a user_data never used: %d", c.result);
    c = wait_for(sleep_async(timer, 1000000, 0));
    CHECK(c.result == 0, "the ring works as before: a 1 ms sleep completes (%d)", c.result);
}

static void test_ipc(uint32_t factory)
{
    uint32_t s, k, s2, k2;
    CHECK(test_create_endpoint(factory, TEST_IFACE, &s, &k) &&
              test_create_endpoint(factory, TEST_IFACE, &s2, &k2),
          "two endpoints");

    /* A queued CALL moving k2: while it waits, k2 is neither usable nor
     * releasable; cancelled, it is the caller's again. */
    struct capos_xfer mv = {k2, CAPOS_XFER_MOVE};
    uint64_t call = call_async(k, 1, 0, &mv, 1);
    capos_cap_enter(0, 0);
    struct capos_cqe c = wait_for(call_async(k2, 9, 1, 0, 0));
    CHECK(c.result == CAPOS_E_MOVING, "a CALL on a capability being moved: %d", c.result);
    c = wait_for(release(k2));
    CHECK(c.result == CAPOS_E_MOVING, "a RELEASE of it: %d", c.result);
    c = wait_for(cancel(call));
    struct capos_cqe cc = wait_for(call);
    CHECK(c.result == 0 && cc.result == CAPOS_E_CANCELLED, "the queued CALL cancelled (%d, %d)",
          c.result, cc.result);
    c = wait_for(release(k2));
    CHECK(c.result == 0, "the moved capability is the caller's again: released (%d)", c.result);

    /* A waiting RECV, cancelled. */
    uint64_t rv = submit((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                            .cap = s,
                                            .result_addr = (uint64_t)recv_buf,
                                            .result_len = sizeof(recv_buf)});
    capos_cap_enter(0, 0);
    c = wait_for(cancel(rv));
    cc = wait_for(rv);
    CHECK(c.result == 0 && cc.result == CAPOS_E_CANCELLED, "a waiting RECV cancelled (%d, %d)",
          c.result, cc.result);

    /* The cancelled CALL was never delivered: the next RECV gets method 2. */
    call = call_async(k, 2, 0, 0, 0);
    c = wait_for(submit((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                           .cap = s,
                                           .result_addr = (uint64_t)recv_buf,
                                           .result_len = sizeof(recv_buf)}));
    const struct capos_recv_header *h = (const void *)recv_buf;
    CHECK(c.result == 0 && h->method == 2, "the next RECV gets the next CALL (method %u)",
          h->method);

    /* Cancelled while the server holds it: the CALL completes now, and the
     * server's RETURN finds its caller gone. */
    c = wait_for(cancel(call));
    cc = wait_for(call);
    CHECK(c.result == 0 && cc.result == CAPOS_E_CANCELLED, "a received CALL cancelled (%d, %d)",
          c.result, cc.result);
    c = wait_for(submit((struct capos_sqe){.opcode = CAPOS_OP_RETURN,
                                           .cap = s,
                                           .call_id = h->call_id,
                                           .params_addr = (uint64_t)empty_params,
                                           .params_len = sizeof(empty_params)}));
    CHECK(c.result == CAPOS_E_DISCONNECTED, "its RETURN is discarded: %d", c.result);

    /* Cancelled calls no longer count as in flight: 30 more are taken
     * (nothing printed meanwhile: they hold the CQ). */
    /* Twice: had a cancelled call stayed counted, the second round would
     * pass the limit of 32 in flight (PROCESS_MAX_OUTSTANDING). */
    uint64_t ud[SLEEPS];
    int ok = 0;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < SLEEPS; i++)
            ud[i] = call_async(k, 3, i, 0, 0);
        capos_cap_enter(0, 0);
        for (int i = 0; i < SLEEPS; i++) {
            struct capos_cqe a = wait_for(cancel(ud[i]));
            struct capos_cqe b = wait_for(ud[i]);
            ok += a.result == 0 && b.result == CAPOS_E_CANCELLED;
        }
    }
    CHECK(ok == 2 * SLEEPS, "twice 30 more CALLs queued and cancelled (%d)", ok);
}

int main(void)
{
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    uint32_t s, k;
    CHECK(timer && factory && test_create_endpoint(factory, TEST_IFACE, &s, &k),
          "timer, endpoints, and an endpoint to release later");
    test_sleeps(timer, k);
    test_ipc(factory);
    capos_printf("ring-cancel: %d failures\n", failures);
    return failures;
}
