/*
 * QEMU test program (init of tests/qemu/systems/ipc-hostile.cue): endpoint
 * misuse and limits, each failing closed.
 *   - RECV and RETURN on a client facet: CAPOS_E_NOT_PERMITTED;
 *   - 40 CALLs to a server that never answers: 30 are taken (the CQ bounds
 *     the calls in flight), the rest wait in the SQ; when the server exits,
 *     every one completes with a `disconnected` exception;
 *   - capability slots: wrapping until the table is full fails with
 *     CAPOS_E_NO_SPACE, and releasing makes room again.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "testlib.h"

static uint8_t params[1024] __attribute__((aligned(8)));
static uint8_t results[40][128] __attribute__((aligned(8)));

static int32_t raw(struct capos_sqe sqe)
{
    struct capos_cqe cqe;
    sqe.user_data = capos_ring_next_id();
    capos_ring_submit(&sqe);
    capos_ring_wait(sqe.user_data, &cqe);
    return cqe.result;
}

static uint32_t spawn_sleeper(uint32_t spawner, uint32_t timer, uint32_t *client)
{
    const struct capos_grant g = {"timer", Timer_INTERFACE_ID, timer};
    return test_spawn_serving(spawner, "sleeper", &g, 1, "svc", Echo_INTERFACE_ID, client);
}

int main(void)
{
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    uint32_t attenuator = capos_capset_find("attenuator", Attenuator_INTERFACE_ID, 0);
    uint32_t svc = 0;
    uint32_t handle = spawn_sleeper(spawner, timer, &svc);
    CHECK(handle && svc, "spawned a server that never answers, got a client facet");

    /* A ProcessHandle.wait, cancelled: it completes at once, and a later
     * wait (at the end) is not refused as "another wait pending". */
    static const uint64_t no_params[2] = {(uint64_t)1 << 32, 0xfffffffcu};
    static uint8_t wres[2][64] __attribute__((aligned(8)));
    struct capos_sqe wait = {.opcode = CAPOS_OP_CALL,
                             .method = ProcessHandle_wait_METHOD,
                             .cap = handle,
                             .interface_id = ProcessHandle_INTERFACE_ID,
                             .params_addr = (uint64_t)no_params,
                             .params_len = sizeof(no_params),
                             .result_addr = (uint64_t)wres[0],
                             .result_len = sizeof(wres[0]),
                             .user_data = 7001};
    struct capos_sqe cancel = {
        .opcode = CAPOS_OP_CANCEL, .target_user_data = 7001, .user_data = 7002};
    struct capos_cqe wc = {0}, canc = {0};
    capos_ring_submit(&wait);
    capos_ring_submit(&cancel);
    capos_ring_wait(7002, &canc);
    capos_ring_wait(7001, &wc);
    CHECK(canc.result == 0 && wc.result == CAPOS_E_CANCELLED,
          "a ProcessHandle.wait cancelled (%d, %d)", canc.result, wc.result);

    CHECK(raw((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                 .cap = svc,
                                 .result_addr = (uint64_t)results[0],
                                 .result_len = 128}) == CAPOS_E_NOT_PERMITTED,
          "RECV on a client facet refused");
    CHECK(raw((struct capos_sqe){.opcode = CAPOS_OP_RETURN, .cap = svc, .call_id = 1}) ==
              CAPOS_E_NOT_PERMITTED,
          "RETURN on a client facet refused");
    CHECK(raw((struct capos_sqe){.opcode = CAPOS_OP_RETURN, .cap = console, .call_id = 7}) ==
              CAPOS_E_NOT_PERMITTED,
          "RETURN on a non-endpoint refused");

    /* 40 calls, never answered. Params: an Echo.echo with empty text. */
    static const uint64_t empty[3] = {0x0000000200000000ull, 0x0001000000000000ull, 0};
    volatile struct capos_ring *r = capos_ring();
    uint32_t submitted = 0;
    for (uint32_t i = 0; i < 40; i++) {
        struct capos_sqe s = {.opcode = CAPOS_OP_CALL,
                              .cap = svc,
                              .interface_id = Echo_INTERFACE_ID,
                              .params_addr = (uint64_t)empty,
                              .params_len = sizeof(empty),
                              .result_addr = (uint64_t)results[i],
                              .result_len = 128,
                              .user_data = 9000 + i};
        if (r->sq_tail - r->sq_head >= CAPOS_SQ_ENTRIES)
            capos_cap_enter(0, 0);
        if (!capos_ring_submit(&s))
            break;
        submitted++;
    }
    capos_cap_enter(0, 0);
    uint32_t waiting = r->sq_tail - r->sq_head;
    CHECK(submitted == 40 && waiting == 10,
          "40 calls: 30 taken in flight, %u left in the SQ (the CQ bounds calls in flight)",
          waiting);
    /* The server exits: every call completes with `disconnected`. */
    uint32_t disconnected = 0;
    for (uint32_t i = 0; i < 40; i++) {
        struct capos_cqe c;
        if (!capos_ring_wait(9000 + i, &c))
            break;
        if (c.result == CAPOS_RESULT_EXCEPTION) {
            struct capn_seg segs[2];
            struct capn_msg m;
            capn_msg_read(&m, segs, 2, results[i], c.result_len, 0);
            disconnected +=
                CapException_get_type(CapException_read_root(&m)) == CapException_Type_disconnected;
        }
    }
    CHECK(disconnected == 40, "all 40 calls ended with a disconnected exception (%u)",
          disconnected);
    wait.result_addr = (uint64_t)wres[1];
    wait.user_data = 7003;
    capos_ring_submit(&wait);
    capos_ring_wait(7003, &wc);
    CHECK(wc.result == 0, "after the cancelled wait, a new wait gets the exit (%d)", wc.result);

    /* Capability slots: wrap the console until the table is full. */
    static uint32_t wrapped[300];
    uint32_t n = 0;
    int last = 0;
    for (; n < 300; n++) {
        uint32_t caps[1] = {console}, rcaps[1];
        static uint8_t res[128] __attribute__((aligned(8)));
        struct capnpc_call c;
        capnpc_call_init(&c, params, sizeof(params), res, sizeof(res));
        capnpc_call_caps(&c, caps, 1, rcaps, 1);
        Attenuator_wrap_Params_b p = Attenuator_wrap_begin(&c);
        Attenuator_wrap_Params_set_cap(p, capnpc_call_add_cap(&c, console));
        Attenuator_wrap_Params_init_methods(p, 0);
        Attenuator_wrap_Results_r wr;
        last = Attenuator_wrap_send(&capos_transport, attenuator, &c, &wr);
        if (last != CAPNPC_OK)
            break;
        wrapped[n] = rcaps[0];
    }
    CHECK(last == CAPOS_E_NO_SPACE && n > 200 && n < 256,
          "capability table full after %u wraps: transport error %d", n, last);
    for (uint32_t i = 0; i < n; i++)
        capos_release(wrapped[i]);
    capos_flush_releases();
    uint8_t cp[128], cr[64];
    struct capnpc_call cc;
    capnpc_call_init(&cc, cp, sizeof(cp), cr, sizeof(cr));
    CHECK(Console_writeLine_call(&capos_transport, console, &cc, "ipc-hostile: room again", 23,
                                 0) == CAPNPC_OK,
          "after releasing them the process works normally");
    capos_printf("ipc-hostile: %d failures\n", failures);
    return failures;
}
