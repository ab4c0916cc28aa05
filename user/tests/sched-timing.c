/*
 * QEMU test program, run under -icount (virtual time counts instructions,
 * so every figure is deterministic): the scheduler's promises
 * (docs/scheduling.md).
 *  - Wake-ups on time: Timer.sleep(1 ms) and (3 ms) return within 10 % of
 *    the time asked, and a cap_enter with a 1 µs timeout within 50 µs (the
 *    timer is armed for the deadline, not left to a 10 ms tick).
 *  - Direct handoff under load: the median round trip to an echo server
 *    with two CPU-bound processes runnable stays within 1.2x of the
 *    median without them.
 *  - Fairness beside an IPC pair: the CPU-bound processes get equal
 *    shares (within 20 %), and the busy pair still makes progress.
 */
#include "testlib.h"

#define MS          1000000ull
#define ROUND_TRIPS 512
#define SPINNERS    2

static uint8_t params[256] __attribute__((aligned(8)));
static uint8_t results[256] __attribute__((aligned(8)));
static struct capnpc_call c;
static uint32_t timer;

static uint64_t now_ns(void)
{
    Timer_now_Results_r now;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (Timer_now_call(&capos_transport, timer, &c, &now) != CAPNPC_OK)
        return 0;
    return Timer_now_Results_get_ns(now);
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static void check_sleep(uint64_t ns)
{
    uint64_t t0 = now_ns();
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Timer_sleep_call(&capos_transport, timer, &c, ns, 0);
    uint64_t d = now_ns() - t0;
    CHECK(rc == CAPNPC_OK && d >= ns && d <= ns + ns / 10,
          "Timer.sleep(%lu us) returned after %lu us (at most %lu)", ns / 1000, d / 1000,
          (ns + ns / 10) / 1000);
}

static bool echo_once(uint32_t echo)
{
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    return Echo_echo_call(&capos_transport, echo, &c, "x", 1, 0) == CAPNPC_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median of ROUND_TRIPS individually timed round trips (instructions
 * under -icount); 0 if a call failed. */
static uint64_t median_round_trip(uint32_t echo)
{
    static uint64_t t[ROUND_TRIPS];
    for (int i = 0; i < ROUND_TRIPS; i++) {
        uint64_t a = rdtsc();
        if (!echo_once(echo))
            return 0;
        t[i] = rdtsc() - a;
    }
    /* Insertion sort: 512 entries, once. */
    for (int i = 1; i < ROUND_TRIPS; i++)
        for (int j = i; j > 0 && cmp_u64(&t[j - 1], &t[j]) > 0; j--) {
            uint64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[ROUND_TRIPS / 2];
}

int main(void)
{
    timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t console = capos_capset_find("console", Console_INTERFACE_ID, 0);
    if (!timer || !spawner || !console) {
        CHECK(false, "sched-timing: timer, spawner and console granted");
        return failures;
    }

    /* ---- Wake-ups on time ---- */
    check_sleep(1 * MS);
    check_sleep(3 * MS);
    uint64_t t0 = now_ns();
    int64_t n = capos_cap_enter(1, 1000);
    uint64_t d = now_ns() - t0;
    CHECK(n == 0 && d <= 50000, "cap_enter with a 1 us timeout returned after %lu ns", d);

    /* ---- The IPC pair ---- */
    const struct capos_grant con = {"console", Console_INTERFACE_ID, console};
    uint32_t echo;
    uint32_t server =
        test_spawn_serving(spawner, "echo-server", &con, 1, "echo", Echo_INTERFACE_ID, &echo);
    if (!server || !echo) {
        CHECK(false, "sched-timing: echo-server started");
        return failures;
    }
    int rc;
    uint64_t idle = median_round_trip(echo);

    /* ---- The same beside CPU-bound processes ---- */
    const struct capos_grant tg = {"timer", Timer_INTERFACE_ID, timer};
    uint32_t spin[SPINNERS];
    for (int i = 0; i < SPINNERS; i++)
        spin[i] = test_spawn(spawner, "spin-count", &tg, 1, &rc);
    uint64_t loaded = median_round_trip(echo);
    CHECK(idle && loaded && loaded * 10 <= idle * 12,
          "median round trip with %d CPU-bound processes runnable: %lu instructions, %lu "
          "without (at most 1.2x)",
          SPINNERS, loaded, idle);
    /* Keep the pair busy while the spinners run (they stop after 300 ms). */
    uint64_t pair_rounds = ROUND_TRIPS, until = now_ns() + 250 * MS;
    while (now_ns() < until)
        for (int i = 0; i < 64; i++)
            pair_rounds += echo_once(echo);
    int32_t share[SPINNERS], lo = INT32_MAX, hi = 0;
    for (int i = 0; i < SPINNERS; i++) {
        share[i] = spin[i] ? test_wait_exit(spin[i]) : -1;
        lo = share[i] < lo ? share[i] : lo;
        hi = share[i] > hi ? share[i] : hi;
    }
    CHECK(lo > 0 && (int64_t)lo * 10 >= (int64_t)hi * 8,
          "CPU-bound processes beside a busy IPC pair get equal shares: %d and %d thousand "
          "rounds (within 20 %%)",
          share[0], share[1]);
    CHECK(pair_rounds > 2 * ROUND_TRIPS, "the pair made %lu round trips meanwhile", pair_rounds);

    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    Echo_echo_call(&capos_transport, echo, &c, "quit:1", 6, 0);
    CHECK(test_wait_exit(server) == 0, "echo-server ended");
    capos_printf("sched-timing: %d failures\n", failures);
    return failures;
}
