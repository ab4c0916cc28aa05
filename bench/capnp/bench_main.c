/*
 * `make bench-capnp`: our Cap'n Proto runtime against the official C++
 * library, on the same two messages (bench.capnp): messages per second to
 * build and to read fully. Both implementations are linked into this one
 * program and timed in alternation, so load from other processes affects
 * both alike; each figure is the best of several runs.
 *
 *   bench-capnp                   timing table
 *   bench-capnp count IMPL NAME N run one benchmark N times (c or cpp; for
 *                                 callgrind --toggle-collect=c_loop etc.)
 *   bench-capnp check             the messages are byte-identical, the read
 *                                 checksums equal
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static const char *const names[B_COUNT] = {"build-order", "read-order", "build-call", "read-call"};
static const struct bench_impl *const impls[2] = {&bench_c, &bench_cpp};

/* The framed messages (seed 1) the read benchmarks parse. Word-aligned, as
 * the C++ reader requires. */
static uint64_t msg[2][B_COUNT][256];
static size_t msg_len[2][B_COUNT];
static volatile uint64_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double run(int impl, int which, long n)
{
    double t0 = now();
    sink += impls[impl]->loop(which, n, msg[impl][which], msg_len[impl][which]);
    return now() - t0;
}

/* Iterations for about `secs` of one benchmark. */
static long calibrate(int impl, int which, double secs)
{
    long n = 1000;
    double t;
    while ((t = run(impl, which, n)) < 0.02)
        n *= 4;
    return (long)((double)n * secs / t) + 1;
}

static int check(void)
{
    int ok = 1;
    for (int w = 0; w < B_COUNT; w++) {
        if (msg_len[0][w] == 0 || msg_len[1][w] == 0 || msg_len[0][w] != msg_len[1][w] ||
            memcmp(msg[0][w], msg[1][w], msg_len[0][w]) != 0) {
            fprintf(stderr, "%s: the two implementations built different messages\n", names[w]);
            ok = 0;
        }
        if (w == B_READ_ORDER || w == B_READ_CALL) {
            uint64_t a = bench_c.loop(w, 1, msg[1][w], msg_len[1][w]);
            uint64_t b = bench_cpp.loop(w, 1, msg[0][w], msg_len[0][w]);
            if (a == 0 || a != b) {
                fprintf(stderr, "%s: checksums differ (%llu, %llu)\n", names[w],
                        (unsigned long long)a, (unsigned long long)b);
                ok = 0;
            }
        }
    }
    return ok;
}

int main(int argc, char **argv)
{
    for (int i = 0; i < 2; i++)
        for (int w = 0; w < B_COUNT; w++)
            msg_len[i][w] = impls[i]->frame(w, msg[i][w], sizeof(msg[i][w]));
    if (!check())
        return 1;
    if (argc == 5 && strcmp(argv[1], "count") == 0) {
        int impl = strcmp(argv[2], "cpp") == 0;
        for (int w = 0; w < B_COUNT; w++)
            if (strcmp(argv[3], names[w]) == 0) {
                sink += impls[impl]->loop(w, atol(argv[4]), msg[impl][w], msg_len[impl][w]);
                return 0;
            }
        fprintf(stderr, "unknown benchmark %s\n", argv[3]);
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "check") == 0) {
        printf("messages identical: order %zu bytes, call %zu bytes\n", msg_len[0][B_BUILD_ORDER],
               msg_len[0][B_BUILD_CALL]);
        return 0;
    }
    /* name, then messages per second for ours and C++: the best of 7 runs
     * of about 0.1 s each, the two alternating. */
    for (int w = 0; w < B_COUNT; w++) {
        long n[2];
        double best[2] = {0, 0};
        for (int i = 0; i < 2; i++)
            n[i] = calibrate(i, w, 0.1);
        for (int r = 0; r < 7; r++)
            for (int i = 0; i < 2; i++) {
                double rate = (double)n[i] / run(i, w, n[i]);
                if (rate > best[i])
                    best[i] = rate;
            }
        printf("%s %zu %.0f %.0f\n", names[w], msg_len[0][w], best[0], best[1]);
        fflush(stdout);
    }
    return 0;
}
