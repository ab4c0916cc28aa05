/*
 * QEMU test program: the IPC fast path (docs/ipc.md, "Fast path") against
 * the general path. A server thread and the main thread (its client)
 * exchange a fixed script of calls over an endpoint: shapes the fast path
 * takes (small params, one capability copied or moved each way, an
 * exception) and shapes it must decline (large params, a RECV or result
 * buffer across a page boundary, a result buffer too small, bad params, a
 * capability that does not exist, a RETURN that fails). Every completion
 * and every byte either side received goes into a transcript, printed as
 * a digest. tests/qemu/ipc-fast.test runs it on a test kernel as it is;
 * ipc-fast-off.test with `ipcfast=0`, which turns the fast path off: both
 * must print the same digest, and the kernel's count of entries the fast
 * path took tells the two runs apart. Single CPU: which path an entry
 * takes depends on the other thread being blocked, which is exact there.
 */
#include <threads.h>

#include "capos_threads.h"
#include "testlib.h"

#define PAGE 4096

static uint32_t ep_server, ep_client, timer, factory;
static uint8_t params[8192] __attribute__((aligned(8)));
/* Three pages each: room to put a buffer across a page boundary. */
static uint8_t recv_pages[3 * PAGE] __attribute__((aligned(PAGE)));
static uint8_t result_pages[3 * PAGE] __attribute__((aligned(PAGE)));

/* FNV-1a over everything either side saw. The two threads take turns
 * (each waits for the other), so one running digest is never raced. */
static uint64_t digest = 0xcbf29ce484222325ull;

static void note(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        digest = (digest ^ b[i]) * 0x100000001b3ull;
}

static void note_cqe(const struct capos_cqe *c)
{
    /* Not user_data: it is the test's own. */
    note(&c->result, sizeof(c->result));
    note(&c->flags, sizeof(c->flags));
    note(&c->call_id, sizeof(c->call_id));
    note(&c->result_len, sizeof(c->result_len));
    note(&c->cap_count, sizeof(c->cap_count));
}

/* One ring entry, waited for the way a blocking caller waits (one
 * completion, no deadline: the fast path's shape), through the runtime,
 * which keeps the completions of its own releases apart. */
static struct capos_cqe ring_op(struct capos_sqe e)
{
    e.user_data = capos_ring_next_id();
    struct capos_cqe c = {.result = CAPOS_E_INTERNAL};
    if (!capos_ring_submit(&e) || !capos_ring_wait(e.user_data, &c))
        CHECK(false, "ring entry (opcode %u) not completed", e.opcode);
    return c;
}

/* ---- The server thread ---- */

enum { M_ECHO, M_EXCEPTION, M_MOVE_BACK, M_COPY_OWN, M_BAD_RETURN, M_STOP };

static int served;

/* Where RECV number n puts its buffer: every third across a page boundary. */
static uint8_t *recv_buffer(int n)
{
    return n % 3 == 2 ? recv_pages + PAGE - 40 : recv_pages + PAGE;
}

