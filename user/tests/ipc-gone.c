/*
 * QEMU test program: the "clients gone" notification of endpoints
 * (docs/ipc.md, "Clients gone"), from both sides.
 *
 * a. A RECV that asks (CAPOS_SQE_F_CLIENTS_GONE) completes, with no call,
 *    only when the last client reference goes: not while a wrapper of the
 *    client facet still holds one. A RECV that did not ask, waiting ahead
 *    of it, stays waiting. Releasing the client facet a second time fails
 *    and raises no second notification.
 * b. A call made before the release is delivered first; the notification
 *    follows it.
 * c. A RECV that did not ask never gets it; the next one that asks does.
 * d. A client facet made after the release (a wrapper of the owner side)
 *    withdraws the pending notification; its release raises it again.
 * e. A client that dies holding the only client facet, with a call in
 *    flight: the call is received, then the notification; the RETURN to
 *    the dead caller fails as usual.
 *
 * Caps: "console", "spawner", "endpoints", "attenuator". Exits with the
 * number of failed checks.
 */
#include <capos/errors.h>

#include "testlib.h"

#define EDGE_IFACE 0xed6e0000c0ffee01ull /* ipc-call-exit's */

static uint8_t params[1024] __attribute__((aligned(8)));
static uint8_t results[1024] __attribute__((aligned(8)));
static uint8_t rbuf[512] __attribute__((aligned(8)));
static uint32_t factory, attenuator, spawner, console;

static int32_t run(struct capos_sqe sqe)
{
    struct op o = op_submit(sqe);
    return op_wait(&o).result;
}

static struct op recv_op(uint32_t server, bool wants_gone)
{
    return op_submit((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                        .flags = wants_gone ? CAPOS_SQE_F_CLIENTS_GONE : 0,
                                        .cap = server,
                                        .result_addr = (uint64_t)rbuf,
                                        .result_len = sizeof(rbuf)});
}

static struct op call_op(uint32_t client)
{
    return op_submit((struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                        .method = 7,
                                        .cap = client,
                                        .interface_id = EDGE_IFACE,
                                        .params_addr = (uint64_t)params,
                                        .params_len = 16,
                                        .result_addr = (uint64_t)results,
                                        .result_len = sizeof(results)});
}

static int32_t release(uint32_t cap)
{
    return run((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = cap});
}

static int32_t cancel(struct op *o)
{
    int32_t r = run((struct capos_sqe){.opcode = CAPOS_OP_CANCEL, .target_user_data = o->ud});
    op_wait(o);
    return r;
}

static int32_t answer(uint32_t server, uint32_t call_id)
{
    return run((struct capos_sqe){.opcode = CAPOS_OP_RETURN,
                                  .cap = server,
                                  .call_id = call_id,
                                  .params_addr = (uint64_t)params,
                                  .params_len = 16});
}

/* The notification, exactly: no call, nothing written. */
static bool is_gone(const struct capos_cqe *c)
{
    return c->result == 0 && c->flags == CAPOS_CQE_F_CLIENTS_GONE && c->call_id == 0 &&
           c->result_len == 0 && c->cap_count == 0;
}

/* Attenuator.wrap(cap, all methods): another client reference, 0 if not. */
static uint32_t wrap(uint32_t cap)
{
    uint32_t caps[1], rcaps[1];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, caps, 1, rcaps, 1);
    Attenuator_wrap_Params_b p = Attenuator_wrap_begin(&c);
    Attenuator_wrap_Params_set_cap(p, capnpc_call_add_cap(&c, cap));
    List_UInt16_set(Attenuator_wrap_Params_init_methods(p, 1), 0, 7);
    Attenuator_wrap_Results_r r;
    if (Attenuator_wrap_send(&capos_transport, attenuator, &c, &r) != CAPNPC_OK)
        return 0;
    uint32_t i = Attenuator_wrap_Results_get_wrapped(r);
    return i < c.reply.ncaps ? rcaps[i] : 0;
}

