/*
 * QEMU test program, the init of the mem-quota system: hierarchical frame
 * quotas (docs/memory.md). It spawns two hostile children that try to make
 * the kernel pay for their page tables (mem-tables) and aliases
 * (mem-alias), and a victim that allocates its whole quota and makes
 * endpoints meanwhile (mem-victim). Each child's quota is carved out of
 * this process's and comes back when the child is gone; a child asking
 * for more than the room left, or for too little to load, is refused.
 */
#include "testlib.h"

#define HOG_QUOTA    1024
#define VICTIM_QUOTA 2048

int main(void)
{
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t frames = capos_capset_find("frames", FrameAllocator_INTERFACE_ID, 0);
    uint32_t vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t endpoints = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    struct test_usage u0, u1, u2;
    if (!console || !spawner || !frames || !vm || !timer || !endpoints ||
        !test_usage(frames, &u0)) {
        CHECK(false, "mem-quota: capabilities granted");
        return failures;
    }
    CHECK(u0.held <= u0.quota && u0.children == 0,
          "mem-quota: init's account: %lu of %lu frames, %lu page tables, %lu kernel heap, %lu "
          "kernel stacks",
          u0.held, u0.quota, u0.tables, u0.heap, u0.stacks);

    /* The children wait for a go-ahead before they start, so that all
     * three are surely alive (their quotas reserved) when init reads its
     * account: on a second CPU one could otherwise run to its end first. */
    uint32_t go_server, go;
    if (!test_create_endpoint(endpoints, Timer_INTERFACE_ID, &go_server, &go)) {
        CHECK(false, "mem-quota: the go-ahead endpoint made");
        return failures;
    }
    int rc;
    const struct capos_grant hog[] = {{"vm", VirtualMemory_INTERFACE_ID, vm},
                                      {"frames", FrameAllocator_INTERFACE_ID, frames},
                                      {"timer", Timer_INTERFACE_ID, timer},
                                      {"console", Console_INTERFACE_ID, console},
                                      {TEST_GO_AHEAD, Timer_INTERFACE_ID, go}};
    const struct capos_grant victim[] = {{"frames", FrameAllocator_INTERFACE_ID, frames},
                                         {"endpoints", EndpointFactory_INTERFACE_ID, endpoints},
                                         {"timer", Timer_INTERFACE_ID, timer},
                                         {"console", Console_INTERFACE_ID, console},
                                         {TEST_GO_AHEAD, Timer_INTERFACE_ID, go}};

    /* Refusals first: they must leave nothing behind. */
    uint32_t h = test_spawn_quota(spawner, "mem-victim", victim, 4, (uint32_t)(u0.quota + 1), &rc);
    CHECK(!h && rc == CAPNPC_EXCEPTION, "mem-quota: a child larger than the room left refused: %s",
          test_exception_message());
    h = test_spawn_quota(spawner, "mem-victim", victim, 4, 3, &rc);
    CHECK(!h && rc == CAPNPC_EXCEPTION, "mem-quota: a 3-frame child refused: %s",
          test_exception_message());
    test_usage(frames, &u1);
    CHECK(u1.children == 0, "mem-quota: refused children leave no reservation (%lu)", u1.children);

    uint32_t tables = test_spawn_quota(spawner, "mem-tables", hog, 5, HOG_QUOTA, &rc);
    uint32_t alias = test_spawn_quota(spawner, "mem-alias", hog + 1, 4, HOG_QUOTA, &rc);
    uint32_t vic = test_spawn_quota(spawner, "mem-victim", victim, 5, VICTIM_QUOTA, &rc);
    test_usage(frames, &u1);
    CHECK(tables && alias && vic, "mem-quota: the three children started");
    CHECK(u1.children == 2 * HOG_QUOTA + VICTIM_QUOTA,
          "mem-quota: their quotas are carved out of init's: %lu frames reserved", u1.children);
    CHECK(test_give_go_ahead(go_server, 3), "mem-quota: the three children given the go-ahead");
    CHECK(test_wait_exit(vic) == 0, "mem-quota: mem-victim got everything it asked for");
    CHECK(test_wait_exit(tables) == 0, "mem-quota: mem-tables stopped at its own quota");
    CHECK(test_wait_exit(alias) == 0, "mem-quota: mem-alias stopped at its own quota");
    test_usage(frames, &u2);
    CHECK(u2.children == 0 && u2.held == u1.held - u1.children,
          "mem-quota: the quotas came back: %lu reserved, %lu held", u2.children, u2.held);
    capos_printf("mem-quota: %d failures\n", failures);
    return failures;
}
