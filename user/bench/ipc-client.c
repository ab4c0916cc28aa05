/*
 * One client of the multi-client IPC benchmark (user/bench/ipc-bench.c):
 * it warms up on the endpoint "svc", CALLs "ctl" to say it is ready and
 * gets back how many round trips to make, makes them (the same empty
 * round trip as ipc-empty), and CALLs "ctl" again with the rdtsc values
 * before the first and after the last, and whether any failed.
 */
#include "capos_rt.h"

#include "bench.h"
#include "capos.capnp.h"

static const uint64_t params[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
static uint8_t results[64] __attribute__((aligned(8)));

int main(void)
{
    uint32_t svc = capos_capset_find("svc", Echo_INTERFACE_ID, 0);
    uint32_t ctl = capos_capset_find("ctl", Echo_INTERFACE_ID, 0);
    if (!svc || !ctl)
        return 1;
    volatile struct capos_ring *r = capos_ring();
    uint64_t failed = 0;
    for (int i = 0; i < 20; i++)
        failed |= !bench_rt(r, svc, params, sizeof(params), results, sizeof(results));
    uint64_t m;
    if (!bench_ctl_call(ctl, 0, 0, &m, 1))
        return 2;
    uint64_t w[3];
    w[0] = rdtsc();
    for (uint64_t i = 0; i < m; i++)
        failed |= !bench_rt(r, svc, params, sizeof(params), results, sizeof(results));
    w[1] = rdtsc();
    w[2] = failed;
    return bench_ctl_call(ctl, w, 3, 0, 0) ? 0 : 3;
}
