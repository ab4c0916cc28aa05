/*
 * Profiling target (tools/qemu-profile.py): empty endpoint round trips to
 * ipc-bench-server between the "prof: start" and "prof: end N" markers.
 * Boot it as init of a manifest with ipc-bench-server (see
 * docs/benchmarks.md, "Profiling"); not run by make bench.
 */
#include "bench.h"

#define N 2000

static const uint64_t empty_msg[2] = {0x0000000100000000ull, 0x00000000fffffffcull};

int main(void)
{
    volatile struct capos_ring *r = capos_ring();
    uint32_t spawner = capos_capset_find("spawner", ProcessSpawner_INTERFACE_ID, 0);
    uint32_t svc = 0;
    uint32_t handle = bench_spawn(spawner, "ipc-bench-server", 0, 0, 0, true, &svc);
    static uint8_t results[64] __attribute__((aligned(8)));
    for (int i = 0; i < 100; i++)
        bench_rt(r, svc, empty_msg, sizeof(empty_msg), results, sizeof(results));
    capos_printf("prof: start\n");
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += !bench_rt(r, svc, empty_msg, sizeof(empty_msg), results, sizeof(results));
    capos_printf("prof: end %d\n", N);
    capos_printf("prof: done\n"); /* the benchmark system does not halt by itself */
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    capos_release(svc);
    capos_flush_releases();
    bench_wait_exit(handle);
    return bad;
}
