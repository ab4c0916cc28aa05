/*
 * Profiling target (tools/qemu-profile.py): the park ping-pong of
 * thread-bench.c through capos_park_wake_wait, N round trips between the
 * "prof: start" and "prof: end N" markers. Boot it as BOOT_PROGRAM; not
 * run by make bench.
 */
#include <threads.h>

#include "bench.h"
#include "capos_threads.h"

#define N 2000

static uint32_t turn;

static void pass(uint32_t give)
{
    __atomic_store_n(&turn, give, __ATOMIC_RELEASE);
    while (capos_park_wake_wait(&turn, 1, &turn, give, 0) != CAPOS_PARK_ERROR &&
           __atomic_load_n(&turn, __ATOMIC_ACQUIRE) == give)
        ;
}

static int pong(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == 0)
        capos_park_wait(&turn, 0, 0);
    for (int i = 0; i < N + 100 - 1; i++)
        pass(0);
    __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
    capos_park_wake(&turn, 1);
    return 0;
}

int main(void)
{
    thrd_t t;
    thrd_create(&t, pong, 0);
    for (int i = 0; i < 100; i++)
        pass(1);
    capos_printf("prof: start\n");
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    for (int i = 0; i < N; i++)
        pass(1);
    capos_printf("prof: end %d\n", N);
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    thrd_join(t, 0);
    return 0;
}
