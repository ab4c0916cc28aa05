/* What the benchmark programs share (user/bench/benchlib.c). */
#ifndef CAPOS_BENCH_H
#define CAPOS_BENCH_H

#include "capos_rt.h"
#include "capos_spawn.h"

#include "capos.capnp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The time-stamp counter: under QEMU -icount shift=0 it counts executed
 * guest instructions, so differences are exact instruction counts. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* One Echo round trip on svc through a raw SQE (no stub, nothing else in
 * flight on the ring): CALL with params, cap_enter until its CQE, reap it.
 * False if the call failed or the answer was not the server's 16 bytes. */
static inline bool bench_rt(volatile struct capos_ring *r, uint32_t svc, const void *params,
                            uint32_t len, void *results, uint32_t rlen)
{
    uint32_t tail = r->sq_tail;
    r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){
        .opcode = CAPOS_OP_CALL,
        .cap = svc,
        .interface_id = Echo_INTERFACE_ID,
        .params_addr = (uint64_t)params,
        .params_len = len,
        .result_addr = (uint64_t)results,
        .result_len = rlen,
        .user_data = 7,
    };
    __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    capos_cap_enter(1, UINT64_MAX);
    const volatile struct capos_cqe *c = &r->cq[r->cq_head & CAPOS_CQ_MASK];
    bool ok = c->result == 0 && c->result_len == 16;
    __atomic_store_n(&r->cq_head, r->cq_head + 1, __ATOMIC_RELEASE);
    return ok;
}

/* One ring operation, waited for; panics if the ring fails. The CQE's
 * result is the caller's to check. */
struct capos_cqe bench_op(struct capos_sqe sqe);

/* Spawn `binary` with `quota` frames (0: the default 4096) and the grants,
 * exporting one Echo endpoint "svc" if export_svc (its client facet in
 * *client). Returns the ProcessHandle; panics if the spawn fails. */
uint32_t bench_spawn(uint32_t spawner, const char *binary, const struct capos_grant *grants,
                     uint32_t ngrants, uint32_t quota, bool export_svc, uint32_t *client);
/* ProcessHandle.wait, then the handle released. */
void bench_wait_exit(uint32_t handle);
/* A new Echo endpoint from the EndpointFactory: owner side and client facet. */
void bench_endpoint(uint32_t factory, uint32_t *owner, uint32_t *client);
void bench_release(uint32_t cap);

/*
 * The control protocol between a benchmark driver and its helper
 * processes, on an Echo endpoint: a message is a struct of n data words
 * (n <= BENCH_CTL_WORDS), framed as one segment.
 */
#define BENCH_CTL_WORDS 4
/* Client: CALL ctl with `in` (method 0), wait for the answer, its words in
 * out (missing words read as 0). Returns false if the call failed. */
bool bench_ctl_call(uint32_t ctl, const uint64_t *in, uint32_t nin, uint64_t *out, uint32_t nout);
/* Owner: the next call (its words in out, missing ones 0); its call id. */
uint32_t bench_ctl_recv(uint32_t owner, uint64_t *out, uint32_t nout);
/* Owner: answer call_id with n words. */
void bench_ctl_return(uint32_t owner, uint32_t call_id, const uint64_t *words, uint32_t n);

/*
 * CPU-bound neighbours (user/bench/ipc-spinner.c): bench_spinners_start
 * spawns k of them with `quota` frames each and returns once every one is
 * running (each has CALLed its "stop" endpoint); bench_spinners_stop
 * answers them and waits for them to exit.
 */
#define BENCH_MAX_SPINNERS 4
struct bench_spinners {
    int k;
    uint32_t stop_owner, stop_client;
    uint32_t handles[BENCH_MAX_SPINNERS], calls[BENCH_MAX_SPINNERS];
};
void bench_spinners_start(struct bench_spinners *s, uint32_t spawner, uint32_t factory, int k,
                          uint32_t quota);
void bench_spinners_stop(struct bench_spinners *s);

/* A framed message with an n-word struct root in buf (1 + 1 + n words);
 * its length in bytes. */
uint32_t bench_frame(uint64_t *buf, const uint64_t *words, uint32_t n);

/* Timer.now through the stub, ns since boot; panics if it fails. */
uint64_t bench_now(uint32_t timer);
/* Timer.sleep(ns) through the stub; false if it failed. */
bool bench_sleep(uint32_t timer, uint64_t ns);
/* TSC ticks per second, measured against Timer.now across a sleep of
 * about 20 ms (under icount the answer is 10^9 to within the kernel's
 * calibration). */
uint64_t bench_ticks_per_s(uint32_t timer);

/* Sort ascending (heap sort: no allocation, no recursion). */
void bench_sort(uint64_t *a, size_t n);
/* The p-th percentile (0 < p <= 100) of n sorted samples, nearest rank. */
uint64_t bench_percentile(const uint64_t *sorted, size_t n, unsigned p);

/* "bench: NAME VALUE" lines. */
void bench_print(const char *name, uint64_t v);
void bench_print_signed(const char *name, int64_t v);
/* A fixed-point value v / 10^decimals, e.g. 1234 with 2 as 12.34. */
void bench_print_fixed(const char *name, int64_t v, unsigned decimals);
/* A benchmark that could not measure: "bench: NAME failed", and why on a
 * line of its own ("bench-why: NAME why"). */
void bench_print_failed(const char *name, const char *why);

#endif
