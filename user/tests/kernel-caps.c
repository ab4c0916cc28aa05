/*
 * QEMU test program: the kernel capabilities through generated stubs.
 * CapSet bootstrap (lookup by name with interface check), Console,
 * Timer.now and Timer.sleep, EntropySource.fill, and the three error
 * kinds (transport error, CapException, result). Prints what it checks;
 * exits 0 when every check passed.
 */
#include "capos_rt.h"

#include <string.h>

#include "capos.capnp.h"
#include "testlib.h"

int main(void)
{
    const char *why = 0;
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t entropy = capos_capset_find("entropy", EntropySource_INTERFACE_ID, 0);
    CHECK(console && timer && entropy, "capset: console, timer and entropy found");
    CHECK(capos_capset_find("timer", Console_INTERFACE_ID, &why) == 0 && why &&
              strcmp(why, "the capability has a different interface") == 0,
          "capset: timer refused as a Console (%s)", why ? why : "?");
    CHECK(capos_capset_find("nonexistent", Console_INTERFACE_ID, &why) == 0,
          "capset: unknown name refused (%s)", why ? why : "?");

    uint8_t params[256], results[256];
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Console_writeLine_call(&capos_transport, console, &c,
                                    "console: hello through a capability", 35, 0);
    CHECK(rc == CAPNPC_OK, "Console.writeLine returned %d", rc);

    Timer_now_Results_r now1, now2;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = Timer_now_call(&capos_transport, timer, &c, &now1);
    uint64_t t1 = Timer_now_Results_get_ns(now1);
    CHECK(rc == CAPNPC_OK && t1 > 0, "Timer.now = %lu ns", t1);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = Timer_sleep_call(&capos_transport, timer, &c, 30000000, 0);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Timer_now_call(&capos_transport, timer, &c, &now2);
    uint64_t slept = Timer_now_Results_get_ns(now2) - t1;
    CHECK(rc == CAPNPC_OK && slept >= 30000000, "Timer.sleep(30 ms) took %lu ms", slept / 1000000);

    uint8_t a[32], b[32];
    EntropySource_fill_Results_r er;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = EntropySource_fill_call(&capos_transport, entropy, &c, 32, &er);
    struct capn_data d = EntropySource_fill_Results_get_bytes(er);
    CHECK(rc == CAPNPC_OK && d.len == 32, "EntropySource.fill(32) gave %u bytes", d.len);
    memcpy(a, d.ptr, 32);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    EntropySource_fill_call(&capos_transport, entropy, &c, 32, &er);
    d = EntropySource_fill_Results_get_bytes(er);
    memcpy(b, d.ptr, 32);
    CHECK(memcmp(a, b, 32) != 0, "EntropySource.fill: two fills differ");

    /* Error kind 1: transport error (wrong interface for the capability). */
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = Timer_now_call(&capos_transport, console, &c, &now1);
    CHECK(rc == CAPOS_E_WRONG_INTERFACE, "Timer.now on the console: transport error %d", rc);
    /* Error kind 2: CapException (an argument the method refuses). */
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    rc = EntropySource_fill_call(&capos_transport, entropy, &c, 100000, &er);
    CapException_r ex = CapException_read_root(&c.msg);
    struct capn_text m = CapException_get_message(ex);
    CHECK(rc == CAPNPC_EXCEPTION && CapException_get_type(ex) == CapException_Type_invalidArgument,
          "EntropySource.fill(100000): exception %s: %.*s",
          CapException_Type_NAMES[CapException_get_type(ex)], (int)m.len, m.str);
    /* A result buffer too small for the result. */
    capnpc_call_init(&c, params, sizeof(params), results, 16);
    rc = EntropySource_fill_call(&capos_transport, entropy, &c, 64, &er);
    CHECK(rc == CAPOS_E_RESULT_TOO_SMALL, "result buffer too small: transport error %d", rc);
    /* An unknown method ordinal. */
    struct capos_sqe sqe = {.opcode = CAPOS_OP_CALL,
                            .cap = timer,
                            .method = 9,
                            .interface_id = Timer_INTERFACE_ID,
                            .user_data = capos_ring_next_id()};
    struct capos_cqe cqe;
    capos_ring_submit(&sqe);
    capos_ring_wait(sqe.user_data, &cqe);
    CHECK(cqe.result == CAPOS_E_BAD_METHOD, "method 9 of Timer: transport error %d", cqe.result);

    /* Unmapped params, and a result buffer in read-only text: the kernel's
     * copy faults, recovers, and answers CAPOS_E_BAD_ADDRESS. */
    static const uint64_t empty_params[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
    struct capos_sqe bad = {.opcode = CAPOS_OP_CALL,
                            .cap = timer,
                            .method = Timer_now_METHOD,
                            .interface_id = Timer_INTERFACE_ID,
                            .params_addr = 0x10000000,
                            .params_len = 16,
                            .result_addr = (uint64_t)results,
                            .result_len = sizeof(results),
                            .user_data = capos_ring_next_id()};
    capos_ring_submit(&bad);
    capos_ring_wait(bad.user_data, &cqe);
    CHECK(cqe.result == CAPOS_E_BAD_ADDRESS, "unmapped params: transport error %d", cqe.result);
    bad.params_addr = (uint64_t)empty_params;
    bad.result_addr = (uint64_t)&main; /* text: mapped, not writable */
    bad.user_data = capos_ring_next_id();
    capos_ring_submit(&bad);
    capos_ring_wait(bad.user_data, &cqe);
    CHECK(cqe.result == CAPOS_E_BAD_ADDRESS, "read-only result buffer: transport error %d",
          cqe.result);
    bad.result_addr = (uint64_t)results;
    bad.user_data = capos_ring_next_id();
    capos_ring_submit(&bad);
    capos_ring_wait(bad.user_data, &cqe);
    CHECK(cqe.result == 0 && cqe.result_len == 24, "the same call with good buffers works");

    capos_printf("kernel-caps: %d failures\n", failures);
    return failures;
}