static int server_main(void *arg)
{
    static const uint64_t empty[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
    uint64_t results[32];
    uint8_t *buf = recv_buffer(0);
    struct capos_cqe c = ring_op((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                                    .cap = ep_server,
                                                    .result_addr = (uint64_t)buf,
                                                    .result_len = 2 * PAGE,
                                                    .user_data = 1});
    for (int n = 0;; n++) {
        note_cqe(&c);
        if (c.result < 0) {
            CHECK(false, "RECV %d failed: %d", n, c.result);
            return -1;
        }
        const struct capos_recv_header *h = (const void *)buf;
        const struct capos_cap_record *rec = (const void *)(h + 1);
        note(&h->call_id, sizeof(h->call_id));
        note(&h->method, sizeof(h->method));
        note(&h->cap_count, sizeof(h->cap_count));
        note(&h->interface_id, sizeof(h->interface_id));
        note(&h->params_len, sizeof(h->params_len));
        note(&h->params_offset, sizeof(h->params_offset));
        note(rec, h->cap_count * sizeof(*rec));
        const uint8_t *p = buf + h->params_offset;
        note(p, h->params_len);
        if (c.cap_count != h->cap_count || c.call_id != h->call_id ||
            c.result_len != h->params_offset + h->params_len)
            CHECK(false,
                  "call %d: the RECV's CQE (%u caps, id %u, %u bytes) disagrees with its "
                  "header (%u, %u, %u + %u)",
                  n, c.cap_count, c.call_id, c.result_len, h->cap_count, h->call_id,
                  h->params_offset, h->params_len);
        if (memcmp(p, params, h->params_len) != 0)
            CHECK(false, "call %d: the server got other params than were sent", n);
        served++;
        uint32_t len = h->params_len < sizeof(results) ? h->params_len : sizeof(results);
        memcpy(results, p, len);
        uint8_t *next = recv_buffer(n + 1);
        struct capos_sqe ret = {.opcode = CAPOS_OP_RETURN_RECV,
                                .cap = ep_server,
                                .call_id = h->call_id,
                                .params_addr = (uint64_t)results,
                                .params_len = len,
                                .result_addr = (uint64_t)next,
                                .result_len = 2 * PAGE,
                                .user_data = 1};
        /* Capabilities that came and are not going back are released
         * first, on their own (RELEASE is never the fast path's). */
        for (uint16_t i = h->method == M_MOVE_BACK; i < h->cap_count; i++) {
            struct capos_cqe rc =
                ring_op((struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = rec[i].cap});
            if (rc.result != 0)
                CHECK(false, "call %d: release of capability %u: %d", n, i, rc.result);
        }
        switch (h->method) {
        case M_EXCEPTION:
            ret.flags = CAPOS_SQE_F_EXCEPTION;
            ret.params_addr = (uint64_t)empty;
            ret.params_len = sizeof(empty);
            break;
        case M_MOVE_BACK:
            if (h->cap_count) {
                ret.flags = CAPOS_SQE_F_XFER_INLINE;
                ret.xfer_count = 1;
                ret.xfer_addr = capos_xfer_inline(rec[0].cap, CAPOS_XFER_MOVE);
            }
            break;
        case M_COPY_OWN:
            ret.flags = CAPOS_SQE_F_XFER_INLINE;
            ret.xfer_count = 1;
            ret.xfer_addr = capos_xfer_inline(timer, CAPOS_XFER_COPY);
            break;
        case M_BAD_RETURN: {
            /* A capability the server does not have: the RETURN part
             * fails, the call stays in flight, and no RECV starts. */
            struct capos_sqe bad = ret;
            bad.flags = CAPOS_SQE_F_XFER_INLINE;
            bad.xfer_count = 1;
            bad.xfer_addr = capos_xfer_inline(0x7777, CAPOS_XFER_MOVE);
            struct capos_cqe b = ring_op(bad);
            note_cqe(&b);
            CHECK(b.result < 0 && (b.flags & CAPOS_CQE_F_RETURN_FAILED),
                  "call %d: a RETURN moving a capability the server lacks fails, no RECV (%d)", n,
                  b.result);
            ret.params_len = 8;
            break;
        }
        case M_STOP:
            ret.opcode = CAPOS_OP_RETURN;
            ret.result_addr = 0;
            ret.result_len = 0;
            c = ring_op(ret);
            note_cqe(&c);
            return served;
        }
        /* The answer, then the next RECV into `next`, as one entry: its
         * completion is the next call. An answer the caller's buffer is too
         * small for fails the RETURN part, and no RECV starts: start it. */
        c = ring_op(ret);
        if (c.flags & CAPOS_CQE_F_RETURN_FAILED) {
            note_cqe(&c);
            c = ring_op((struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                           .cap = ep_server,
                                           .result_addr = (uint64_t)next,
                                           .result_len = 2 * PAGE,
                                           .user_data = 1});
        }
        buf = next;
    }
}

/* ---- The client: the script ---- */

struct step {
    uint16_t method;
    uint32_t params_len;
    uint32_t result_len; /* 0: 256 */
    bool result_across;  /* the result buffer across a page boundary */
    bool bad_params;     /* params at an unmapped address */
    uint8_t xfer; /* 0 none, 1 copy the timer, 2 move a fresh copy, 3 a capability that does not
                     exist */
    int32_t want; /* the CQE's result */
};

static const struct step script[] = {
    {M_ECHO, 0, 0, false, false, 0, 0},
    {M_ECHO, 16, 0, false, false, 0, 0},
    {M_ECHO, 8, 0, false, false, 0, 0},
    {M_ECHO, 64, 0, false, false, 0, 0},
    {M_ECHO, 200, 0, false, false, 0, 0},
    {M_ECHO, 700, 0, false, false, 0, 0},
    {M_ECHO, 1000, 0, false, false, 0, 0},
    {M_ECHO, 3000, 0, false, false, 0, 0},
    {M_ECHO, 16, 0, true, false, 0, 0},
    {M_ECHO, 64, 8, false, false, 0, CAPOS_E_RESULT_TOO_SMALL},
    {M_ECHO, 16, 0, false, true, 0, CAPOS_E_BAD_ADDRESS},
    {M_ECHO, 16, 0, false, false, 1, 0},
    {M_ECHO, 16, 0, false, false, 3, CAPOS_E_BAD_CAP},
    {M_MOVE_BACK, 16, 0, false, false, 2, 0},
    {M_MOVE_BACK, 16, 0, false, false, 2, 0},
    {M_MOVE_BACK, 16, 0, true, false, 2, 0},
    {M_COPY_OWN, 16, 0, false, false, 0, 0},
    {M_COPY_OWN, 16, 0, false, false, 0, 0},
    {M_EXCEPTION, 16, 0, false, false, 0, CAPOS_RESULT_EXCEPTION},
    {M_BAD_RETURN, 16, 0, false, false, 0, 0},
    {M_ECHO, 32, 0, false, false, 0, 0},
    {M_ECHO, 48, 0, false, false, 1, 0},
    {M_STOP, 0, 0, false, false, 0, 0},
};
#define STEPS (sizeof(script) / sizeof(script[0]))
/* Each round's server starts its RECV buffers' rotation (every third
 * across a page) afresh: round r makes r plain calls first, so that every
 * step meets the buffer across the page in one of the rounds. */

/* The script ROUNDS times, each with a new endpoint and server thread. */
#define ROUNDS 3

static void client_step(int round, unsigned i, const struct step *s)
{
    uint8_t *res = s->result_across ? result_pages + PAGE - 8 : result_pages + PAGE;
    uint32_t rlen = s->result_len ? s->result_len : 256;
    struct capos_sqe e = {.opcode = CAPOS_OP_CALL,
                          .cap = ep_client,
                          .interface_id = Echo_INTERFACE_ID,
                          .method = s->method,
                          .params_addr = s->bad_params ? 0x1000 : (uint64_t)params,
                          .params_len = s->params_len,
                          .result_addr = (uint64_t)res,
                          .result_len = rlen,
                          .user_data = 2};
    uint32_t moved = 0, moved_owner = 0;
    if (s->xfer == 1) {
        e.flags = CAPOS_SQE_F_XFER_INLINE;
        e.xfer_count = 1;
        e.xfer_addr = capos_xfer_inline(timer, CAPOS_XFER_COPY);
    } else if (s->xfer == 2) {
        /* A capability of its own to move: a fresh endpoint's client. */
        if (!test_create_endpoint(factory, Echo_INTERFACE_ID, &moved_owner, &moved))
            CHECK(false, "round %d step %u: an endpoint to move", round, i);
        e.flags = CAPOS_SQE_F_XFER_INLINE;
        e.xfer_count = 1;
        e.xfer_addr = capos_xfer_inline(moved, CAPOS_XFER_MOVE);
    } else if (s->xfer == 3) {
        e.flags = CAPOS_SQE_F_XFER_INLINE;
        e.xfer_count = 1;
        e.xfer_addr = capos_xfer_inline(0x7777, CAPOS_XFER_MOVE);
    }
    memset(result_pages, 0, sizeof(result_pages));
    struct capos_cqe c = ring_op(e);
    note_cqe(&c);
    if (c.result >= 0)
        note(res, c.result_len);
    const struct capos_cap_record *rec =
        (const void *)(res + CAPOS_CAP_RECORDS_OFFSET(c.result_len));
    if (c.result >= 0 && c.cap_count)
        note(rec, c.cap_count * sizeof(*rec));
    CHECK(c.result == s->want, "round %d step %u (method %u, %u bytes): result %d, expected %d",
          round, i, s->method, s->params_len, c.result, s->want);
    if (c.result == 0 && s->method == M_ECHO) {
        uint32_t len = s->params_len < 256 ? s->params_len : 256;
        CHECK(c.result_len == len && memcmp(res, params, len) == 0,
              "round %d step %u: the params came back as results (%u bytes)", round, i,
              c.result_len);
    }
    if (s->method == M_MOVE_BACK) {
        CHECK(c.result == 0 && c.cap_count == 1 && rec->interface_id == Echo_INTERFACE_ID,
              "round %d step %u: the moved capability came back", round, i);
        if (c.cap_count == 1)
            capos_release(rec->cap);
    }
    if (s->method == M_COPY_OWN) {
        CHECK(c.result == 0 && c.cap_count == 1 && rec->interface_id == Timer_INTERFACE_ID,
              "round %d step %u: the server's capability came with the results", round, i);
        if (c.cap_count == 1)
            capos_release(rec->cap);
    }
    if (s->method == M_EXCEPTION)
        CHECK(c.flags & CAPOS_CQE_F_EXCEPTION, "round %d step %u: the exception is flagged", round,
              i);
    if (s->method == M_BAD_RETURN)
        CHECK(c.result == 0 && c.result_len == 8,
              "round %d step %u: after a failed RETURN, the call is answered once", round, i);
    if (moved && c.result < 0)
        capos_release(moved);
    if (moved_owner)
        capos_release(moved_owner);
    capos_flush_releases();
}

/* A call made by a cap_enter that already has what it waits for: a NOP's
 * completion left in the CQ. The fast path still takes the call, but the
 * caller does not block; the server must run next all the same (as the
 * general path's handoff leaves it), and the answer must come. */
static void call_with_a_completion_waiting(int round)
{
    struct capos_sqe nop = {.opcode = CAPOS_OP_NOP, .user_data = capos_ring_next_id()};
    capos_ring_submit(&nop);
    capos_cap_enter(0, 0); /* the NOP completes; its CQE stays unread */
    struct capos_sqe call = {.opcode = CAPOS_OP_CALL,
                             .cap = ep_client,
                             .interface_id = Echo_INTERFACE_ID,
                             .method = M_ECHO,
                             .params_addr = (uint64_t)params,
                             .params_len = 24,
                             .result_addr = (uint64_t)(result_pages + PAGE),
                             .result_len = 256,
                             .user_data = capos_ring_next_id()};
    capos_ring_submit(&call);
    int64_t ready = capos_cap_enter(1, UINT64_MAX);
    struct capos_cqe c = {.result = CAPOS_E_INTERNAL}, n = {.result = CAPOS_E_INTERNAL};
    bool answered = capos_ring_wait(call.user_data, &c);
    capos_ring_wait(nop.user_data, &n);
    note_cqe(&c);
    note(result_pages + PAGE, c.result_len <= 256 ? c.result_len : 256);
    CHECK(ready == 1 && n.result == 0,
          "round %d: cap_enter(1) with a completion already there returns at once (%ld)", round,
          (long)ready);
    CHECK(answered && c.result == 0 && c.result_len == 24 &&
              memcmp(result_pages + PAGE, params, 24) == 0,
          "round %d: and the call it made is answered (%d, %u bytes)", round, c.result,
          c.result_len);
}

/* ---- ParkSpace.wakeWait: the same two paths (docs/threads.md) ---- */

#define PINGS 300
static volatile uint32_t word_a, word_b; /* A waits while word_a == 0; B while word_b == 0 */

static void note_int(int v)
{
    note(&v, sizeof(v));
}

/* B: wait for its turn, hand it back with one wakeWait, PINGS times. */
static int pong(void *arg)
{
    int r = capos_park_wait(&word_b, 0, 0);
    for (int i = 0;; i++) {
        note_int(r);
        __atomic_store_n(&word_b, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&word_a, 1, __ATOMIC_RELEASE);
        if (i == PINGS - 1)
            return capos_park_wake(&word_a, 1) == 1 ? 0 : 1;
        r = capos_park_wake_wait(&word_a, 1, &word_b, 0, 0);
    }
}

static volatile uint32_t waiter_done;

static int one_wait(void *arg)
{
    int r = capos_park_wait(&word_b, 0, 0);
    __atomic_store_n(&waiter_done, 1, __ATOMIC_RELEASE);
    return r;
}

static void park_rounds(void)
{
    word_a = word_b = 0;
    thrd_t t;
    if (thrd_create(&t, pong, 0) != thrd_success) {
        CHECK(false, "thrd_create (pong)");
        return;
    }
    int woken = 0;
    for (int i = 0; i < PINGS; i++) {
        __atomic_store_n(&word_b, 1, __ATOMIC_RELEASE);
        int r = capos_park_wake_wait(&word_b, 1, &word_a, 0, 0);
        note_int(r);
        woken += r == CAPOS_PARK_WOKEN;
        /* A turn came back: woken, or already there when A parked. */
        if (__atomic_load_n(&word_a, __ATOMIC_ACQUIRE) != 1)
            CHECK(false, "ping %d: the turn did not come back (%d)", i, r);
        __atomic_store_n(&word_a, 0, __ATOMIC_RELEASE);
    }
    int rc = -1;
    thrd_join(t, &rc);
    CHECK(rc == 0, "ping-pong: %d turns each way, %d of them woken; pong ended %d", PINGS, woken,
          rc);

    /* Refused calls wake nobody, with a waiter there for the fast path
     * to find (and decline: each is refused, or its wait cannot park). */
    word_a = word_b = 0;
    if (thrd_create(&t, one_wait, 0) != thrd_success) {
        CHECK(false, "thrd_create (one_wait)");
        return;
    }
    thrd_yield(); /* it runs until it parks on word_b */
    int r1 =
        capos_park_wake_wait(&word_b, 1, (const volatile uint32_t *)((uintptr_t)&word_a + 1), 0, 0);
    int r2 = capos_park_wake_wait(&word_b, 0, &word_a, 0, 1000);
    bool still = !__atomic_load_n(&waiter_done, __ATOMIC_ACQUIRE);
    int r3 = capos_park_wake_wait(&word_b, 1, &word_a, 5, 0);
    thrd_join(t, &rc);
    note_int(r1);
    note_int(r2);
    note_int(r3);
    note_int(rc);
    CHECK(r1 == CAPOS_PARK_ERROR, "wakeWait with a misaligned wait address is refused (%d)", r1);
    CHECK(r2 == CAPOS_PARK_NOT_WOKEN, "wakeWait of 0 waiters, then a 1 us wait: not woken (%d)",
          r2);
    CHECK(still, "neither woke the waiter");
    CHECK(r3 == CAPOS_PARK_NOT_WOKEN && rc == CAPOS_PARK_WOKEN,
          "wakeWait waking one, its own wait value differing: %d, the waiter %d", r3, rc);
}

/* A wakeWait that wakes two of three waiters: the first woken runs next
 * (the fast path answers it quietly), the second is queued, the third
 * stays parked until woken on its own. Each records the order it ran in;
 * the one that runs second hands the turn back to A. */
#define CROWD 3
static volatile uint32_t word_c, crowd_parked, crowd_seq;
static int crowd_order[CROWD], crowd_result[CROWD];

static int crowd_wait(void *arg)
{
    int i = (int)(intptr_t)arg;
    __atomic_fetch_add(&crowd_parked, 1, __ATOMIC_ACQ_REL);
    int r = capos_park_wait(&word_c, 0, 0);
    int seq = (int)__atomic_add_fetch(&crowd_seq, 1, __ATOMIC_ACQ_REL);
    crowd_order[i] = seq;
    crowd_result[i] = r;
    if (seq == 2) {
        __atomic_store_n(&word_a, 1, __ATOMIC_RELEASE);
        capos_park_wake(&word_a, 1);
    }
    return 0;
}

static void park_crowd(void)
{
    word_a = word_c = 0;
    thrd_t t[CROWD];
    for (int i = 0; i < CROWD; i++) {
        if (thrd_create(&t[i], crowd_wait, (void *)(intptr_t)i) != thrd_success) {
            CHECK(false, "thrd_create (crowd %d)", i);
            return;
        }
        /* Each parks in turn, so they park in this order. */
        while (__atomic_load_n(&crowd_parked, __ATOMIC_ACQUIRE) != (uint32_t)i + 1)
            thrd_yield();
        capos_park_wait(&word_a, 0, 1000000); /* 1 ms: time for it to park */
    }
    int r = capos_park_wake_wait(&word_c, 2, &word_a, 0, 0);
    note_int(r);
    int woke_before = (int)__atomic_load_n(&crowd_seq, __ATOMIC_ACQUIRE);
    uint32_t last = capos_park_wake(&word_c, 5);
    for (int i = 0; i < CROWD; i++) {
        thrd_join(t[i], 0);
        note_int(crowd_order[i]);
        note_int(crowd_result[i]);
    }
    note_int(woke_before);
    note_int((int)last);
    CHECK(woke_before == 2 && last == 1,
          "wakeWait(2) of 3 waiters woke %d before A went on, the last wake %u", woke_before, last);
    CHECK(crowd_order[0] == 1 && crowd_order[1] == 2 && crowd_order[2] == 3,
          "the waiters ran in the order they parked: %d %d %d", crowd_order[0], crowd_order[1],
          crowd_order[2]);
    CHECK(r == CAPOS_PARK_WOKEN, "A was woken by the second waiter (%d)", r);
}

int main(void)
{
    factory = capos_capset_need("ipc-fast", "endpoints", EndpointFactory_INTERFACE_ID);
    timer = capos_capset_need("ipc-fast", "timer", Timer_INTERFACE_ID);
    for (size_t i = 0; i < sizeof(params); i++)
        params[i] = (uint8_t)(i * 7 + 3);
    for (int round = 0; round < ROUNDS; round++) {
        if (!test_create_endpoint(factory, Echo_INTERFACE_ID, &ep_server, &ep_client)) {
            CHECK(false, "EndpointFactory.create");
            return failures;
        }
        served = 0;
        thrd_t t;
        if (thrd_create(&t, server_main, 0) != thrd_success) {
            CHECK(false, "thrd_create");
            return failures;
        }
        for (int k = 0; k < round; k++)
            client_step(round, STEPS + k, &script[1]);
        for (unsigned i = 0; i < STEPS; i++) {
            if (i == STEPS - 1) /* before the stop */
                call_with_a_completion_waiting(round);
            client_step(round, i, &script[i]);
        }
        int got = -1;
        thrd_join(t, &got);
        /* Every call but the two refused at CALL time (bad params, a
         * capability that does not exist) reaches the server. */
        int want = (int)STEPS - 2 + round + 1;
        CHECK(got == want, "round %d: the server served %d calls (%d expected)", round, got, want);
        capos_release(ep_server);
        capos_release(ep_client);
        capos_flush_releases();
    }
    capos_printf("ipc-fast: phase endpoint %016lx\n", digest);
    park_rounds();
    capos_printf("ipc-fast: phase park %016lx\n", digest);
    park_crowd();
    capos_printf("ipc-fast: transcript %016lx\n", digest);
    capos_printf("ipc-fast: %d failures\n", failures);
    return failures;
}
