/*
 * Thread benchmarks (make bench; docs/threads.md): instructions per
 * operation under QEMU -icount shift=0,sleep=off.
 *
 *   thread-create-join  thrd_create + thrd_join of a thread that returns
 *                       at once (stack, TLS and record from the heap)
 *   park-pingpong       one round trip between two threads through
 *                       ParkSpace: each side wakes the other and waits,
 *                       through the runtime (capos_park_wake/wait stubs)
 *   park-pingpong-batched
 *                       the same with each side's wake and wait as two
 *                       prebuilt CALL SQEs in one cap_enter
 *   park-pingpong-batched-load2, -load2-median
 *                       the same beside two CPU-bound threads of the same
 *                       process: the mean per round trip (set by fair
 *                       shares: the pair shares one slice by handoff) and
 *                       the median round trip (the handoff itself)
 *   mtx-uncontended     mtx_lock + mtx_unlock with nobody else
 *   mtx-uncontended-kernel-entries
 *                       cap_enter calls made during those (must be 0)
 *
 * Run as the only program (a raw ELF boot module gets every kernel source).
 */
#include <threads.h>

#include "bench.h"
#include "capos_threads.h"

#define CREATES 200
#define PINGS   2000
#define LOCKS   10000

static int nothing(void *arg)
{
    return 0;
}

static uint64_t bench_create_join(void)
{
    thrd_t t;
    thrd_create(&t, nothing, 0); /* warm: the heap grows once */
    thrd_join(t, 0);
    uint64_t t0 = rdtsc();
    for (int i = 0; i < CREATES; i++) {
        if (thrd_create(&t, nothing, 0) != thrd_success || thrd_join(t, 0) != thrd_success)
            capos_panic("thread-bench: create/join failed");
    }
    return (rdtsc() - t0) / CREATES;
}

/* The word the two sides pass: 1 when it is B's turn, 0 when A's. */
static uint32_t turn;

static int pong(void *arg)
{
    for (int i = 0; i < PINGS + 1; i++) {
        while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == 0)
            capos_park_wait(&turn, 0, 0);
        __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
        capos_park_wake(&turn, 1);
    }
    return 0;
}

static uint64_t bench_pingpong(void)
{
    thrd_t t;
    turn = 0;
    thrd_create(&t, pong, 0);
    uint64_t t0 = 0;
    for (int i = 0; i < PINGS + 1; i++) {
        if (i == 1)
            t0 = rdtsc(); /* the first round trip starts the other thread */
        __atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
        capos_park_wake(&turn, 1);
        while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == 1)
            capos_park_wait(&turn, 1, 0);
    }
    uint64_t per = (rdtsc() - t0) / PINGS;
    thrd_join(t, 0);
    return per;
}

/* ---- the same, each side's wake and wait in one cap_enter ---- */

/* Hand the turn over (store `give`), wake the other side and wait while
 * the word is still `give`: capos_park_wake_wait, one kernel entry. */
static void pass(uint32_t give)
{
    __atomic_store_n(&turn, give, __ATOMIC_RELEASE);
    /* Woken for nothing: go again (one more wake does no harm). */
    while (capos_park_wake_wait(&turn, 1, &turn, give, 0) != CAPOS_PARK_ERROR &&
           __atomic_load_n(&turn, __ATOMIC_ACQUIRE) == give)
        ;
}

/* B of n hand-overs (arg; 0: PINGS). */
static int pong_batched(void *arg)
{
    int n = arg ? (int)(intptr_t)arg : PINGS;
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == 0)
        capos_park_wait(&turn, 0, 0);
    for (int i = 0; i < n - 1; i++)
        pass(0);
    /* The last hand-back, without waiting for a turn that never comes. */
    __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
    capos_park_wake(&turn, 1);
    return 0;
}

static uint64_t bench_pingpong_batched(void)
{
    thrd_t t;
    turn = 0;
    thrd_create(&t, pong_batched, 0);
    pass(1); /* B starts, hands back */
    uint64_t t0 = rdtsc();
    for (int i = 0; i < PINGS - 1; i++)
        pass(1);
    uint64_t per = (rdtsc() - t0) / (PINGS - 1);
    thrd_join(t, 0);
    return per;
}

/* ---- the same beside CPU-bound threads ---- */

static volatile uint32_t spin_stop;

static int spinner(void *arg)
{
    while (!__atomic_load_n(&spin_stop, __ATOMIC_RELAXED))
        ;
    return 0;
}

/* Long enough for the scheduler's shares to show (the pair's work is
 * several 10 ms slices), unlike a run of PINGS. */
#define LOADED_PINGS 40000
static uint64_t samples[LOADED_PINGS];

/* The k-th smallest of a[0..n) (quickselect; reorders a). */
static uint64_t kth_smallest(uint64_t *a, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        uint64_t pivot = a[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint64_t x = a[i];
                a[i++] = a[j];
                a[j--] = x;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

/* Round trips of the batched ping-pong beside `busy` spinning threads:
 * the mean, and in *median the median of single round trips. */
static uint64_t bench_pingpong_loaded(int busy, uint64_t *median)
{
    thrd_t s[2], t;
    spin_stop = 0;
    for (int i = 0; i < busy; i++)
        thrd_create(&s[i], spinner, 0);
    turn = 0;
    thrd_create(&t, pong_batched, (void *)(intptr_t)(LOADED_PINGS + 1));
    pass(1);
    uint64_t t0 = rdtsc(), prev = t0;
    for (int i = 0; i < LOADED_PINGS; i++) {
        pass(1);
        uint64_t now = rdtsc();
        samples[i] = now - prev;
        prev = now;
    }
    uint64_t mean = (prev - t0) / LOADED_PINGS;
    thrd_join(t, 0);
    spin_stop = 1;
    for (int i = 0; i < busy; i++)
        thrd_join(s[i], 0);
    *median = kth_smallest(samples, LOADED_PINGS, LOADED_PINGS / 2);
    return mean;
}

/* ---- uncontended mutex ---- */

static uint64_t bench_mutex(uint64_t *entries)
{
    mtx_t m;
    mtx_init(&m, mtx_plain);
    volatile struct capos_ring *r = capos_ring();
    uint32_t head0 = r->sq_head;
    uint64_t t0 = rdtsc();
    for (int i = 0; i < LOCKS; i++) {
        mtx_lock(&m);
        mtx_unlock(&m);
    }
    uint64_t per = (rdtsc() - t0) / LOCKS;
    /* Every kernel call goes through this thread's ring: its SQ head
     * moves only when the kernel consumed something. */
    *entries = r->sq_head - head0;
    return per;
}

int main(void)
{
    uint64_t cj = bench_create_join();
    uint64_t pp = bench_pingpong();
    uint64_t ppb = bench_pingpong_batched();
    uint64_t ppl_median = 0;
    uint64_t ppl = bench_pingpong_loaded(2, &ppl_median);
    uint64_t entries = 0;
    uint64_t mx = bench_mutex(&entries);
    capos_printf("bench: thread-create-join %lu\n", cj);
    capos_printf("bench: park-pingpong %lu\n", pp);
    capos_printf("bench: park-pingpong-batched %lu\n", ppb);
    capos_printf("bench: park-pingpong-batched-load2 %lu\n", ppl);
    capos_printf("bench: park-pingpong-batched-load2-median %lu\n", ppl_median);
    capos_printf("bench: mtx-uncontended %lu\n", mx);
    capos_printf("bench: mtx-uncontended-kernel-entries %lu\n", entries);
    return 0;
}
