/*
 * QEMU test program, booted alone (tests/qemu/idle-time.test, also on two
 * CPUs): Timer.cpuTime's idle time (docs/scheduling.md, "Idle time").
 * Across a 30 ms Timer.sleep of this, the only process, idle time grows
 * by at least half the elapsed cycles and at most cpus times them; while
 * it computes, idle time does not grow on its CPU (at most (cpus - 1)
 * times the elapsed cycles). Exits 0 when every check passed.
 */
#include "capos_rt.h"

#include "capos.capnp.h"
#include "testlib.h"

struct cpu_time {
    uint64_t cycles, idle;
    uint32_t cpus;
};

static struct cpu_time cpu_time(uint32_t timer)
{
    uint8_t params[64], results[128];
    struct capnpc_call c;
    Timer_cpuTime_Results_r r;
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    if (Timer_cpuTime_call(&capos_transport, timer, &c, &r) != CAPNPC_OK)
        return (struct cpu_time){0, 0, 0};
    return (struct cpu_time){Timer_cpuTime_Results_get_cycles(r),
                             Timer_cpuTime_Results_get_idleCycles(r),
                             Timer_cpuTime_Results_get_cpus(r)};
}

static uint64_t cycles(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* This process is the only one: while it sleeps every CPU halts; while it
 * computes, the CPU it runs on never does (the others may). A failed call
 * reads as 0 CPUs. */
static void idle_time(uint32_t timer)
{
    uint8_t params[64], results[64];
    struct capnpc_call c;
    struct cpu_time a = cpu_time(timer);
    capnpc_call_init(&c, params, sizeof(params), results, sizeof(results));
    int rc = Timer_sleep_call(&capos_transport, timer, &c, 30000000, 0);
    struct cpu_time b = cpu_time(timer);
    uint64_t dt = b.cycles - a.cycles, di = b.idle - a.idle;
    CHECK(rc == CAPNPC_OK && a.cpus && b.cpus && b.cycles > a.cycles && di >= dt / 2 &&
              di <= b.cpus * dt,
          "Timer.cpuTime: idle grew across Timer.sleep(30 ms): %lu of %lu cycles on %u CPUs", di,
          dt, b.cpus);

    uint64_t spin = dt / 2, t0 = cycles();
    a = cpu_time(timer);
    while (cycles() - t0 < spin)
        ;
    b = cpu_time(timer);
    dt = b.cycles - a.cycles, di = b.idle - a.idle;
    CHECK(a.cpus && b.cpus && b.idle >= a.idle && di <= (b.cpus - 1) * dt,
          "Timer.cpuTime: idle did not grow while computing: %lu cycles idle on %u CPUs in %lu", di,
          b.cpus, dt);
}

int main(void)
{
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    CHECK(timer != 0, "capset: timer found");
    if (!timer)
        return 1;
    idle_time(timer);
    capos_printf("idle-time: %d failures\n", failures);
    return failures;
}
