/*
 * QEMU test program (a child of mem-quota): while its hostile siblings
 * fill their own quotas, it allocates its whole quota in MemoryObjects and
 * makes an endpoint at every step. Nothing may be refused until it is at
 * its own quota: that is what a quota guarantees.
 */
#include "testlib.h"

#define STEPS 32

static uint8_t params[256], results[256];
static struct capnpc_call c;

/* A MemoryObject of `pages`, or 0. */
static uint32_t allocate(uint32_t frames, uint32_t pages, int *ex)
{
    uint32_t rcaps[1] = {0};
    FrameAllocator_allocate_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    capnpc_call_caps(&c, 0, 0, rcaps, 1);
    int rc = FrameAllocator_allocate_call(&capos_transport, frames, &c, pages, &r);
    *ex = rc == CAPNPC_OK          ? -1
          : rc == CAPNPC_EXCEPTION ? (int)CapException_get_type(CapException_read_root(&c.msg))
                                   : -100;
    uint32_t i = rc == CAPNPC_OK ? FrameAllocator_allocate_Results_get_memory(r) : 1;
    return i < c.reply.ncaps ? rcaps[i] : 0;
}

int main(void)
{
    test_wait_go_ahead(); /* until init has looked at our reservation */
    uint32_t frames = capos_capset_find("frames", FrameAllocator_INTERFACE_ID, 0);
    uint32_t endpoints = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    struct test_usage u0, u1;
    if (!frames || !endpoints || !timer || !test_usage(frames, &u0)) {
        CHECK(false, "mem-victim: frames, endpoints and timer granted");
        return failures;
    }
    /* Leave room for the objects' records and the endpoints. */
    uint32_t chunk = (uint32_t)((u0.quota - u0.held - 64) / STEPS);
    int refused = 0, ex;
    for (int i = 0; i < STEPS; i++) {
        refused += allocate(frames, chunk, &ex) == 0;
        uint32_t s, k;
        refused += !test_create_endpoint(endpoints, Chat_INTERFACE_ID, &s, &k);
        /* Let the hogs run between steps. */
        capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
        Timer_sleep_call(&capos_transport, timer, &c, 20000000, 0);
    }
    CHECK(refused == 0, "mem-victim: %d MemoryObjects of %u pages and %d endpoints, %d refused",
          STEPS, chunk, STEPS, refused);
    /* Then single pages until refused: only at the quota itself. */
    int singles = 0;
    while (allocate(frames, 1, &ex) != 0)
        singles++;
    test_usage(frames, &u1);
    CHECK(ex == CapException_Type_overloaded && u1.quota - u1.held < 2,
          "mem-victim: got its whole quota: %lu of %lu frames (%d more single pages)", u1.held,
          u1.quota, singles);
    capos_printf("mem-victim: %d failures\n", failures);
    return failures;
}
