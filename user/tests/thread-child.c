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

static volatile struct capos_ring *main_ring;

/* Ends after the main thread, however the CPUs run the two (a sleep
 * only made that likely): the main thread's ring page goes with it, and
 * a park on a word of that page is then refused. The word is never read
 * here, only named. */
static int last_one(void *arg)
{
    (void)arg;
    const volatile uint32_t *word = &main_ring->sq_head;
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 10000 && capos_park_wait(word, 0xffffffffu, 1000000) != CAPOS_PARK_ERROR;
         i++)
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

/* Raw threads until the quota refuses one: 0, or why not (1 the quota
 * never ran out, 2 refused for another reason, 3 a transport error). */
static int spawn_until_refused(void)
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

/*
 * park-quota: a wakeWait that wakes a waiter parks its caller in that
 * waiter's record, so it needs no memory (docs/threads.md). B parks while
 * there is quota. Then raw threads use up the frames, and waits left in
 * flight (CALLs not waited for) take waiter records until one is refused:
 * no record is left, not even the spare. Then a wakeWait that wakes
 * nobody needs a new record and is refused, while one that wakes B goes
 * through in B's record, and B hands the turn back. The waits in flight
 * are still parked when the process ends. Exit code 0, or which step
 * failed.
 */
#define PQ_FILL 24
static uint32_t pq_b_word, pq_main_word, pq_none_word, pq_fill_words[PQ_FILL];

static int pq_b(void *arg)
{
    test_waiter_note(arg);
    int r = capos_park_wait(&pq_b_word, 0, 0);
    __atomic_store_n(&pq_main_word, 1, __ATOMIC_RELEASE);
    capos_park_wake(&pq_main_word, 1);
    return r;
}

/* Waits in flight until one is refused: how many parked, or -1. */
static int pq_fill(void)
{
    static uint8_t p[PQ_FILL][64], r[PQ_FILL][256] __attribute__((aligned(8)));
    static struct capnpc_call c[PQ_FILL];
    for (int i = 0; i < PQ_FILL; i++) {
        capnpc_call_init(&c[i], p[i], sizeof(p[i]), r[i], sizeof(r[i]));
        ParkSpace_wait_Params_b w = ParkSpace_wait_begin(&c[i]);
        ParkSpace_wait_Params_set_addr(w, (uint64_t)(uintptr_t)&pq_fill_words[i]);
        ParkSpace_wait_Params_set_expected(w, 0);
        ParkSpace_wait_Params_set_timeoutNs(w, 0);
        uint64_t id = capos_ring_next_id();
        if (!capos_call_start(&c[i], park, ParkSpace_INTERFACE_ID, ParkSpace_wait_METHOD, id))
            return -1;
        capos_cap_enter(0, 0);
        struct capos_cqe cqe;
        if (capos_ring_try_take(id, &cqe)) { /* answered at once: refused */
            if (cqe.flags & CAPOS_CQE_F_EXCEPTION)
                return i;
            capos_printf("thread-child: wait %d answered %d, flags %u\n", i, cqe.result, cqe.flags);
            return -1;
        }
    }
    capos_printf("thread-child: %d waits in flight, none refused\n", PQ_FILL);
    return -1;
}

static int park_quota(void)
{
    thrd_t b;
    static struct test_waiter b_parked;
    if (thrd_create(&b, pq_b, &b_parked) != thrd_success)
        return 10;
    /* B parks before the quota is used up (waiting with Timer sleeps: no
     * waiter record). */
    if (!test_waiter_wait(&b_parked))
        return 15;
    int rc = spawn_until_refused();
    if (rc != 0)
        return 20 + rc;
    /* A thread needs several frames: the last few go one page at a time. */
    uint32_t vm = capos_capset_find("vm", VirtualMemory_INTERFACE_ID, 0);
    int pages = 0;
    for (;; pages++) {
        uint8_t p[128], r[128];
        struct capnpc_call c;
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        VirtualMemory_map_Results_r res;
        if (VirtualMemory_map_call(&capos_transport, vm, &c, 0x200000000ull + 4096ull * pages, 1,
                                   true, false, &res) != CAPNPC_OK)
            break;
        if (pages == 64)
            return 25; /* the quota never ran out */
    }
    int parked = pq_fill();
    if (parked < 0)
        return 30;
    if (capos_park_wake_wait(&pq_none_word, 1, &pq_main_word, 0, 0) != CAPOS_PARK_ERROR)
        return 40;
    int r = capos_park_wake_wait(&pq_b_word, 1, &pq_main_word, 0, 0);
    if (r != CAPOS_PARK_WOKEN || __atomic_load_n(&pq_main_word, __ATOMIC_ACQUIRE) != 1)
        return 50;
    capos_printf("thread-child: no waiter record left (%d waits in flight took the last): a "
                 "wakeWait that wakes nobody is refused, one that wakes a waiter parks in its "
                 "record\n",
                 parked);
    return 0;
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
        main_ring = capos_ring();
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
        return spawn_until_refused();
    if (strcmp(mode, "park-quota") == 0)
        return park_quota();
    capos_printf("thread-child: unknown mode \"%s\"\n", mode);
    return 100;
}
