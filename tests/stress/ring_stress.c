/*
 * Multi-threaded stress test of the real lib/kcore/ring.c, meant to run under
 * ThreadSanitizer (-fsanitize=thread). Prints TAP.
 *
 * 1. exactly-once: a "user" thread submits OPS entries (NOPs and CALLs,
 *    each with a unique user_data) and reaps their CQEs with ordinary
 *    loads and stores, as a runtime would; a "kernel" thread calls
 *    ring_process in a loop and completes deferred CALLs later. Every
 *    user_data must come back exactly once. The user's plain accesses to
 *    SQ and CQ slots are only race-free if the kernel's acquire/release
 *    pairs are right, so TSan checks the memory ordering too.
 * 2. hostile: the same plus a third thread that scribbles on the indices
 *    and the entries at random moments. Only the kernel's invariants are
 *    checked (the user's results are garbage by then): at most 32 CQEs
 *    outstanding counting reservations, every deferred completion posted,
 *    no crash, no hang, bounded work per call.
 *
 * usage: ring_stress [OPS] (default 1000000)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capos/errors.h>

#include "kcore/ring.h"

#define ACQ(p)        __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define REL(p, v)     __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define RLX(p)        __atomic_load_n((p), __ATOMIC_RELAXED)
#define RLX_SET(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static struct capos_ring ring __attribute__((aligned(4096)));
static struct capos_ring *const R = &ring;
static struct ring_state st;

static uint64_t ops;
static atomic_bool stop;
static atomic_bool hostile;
static atomic_int failures;
static unsigned char *seen; /* per user_data, exactly-once mode */

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        if (atomic_fetch_add(&failures, 1) < 10) {                                                 \
            printf("# ");                                                                          \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* ---- the kernel thread ---- */

struct kernel {
    uint64_t deferred[CAPOS_CQ_ENTRIES]; /* user_data of deferred CALLs, FIFO */
    uint32_t dq_head, dq_n;
    uint64_t calls, posted, deferrals, full_stops, corrupt;
    uint64_t limit; /* stop everything after this many calls (0: no limit) */
};

static enum ring_action handle(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct kernel *k = ctx;
    if (sqe->method % 3 == 0) {
        /* The reservation guarantees a slot; at most 32 can be held. */
        if (k->dq_n == CAPOS_CQ_ENTRIES) {
            FAIL("more than %u deferred completions outstanding", CAPOS_CQ_ENTRIES);
            return RING_POST;
        }
        k->deferred[(k->dq_head + k->dq_n++) % CAPOS_CQ_ENTRIES] = sqe->user_data;
        k->deferrals++;
        return RING_DEFER;
    }
    cqe->result = 77;
    return RING_POST;
}

static bool check_state(void)
{
    if (st.cq_tail - st.cq_head + st.cq_reserved > CAPOS_CQ_ENTRIES) {
        FAIL("kernel state: tail %u head %u reserved %u", st.cq_tail, st.cq_head, st.cq_reserved);
        return false;
    }
    return true;
}

static void complete_deferred(struct kernel *k, uint32_t n)
{
    while (n-- > 0 && k->dq_n > 0) {
        struct capos_cqe e = {.user_data = k->deferred[k->dq_head], .result = 1234};
        if (!ring_post_reserved(R, &st, &e)) {
            FAIL("a reserved completion was refused (reserved %u)", st.cq_reserved);
            return;
        }
        k->dq_head = (k->dq_head + 1) % CAPOS_CQ_ENTRIES;
        k->dq_n--;
    }
}

static void *kernel_thread(void *arg)
{
    struct kernel *k = arg;
    uint64_t seed = 0x1234567;
    while (!atomic_load(&stop) && atomic_load(&failures) == 0) {
        struct ring_counts c = ring_process(R, &st, 16, handle, k);
        k->calls++;
        k->posted += c.posted;
        k->full_stops += (c.events & CAPOS_RING_CQ_FULL) != 0;
        k->corrupt += (c.events & (CAPOS_RING_SQ_CORRUPT | CAPOS_RING_CQ_CORRUPT)) != 0;
        if (c.consumed > 16 || c.consumed != c.posted + c.deferred)
            FAIL("counts: consumed %u posted %u deferred %u", c.consumed, c.posted, c.deferred);
        if (c.events & (CAPOS_RING_SQ_CORRUPT | CAPOS_RING_CQ_CORRUPT) && !atomic_load(&hostile))
            FAIL("corruption reported for a well-behaved producer (events %#x)", c.events);
        check_state();
        /* The answers to deferred calls trickle in. */
        complete_deferred(k, rnd(&seed) % 4);
        check_state();
        if (k->limit && k->calls >= k->limit)
            atomic_store(&stop, true);
        if (c.consumed == 0)
            sched_yield();
    }
    atomic_store(&stop, true); /* a failure ends the other threads too */
    return NULL;
}

/* ---- the user thread ---- */

struct user {
    uint64_t submitted, reaped;
};

/* Write an SQE. Plain stores in the exactly-once run (that is what a
 * runtime does; TSan then checks the kernel's ordering); atomic stores
 * when a scribbler is racing on the same memory on purpose. */
static void put_sqe(uint32_t slot, const struct capos_sqe *e, bool atomic)
{
    if (!atomic) {
        R->sq[slot] = *e;
        return;
    }
    uint64_t w[8];
    memcpy(w, e, sizeof(w));
    uint64_t *dst = (uint64_t *)&R->sq[slot];
    for (int i = 0; i < 8; i++)
        RLX_SET(&dst[i], w[i]);
}

static void get_cqe(uint32_t slot, struct capos_cqe *e, bool atomic)
{
    if (!atomic) {
        *e = R->cq[slot];
        return;
    }
    uint64_t w[4], *src = (uint64_t *)&R->cq[slot];
    for (int i = 0; i < 4; i++)
        w[i] = RLX(&src[i]);
    memcpy(e, w, sizeof(w));
}

static void check_cqe(const struct capos_cqe *e)
{
    uint64_t ud = e->user_data;
    if (ud >= ops) {
        FAIL("CQE with unknown user_data %llu", (unsigned long long)ud);
        return;
    }
    int32_t want = ud % 2 == 0 ? 0 : (ud / 2) % 3 == 0 ? 1234 : 77;
    if (e->result != want)
        FAIL("user_data %llu: result %d, want %d", (unsigned long long)ud, e->result, want);
    if (seen[ud]++)
        FAIL("user_data %llu completed twice", (unsigned long long)ud);
}

static void *user_thread(void *arg)
{
    struct user *u = arg;
    bool evil = atomic_load(&hostile);
    uint32_t tail = 0, head = 0;
    uint64_t seed = 0xfeedbeef, next = 0;
    while (!atomic_load(&stop) && atomic_load(&failures) == 0) {
        bool busy = false;
        /* Acquire: the kernel finished copying the slots it consumed. */
        uint32_t sq_head = ACQ(&R->sq_head);
        if (evil && tail - sq_head > CAPOS_SQ_ENTRIES)
            tail = sq_head; /* resynchronise after someone scribbled */
        uint32_t room = CAPOS_SQ_ENTRIES - (tail - sq_head);
        uint32_t want = (uint32_t)(rnd(&seed) % (CAPOS_SQ_ENTRIES + 1));
        for (uint32_t i = 0; i < room && i < want && (evil || next < ops); i++, next++) {
            /* Even user_data: NOP; odd: a CALL, deferred if method % 3 == 0. */
            struct capos_sqe e = {.opcode = CAPOS_OP_NOP, .user_data = evil ? next % ops : next};
            if (next % 2) {
                e.opcode = CAPOS_OP_CALL;
                e.cap = 1;
                e.interface_id = 0xa000000000000001ull;
                e.method = (uint16_t)((next / 2) % 3);
            }
            put_sqe(tail & CAPOS_SQ_MASK, &e, evil);
            tail++;
            busy = true;
            u->submitted++;
        }
        /* Release: the SQEs above before the new tail. */
        REL(&R->sq_tail, tail);

        /* Reap sometimes only, so that the CQ fills up now and then. */
        if (rnd(&seed) % 4 != 0) {
            uint32_t cq_tail = ACQ(&R->cq_tail); /* the CQEs up to it are written */
            if (evil && cq_tail - head > CAPOS_CQ_ENTRIES)
                head = cq_tail;
            while (head != cq_tail) {
                struct capos_cqe e;
                get_cqe(head & CAPOS_CQ_MASK, &e, evil);
                if (!evil)
                    check_cqe(&e);
                head++;
                u->reaped++;
                busy = true;
            }
            /* Release: our reads of the CQEs before the kernel may reuse them. */
            REL(&R->cq_head, head);
        }
        if (!evil && u->reaped == ops)
            break;
        if (!busy)
            sched_yield();
    }
    return NULL;
}

/* ---- the scribbler (hostile run only) ---- */

static void *scribbler_thread(void *arg)
{
    uint64_t seed = 0xbad5eed, *n = arg;
    uint32_t *words = (uint32_t *)R;
    size_t nwords = sizeof(*R) / 4;
    while (!atomic_load(&stop)) {
        uint64_t x = rnd(&seed);
        switch (x % 4) {
        case 0:
            RLX_SET(&R->sq_tail, (uint32_t)(x >> 32));
            break;
        case 1:
            RLX_SET(&R->cq_head, RLX(&R->cq_head) + (uint32_t)(x >> 40) % 64 - 32);
            break;
        default:
            RLX_SET(&words[(x >> 8) % nwords], (uint32_t)(x >> 32));
            break;
        }
        (*n)++;
        for (int i = 0; i < 20; i++)
            sched_yield();
    }
    return NULL;
}

static int run(int num, bool evil, uint64_t n)
{
    memset(R, 0, sizeof(*R));
    ring_init(R, &st);
    ops = n;
    atomic_store(&stop, false);
    atomic_store(&hostile, evil);
    atomic_store(&failures, 0);
    seen = calloc(ops, 1);

    struct kernel k = {.limit = evil ? n / 4 : 0};
    struct user u = {0};
    uint64_t scribbles = 0;
    pthread_t kt, ut, ht;
    pthread_create(&kt, NULL, kernel_thread, &k);
    pthread_create(&ut, NULL, user_thread, &u);
    if (evil) {
        /* The hostile run lasts a fixed number of kernel calls. */
        pthread_create(&ht, NULL, scribbler_thread, &scribbles);
        pthread_join(ht, NULL);
        pthread_join(ut, NULL);
    } else {
        pthread_join(ut, NULL);
        atomic_store(&stop, true);
    }
    pthread_join(kt, NULL);

    /* Whatever happened, every deferred completion can still be posted. */
    complete_deferred(&k, CAPOS_CQ_ENTRIES);
    if (k.dq_n != 0 || st.cq_reserved != 0)
        FAIL("%u deferred completions left, %u reservations", k.dq_n, st.cq_reserved);
    check_state();

    if (!evil)
        for (uint64_t i = 0; i < ops; i++)
            if (!seen[i]) {
                FAIL("user_data %llu never completed", (unsigned long long)i);
                break;
            }
    free(seen);

    int bad = atomic_load(&failures);
    if (evil)
        printf("%s %d - ring stress, hostile scribbler: %llu kernel calls, %llu scribbles, "
               "%llu corruptions recovered, invariants held\n",
               bad ? "not ok" : "ok", num, (unsigned long long)k.calls,
               (unsigned long long)scribbles, (unsigned long long)k.corrupt);
    else
        printf("%s %d - ring stress: %llu entries each completed exactly once "
               "(%llu deferred, %llu CQ-full stops, %llu kernel calls)\n",
               bad ? "not ok" : "ok", num, (unsigned long long)ops, (unsigned long long)k.deferrals,
               (unsigned long long)k.full_stops, (unsigned long long)k.calls);
    return bad;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("1..2\n");
    int bad = run(1, false, n);
    bad += run(2, true, n);
    return bad != 0;
}
