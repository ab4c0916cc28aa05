/*
 * lsmp: Linux's SMP scaling in the same QEMU, to set beside capOS's
 * user/bench/smp-bench.c (tools/bench-smp.sh). Static (glibc), booted as
 * /init of an initramfs under multi-threaded TCG with -smp 1 and -smp 2;
 * run.sh divides the two runs' figures. The clock is rdtsc, which under
 * plain TCG follows the host's time. The same work as smp-bench:
 *
 *   smp-cpu4  4 processes, each 200,000 x 500 empty loop steps in user
 *             mode: TSC cycles from the first start to the last end
 *   smp-ipc2  2 pairs of processes, each making 20,000 round trips on a
 *             futex word in shared memory (FUTEX_WAKE / FUTEX_WAIT, the
 *             cheapest blocking round trip between two Linux processes):
 *             cycles from the first start to the last end
 *   smp-wake  a thread waiting in FUTEX_WAIT on the other CPU, woken:
 *             cycles from just before FUTEX_WAKE to the woken thread
 *             running (median of 200; with one CPU, a switch)
 *
 * Prints "LSMP <name> <cycles>" and powers off.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS  4
#define WORK     200000ull
#define PAIRS    2
#define PAIR_RTS 20000
#define WAKES    200

static uint64_t now(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

static long futex(uint32_t *w, int op, uint32_t val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* Shared with the children: each slot's start and end. */
struct span {
    uint64_t start, end;
};
static struct span *spans;
static uint32_t *words; /* one futex word per pair */

static uint64_t span_of(int n)
{
    uint64_t first = UINT64_MAX, last = 0;
    for (int i = 0; i < n; i++) {
        first = spans[i].start < first ? spans[i].start : first;
        last = spans[i].end > last ? spans[i].end : last;
    }
    return last - first;
}

static void cpu_worker(int i)
{
    spans[i].start = now();
    for (uint64_t n = 0; n < WORK; n++)
        for (int k = 0; k < 500; k++)
            __asm__ volatile("" ::: "memory");
    spans[i].end = now();
}

/* The word is 0 when it is the client's turn, 1 for the server's. */
static void pair_side(int pair, uint32_t me)
{
    uint32_t *w = &words[pair * 16]; /* a cache line each */
    if (me == 0)
        spans[pair].start = now();
    for (int i = 0; i < PAIR_RTS; i++) {
        while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != me)
            futex(w, FUTEX_WAIT, 1 - me);
        __atomic_store_n(w, 1 - me, __ATOMIC_RELEASE);
        futex(w, FUTEX_WAKE, 1);
    }
    if (me == 0) {
        while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != 0)
            futex(w, FUTEX_WAIT, 1);
        spans[pair].end = now();
    }
}

static void run_children(int n, void (*body)(int))
{
    pid_t pids[8];
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            body(i);
            _exit(0);
        }
    }
    for (int i = 0; i < n; i++)
        waitpid(pids[i], NULL, 0);
}

static void ipc_child(int i)
{
    pair_side(i / 2, (uint32_t)(i % 2));
}

static uint32_t wake_word;
static uint64_t woke_at;

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof(s), &s);
}

static void *waiter(void *arg)
{
    pin((int)(intptr_t)arg);
    for (int i = 0; i < WAKES; i++) {
        while (__atomic_load_n(&wake_word, __ATOMIC_ACQUIRE) != 1)
            futex(&wake_word, FUTEX_WAIT_PRIVATE, 0);
        woke_at = now();
        __atomic_store_n(&wake_word, 0, __ATOMIC_RELEASE);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t wake_median(void)
{
    int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    static uint64_t lat[WAKES];
    pthread_t t;
    pin(0);
    pthread_create(&t, NULL, waiter, (void *)(intptr_t)(cpus > 1 ? 1 : 0));
    for (int i = 0; i < WAKES; i++) {
        usleep(1000); /* let the waiter sleep in FUTEX_WAIT */
        uint64_t t0 = now();
        __atomic_store_n(&wake_word, 1, __ATOMIC_RELEASE);
        futex(&wake_word, FUTEX_WAKE_PRIVATE, 1);
        while (__atomic_load_n(&wake_word, __ATOMIC_ACQUIRE) != 0)
            sched_yield();
        lat[i] = woke_at - t0;
    }
    pthread_join(t, NULL);
    qsort(lat, WAKES, sizeof(lat[0]), cmp);
    return lat[WAKES / 2];
}

int main(void)
{
    void *shared = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        printf("LSMP failed: mmap\n");
        reboot(RB_POWER_OFF);
    }
    spans = shared;
    words = (uint32_t *)((char *)shared + 4096);
    printf("LSMP cpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    run_children(WORKERS, cpu_worker);
    printf("LSMP smp-cpu4 %llu\n", (unsigned long long)span_of(WORKERS));
    memset(shared, 0, 1 << 16);
    run_children(2 * PAIRS, ipc_child);
    printf("LSMP smp-ipc2 %llu\n", (unsigned long long)span_of(PAIRS));
    printf("LSMP smp-wake %llu\n", (unsigned long long)wake_median());
    fflush(stdout);
    reboot(RB_POWER_OFF);
    return 0;
}
