/*
 * QEMU test program: a caller's result buffer that goes away while its
 * call is in flight. The server's RETURN then copies into another address
 * space through the kernel's page walk (and the page it remembers from
 * the last copy, docs/benchmarks.md): an unmapped page, a page made
 * read-only, and a page unmapped and mapped again at the same address
 * must each be seen as they are now, never as they were. A wrong answer
 * would write into a freed frame. Then the other direction: big params
 * (which go straight into the waiting server's buffer) whose second page
 * is gone: the CALL fails, and the server, whose RECV was written into
 * but never completed, answers the next call as if nothing happened.
 */
#include "testlib.h"

#define PAGE 4096ull
#define BUF  0x200000000ull
#define PBUF 0x210000000ull /* two pages for big params */

static uint8_t params[256] __attribute__((aligned(8)));
static uint8_t results[256] __attribute__((aligned(8)));
static uint32_t vm;

/* Whether the answer "hello" is in the result buffer (framed: it sits
 * after the segment table and the pointers). */
static bool hello_in_buf(void)
{
    for (int i = 0; i + 5 <= 64; i++)
        if (memcmp((const void *)(BUF + i), "hello", 5) == 0)
            return true;
    return false;
}

static int vm_call(int op, uint64_t va, bool writable)
{
    struct capnpc_call c;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (op == 0)
        return VirtualMemory_map_call(&capos_transport, vm, &c, va, 1, writable, false, 0);
    if (op == 1)
        return VirtualMemory_unmap_call(&capos_transport, vm, &c, va, 1, 0);
    return VirtualMemory_protect_call(&capos_transport, vm, &c, va, 1, writable, false, 0);
}

/*
 * Echo "hello" with the result buffer at BUF; `meanwhile` (-1: nothing)
 * runs a VirtualMemory call in the same cap_enter, after the CALL is
 * queued and before the server can answer. The CALL's CQE result.
 */
static int32_t echo_into_buf(uint32_t echo, int meanwhile, bool writable)
{
    static uint8_t p[128] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), (uint8_t *)BUF, 256);
    Echo_echo_Params_b ep = Echo_echo_begin(&c);
    Echo_echo_Params_set_text(ep, "hello", 5);
    uint64_t id = capos_ring_next_id();
    if (!capos_call_start(&c, echo, Echo_INTERFACE_ID, Echo_echo_METHOD, id))
        return INT32_MIN;
    if (meanwhile >= 0)
        vm_call(meanwhile, BUF, writable); /* its cap_enter also takes the CALL */
    struct capos_cqe cqe;
    if (!capos_ring_wait(id, &cqe))
        return INT32_MIN;
    return cqe.result;
}

int main(void)
{
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    const struct capos_grant con = {"console", Console_INTERFACE_ID, console};
    uint32_t echo;
    uint32_t server = spawner && vm ? test_spawn_serving(spawner, "echo-server", &con, 1, "echo",
                                                         Echo_INTERFACE_ID, &echo)
                                    : 0;
    if (!server || !echo) {
        CHECK(false, "ipc-badbuf: echo-server started");
        return failures;
    }
    CHECK(vm_call(0, BUF, true) == CAPNPC_OK, "a page for the result buffer");
    CHECK(echo_into_buf(echo, -1, true) == 0 && hello_in_buf(),
          "a call answered into it (the kernel now remembers the page)");

    int32_t r = echo_into_buf(echo, 1, false);
    CHECK(r == CAPOS_E_BAD_ADDRESS, "unmapped while the call was in flight: %d (BAD_ADDRESS)", r);

    CHECK(vm_call(0, BUF, true) == CAPNPC_OK, "mapped again at the same address (a new frame)");
    memset((void *)BUF, 0, 64);
    r = echo_into_buf(echo, -1, true);
    CHECK(r == 0 && hello_in_buf(),
          "a call answered into the new page, where the caller reads it: %d", r);

    r = echo_into_buf(echo, 2, false);
    CHECK(r == CAPOS_E_BAD_ADDRESS, "made read-only while the call was in flight: %d", r);
    CHECK(vm_call(2, BUF, true) == CAPNPC_OK && echo_into_buf(echo, -1, true) == 0,
          "writable again: answered");

    /* Big params across two pages, the second unmapped before the call. */
    static char text[1500];
    memset(text, 'x', sizeof(text));
    CHECK(vm_call(0, PBUF, true) == CAPNPC_OK && vm_call(0, PBUF + PAGE, true) == CAPNPC_OK,
          "two pages for the params");
    static uint8_t res[2048] __attribute__((aligned(8)));
    struct capnpc_call c;
    capnpc_call_init(&c, (uint8_t *)PBUF + PAGE - 512, 2 * 1024, res, sizeof(res));
    Echo_echo_Params_set_text(Echo_echo_begin(&c), text, sizeof(text));
    /* Built, then half of it unmapped before the kernel reads it. */
    vm_call(1, PBUF + PAGE, false);
    uint64_t id = capos_ring_next_id();
    bool started = capos_call_start(&c, echo, Echo_INTERFACE_ID, Echo_echo_METHOD, id);
    struct capos_cqe cqe = {0};
    CHECK(started && capos_ring_wait(id, &cqe) && cqe.result == CAPOS_E_BAD_ADDRESS,
          "big params whose second page went away: %d (BAD_ADDRESS)", cqe.result);
    static uint8_t big_params[2048] __attribute__((aligned(8)));
    capnpc_call_init(&c, big_params, sizeof(big_params), res, sizeof(res));
    Echo_echo_Results_r er;
    int rc = Echo_echo_call(&capos_transport, echo, &c, text, 1200, &er);
    struct capn_text back =
        rc == CAPNPC_OK ? Echo_echo_Results_get_text(er) : (struct capn_text){0};
    CHECK(rc == CAPNPC_OK && back.len == 1200 && memcmp(back.str, text, 1200) == 0,
          "the server answers the next big call exactly (%d, %u bytes)", rc, back.len);

    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_call(&capos_transport, echo, &c, "quit:1", 6, 0);
    CHECK(test_wait_exit(server) == 0, "echo-server ended");
    capos_printf("ipc-badbuf: %d failures\n", failures);
    return failures;
}
