/*
 * QEMU test program: a process whose threads block in every blocking
 * operation when it dies, for user/tests/threads.c. The case comes as the
 * name of a capability "mode-<case>" in the CapSet.
 */
#include <capos/layout.h>
#include <threads.h>

#include "capos_threads.h"
#include "testlib.h"

static uint32_t timer, factory, park;
static uint32_t never; /* parked on, never woken */

static int block_recv(void *arg)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, Echo_INTERFACE_ID, &s, &k))
        return -1;
    struct capos_server srv = {.endpoint = s, .iface = &Echo_IFACE, .ops = 0};
    return capos_serve(&srv);
}

static int block_park(void *arg)
{
    capos_park_wait(&never, 0, 0);
    return -1;
}

static int block_sleep(void *arg)
{
    struct timespec ten = {10, 0};
    return thrd_sleep(&ten, 0);
}

static int block_join(void *arg)
{
    thrd_t t;
    if (thrd_create(&t, block_park, 0) != thrd_success)
        return -1;
    return thrd_join(t, 0);
}

static int spin(void *arg)
{
    for (volatile unsigned long i = 0;; i++)
        ;
    return 0;
}

static int fault(void *arg)
{
    struct timespec ms = {0, 5000000};
    thrd_sleep(&ms, 0);
    *(volatile int *)0 = 1;
    return 0;
}

static int exit_process(void *arg)
{
    struct timespec ms = {0, 5000000};
    thrd_sleep(&ms, 0);
    capos_exit(11);
}

static int last_one(void *arg)
{
    struct timespec ms = {0, 20000000};
    thrd_sleep(&ms, 0);
    thrd_exit(9);
}

static void start(thrd_start_t f)
{
    thrd_t t;
    if (thrd_create(&t, f, 0) != thrd_success)
        capos_panic("thread-child: thrd_create failed");
}

static void start_blockers(void)
{
    start(block_recv);
    start(block_park);
    start(block_sleep);
    start(block_join);
    struct timespec ms = {0, 10000000};
    thrd_sleep(&ms, 0); /* let them all block */
}

/* A thread that leaves with a sleep and a RECV in flight. */
static int leave_with_calls(void *arg)
{
    uint32_t s, k;
    if (!test_create_endpoint(factory, Echo_INTERFACE_ID, &s, &k))
        return -1;
    static _Thread_local uint8_t buf[4096] __attribute__((aligned(8)));
    struct capos_sqe recv = {.opcode = CAPOS_OP_RECV,
                             .cap = s,
                             .result_addr = (uint64_t)(uintptr_t)buf,
                             .result_len = sizeof(buf),
                             .user_data = capos_ring_next_id()};
    uint8_t p[64], r[64];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    Timer_sleep_Params_b sp = Timer_sleep_begin(&c);
    Timer_sleep_Params_set_ns(sp, 10000000000ull);
    if (!capos_ring_submit(&recv) ||
        !capos_call_start(&c, timer, Timer_INTERFACE_ID, Timer_sleep_METHOD, capos_ring_next_id()))
        return -1;
    capos_cap_enter(0, 0);
    thrd_exit(0);
}

/* The quota case's raw threads have no TLS (thread pointer 0), so they
 * must not touch the ring client's thread-local state: they only wait,
 * through the bare system call, on their own stack. On a machine with
 * more CPUs they run at once, beside the loop that spawns them. */
static void wait_forever(void)
{
    for (;;)
        capos_cap_enter(1, UINT64_MAX);
}

static int quota(void)
{
    uint32_t spawner = capos_capset_find("threads", ThreadSpawner_INTERFACE_ID, 0);
    static uint8_t stacks[CAPOS_MAX_THREADS][512] __attribute__((aligned(16)));
    for (int i = 0; i < CAPOS_MAX_THREADS; i++) {
        uint8_t *stack = stacks[i];
        uint8_t p[256], r[256];
        uint32_t rcaps[1];
        struct capnpc_call c;
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        capnpc_call_caps(&c, 0, 0, rcaps, 1);
        ThreadSpawner_spawn_Results_r res;
        int rc = test_note_exception(
            &c, ThreadSpawner_spawn_call(
                    &capos_transport, spawner, &c, (uint64_t)(uintptr_t)wait_forever,
                    (uint64_t)(uintptr_t)(stack + sizeof(stacks[i])), 0, 0, &res));
        if (rc == CAPNPC_EXCEPTION) {
            bool why = strstr(test_exception_message(), "quota") != 0;
            capos_printf("thread-child: thread %d refused: %s\n", i + 2, test_exception_message());
            return why ? 0 : 2;
        }
        if (rc != CAPNPC_OK)
            return 3;
    }
    return 1; /* the quota never ran out */
}

int main(void)
{
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    factory = capos_capset_find("endpoints", EndpointFactory_INTERFACE_ID, 0);
    park = capos_capset_find("park", ParkSpace_INTERFACE_ID, 0);
    const struct capos_capset *cs = capos_capset();
    const char *mode = "";
    for (uint32_t i = 0; cs && i < cs->count && i < CAPOS_CAPSET_MAX_ENTRIES; i++)
        if (memcmp(cs->entries[i].name, "mode-", 5) == 0)
            mode = cs->entries[i].name + 5;
    if (strcmp(mode, "exit") == 0) {
        start_blockers();
        return 7;
    }
    if (strcmp(mode, "main-exits") == 0) {
        start(last_one);
        thrd_exit(5);
    }
    if (strcmp(mode, "thread-exit") == 0) {
        start_blockers();
        start(exit_process);
        block_park(0);
    }
    if (strcmp(mode, "fault") == 0) {
        start_blockers();
        start(fault);
        block_park(0);
    }
    if (strcmp(mode, "kill") == 0) {
        start_blockers();
        start(spin);
        block_park(0);
    }
    if (strcmp(mode, "calls") == 0) {
        thrd_t t;
        int r = -1;
        if (thrd_create(&t, leave_with_calls, 0) != thrd_success ||
            thrd_join(t, &r) != thrd_success)
            return 10;
        return r;
    }
    if (strcmp(mode, "park-isolated") == 0) {
        /* Park on our word at the address the parent also maps and wakes
         * with every count it can: only a timeout may end this wait. */
        uint32_t vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
        if (!test_map_same_va(vm))
            return 2;
        int r = capos_park_wait((volatile uint32_t *)TEST_SAME_VA, 0, 500000000ull);
        return r == CAPOS_PARK_NOT_WOKEN ? 0 : r == CAPOS_PARK_WOKEN ? 1 : 3;
    }
    if (strcmp(mode, "quota") == 0)
        return quota();
    capos_printf("thread-child: unknown mode \"%s\"\n", mode);
    return 100;
}