static void test_release(void)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, EDGE_IFACE, &s, &k))
        return;
    uint32_t w = wrap(k);
    struct op plain = recv_op(s, false), asks = recv_op(s, true);
    CHECK(w && release(k) == 0 && !op_poll(&asks) && !op_poll(&plain),
          "a: client facet released, a wrapper of it still held: nothing yet");
    CHECK(release(w) == 0 && op_poll(&asks) && is_gone(&asks.cqe),
          "a: the wrapper released: the asking RECV completes, clients gone (flags %u, call %u)",
          asks.cqe.flags, asks.cqe.call_id);
    CHECK(!op_poll(&plain), "a: the RECV that did not ask, ahead of it, still waits");
    int32_t again = release(k);
    struct op second = recv_op(s, true);
    CHECK(again < 0 && !op_poll(&second),
          "a: releasing the facet again fails (%d) and raises nothing more", again);
    CHECK(cancel(&second) == 0 && cancel(&plain) == 0, "a: both waiting RECVs cancel");
    release(s);
}

static void test_order(void)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, EDGE_IFACE, &s, &k))
        return;
    struct op call = call_op(k);
    release(k);
    struct op r1 = recv_op(s, true);
    struct capos_cqe c1 = op_wait(&r1);
    CHECK(c1.result == 0 && c1.call_id != 0 && !(c1.flags & CAPOS_CQE_F_CLIENTS_GONE),
          "b: the call made before the release comes first (call %u)", c1.call_id);
    CHECK(answer(s, c1.call_id) == 0 && op_wait(&call).result == 0, "b: and is answered");
    struct op r2 = recv_op(s, true);
    CHECK(op_poll(&r2) && is_gone(&r2.cqe), "b: then the notification, at once");
    release(s);
}

static void test_opt_in(void)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, EDGE_IFACE, &s, &k))
        return;
    release(k);
    struct op plain = recv_op(s, false);
    CHECK(!op_poll(&plain) && cancel(&plain) == 0,
          "c: a RECV that does not ask is never told (cancelled)");
    struct op asks = recv_op(s, true);
    CHECK(op_poll(&asks) && is_gone(&asks.cqe), "c: the next RECV that asks is");
    release(s);
}

static void test_withdrawn(void)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, EDGE_IFACE, &s, &k))
        return;
    release(k);
    uint32_t w = wrap(s); /* a new client reference, made from the owner side */
    struct op asks = recv_op(s, true);
    CHECK(w && !op_poll(&asks), "d: a client made since withdraws the notification");
    CHECK(release(w) == 0 && op_poll(&asks) && is_gone(&asks.cqe),
          "d: its release raises it again");
    release(s);
}

static void test_death(void)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, EDGE_IFACE, &s, &k))
        return;
    struct capos_grant g[2] = {{"console", Console_INTERFACE_ID, console}, {"svc", EDGE_IFACE, k}};
    /* Waiting before the child runs: its call comes here whether it dies
     * before or after our release (its call was made first either way). */
    struct op r1 = recv_op(s, true);
    uint32_t child = test_spawn(spawner, "ipc-call-exit", g, 2, 0);
    release(k); /* the child holds the only client reference now, if any */
    struct capos_cqe c1 = op_wait(&r1);
    CHECK(child && c1.result == 0 && c1.call_id != 0, "e: the child's call is received (call %u)",
          c1.call_id);
    CHECK(test_wait_exit(child) == 0, "e: the child exited holding the facet, its call in flight");
    release(child);
    struct op r2 = recv_op(s, true);
    CHECK(op_poll(&r2) && is_gone(&r2.cqe), "e: the notification follows its death");
    int32_t r = answer(s, c1.call_id);
    CHECK(r == CAPOS_E_DISCONNECTED, "e: the RETURN to the dead caller: %d", r);
    release(s);
}

int main(void)
{
    factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    attenuator = capos_capset_find("attenuator", Attenuator_INTERFACE_ID, 0);
    spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    CHECK(factory && attenuator && spawner && console, "the CapSet has what the test needs");
    test_release();
    test_order();
    test_opt_in();
    test_withdrawn();
    test_death();
    capos_printf("ipc-gone: %d failures\n", failures);
    return failures;
}
