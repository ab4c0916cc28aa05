/*
 * Host tests for the kernel side of the capability ring (lib/kcore/ring.c).
 * The "process" here is the test itself, writing the page the way a
 * well-behaved runtime would, or scribbling over it like a hostile one.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <capos/errors.h>
#include <capos/layout.h>

#include "kcore/ring.h"
#include "kcore/ring_opdef.h"

#define LIMIT CAPOS_USER_LIMIT
#define UBUF  0x400000ull /* some user address */

/* Exactly the size of the ring, on the heap, so that ASan's redzones
 * catch any access past its end. */
static struct capos_ring *R;
static struct ring_state st;

static void setup(void)
{
    R = aligned_alloc(64, sizeof(struct capos_ring));
    cr_assert(R);
    memset(R, 0, sizeof(*R));
    ring_init(R, &st);
}

static void teardown(void)
{
    free(R);
}

TestSuite(ring, .init = setup, .fini = teardown);

/* Move every index, kernel and user, to x (as if after x operations). */
static void start_at(uint32_t x)
{
    st.sq_head = st.cq_tail = st.cq_head = x;
    R->sq_head = R->sq_tail = R->cq_tail = R->cq_head = x;
}

static struct capos_sqe mk_nop(uint64_t ud)
{
    return (struct capos_sqe){.opcode = CAPOS_OP_NOP, .user_data = ud};
}

static struct capos_sqe mk_call(uint64_t ud)
{
    return (struct capos_sqe){.opcode = CAPOS_OP_CALL,
                              .cap = 3,
                              .interface_id = 0x8badf00d12345678ull,
                              .method = 2,
                              .params_addr = UBUF,
                              .params_len = 64,
                              .result_addr = UBUF + 0x1000,
                              .result_len = 128,
                              .user_data = ud};
}

static struct capos_sqe mk_recv(uint64_t ud)
{
    return (struct capos_sqe){
        .opcode = CAPOS_OP_RECV, .cap = 4, .result_addr = UBUF, .result_len = 256, .user_data = ud};
}

static struct capos_sqe mk_ret(uint64_t ud)
{
    return (struct capos_sqe){.opcode = CAPOS_OP_RETURN,
                              .cap = 0x10001,
                              .call_id = 9,
                              .params_addr = UBUF,
                              .params_len = 16,
                              .xfer_addr = UBUF + 0x100,
                              .xfer_count = 2,
                              .user_data = ud};
}

static struct capos_sqe mk_release(uint64_t ud)
{
    return (struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = 7, .user_data = ud};
}

/* Userspace: queue one SQE (the caller keeps within 16 outstanding). */
static void submit(struct capos_sqe e)
{
    R->sq[R->sq_tail & CAPOS_SQ_MASK] = e;
    R->sq_tail++;
}

/* Userspace: take one CQE if there is one. */
static bool reap(struct capos_cqe *out)
{
    if (R->cq_head == R->cq_tail)
        return false;
    *out = R->cq[R->cq_head & CAPOS_CQ_MASK];
    R->cq_head++;
    return true;
}

/* The kernel-state invariants; page copies match when nobody scribbled. */
static void check_state(bool page_too)
{
    cr_assert_leq(st.cq_tail - st.cq_head + st.cq_reserved, CAPOS_CQ_ENTRIES,
                  "outstanding CQEs: tail %u head %u reserved %u", st.cq_tail, st.cq_head,
                  st.cq_reserved);
    if (page_too) {
        cr_assert_eq(R->sq_head, st.sq_head);
        cr_assert_eq(R->cq_tail, st.cq_tail);
    }
}

/* A handler that records what it saw and answers as told. */
struct hctx {
    int calls;
    enum ring_action action;
    int32_t result;
    struct capos_sqe last;
    const void *last_ptr;
    bool scribble; /* overwrite the page's SQ while handling */
};

static enum ring_action handler(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct hctx *h = ctx;
    h->calls++;
    h->last = *sqe;
    h->last_ptr = sqe;
    if (h->scribble)
        memset((void *)R->sq, 0xa5, sizeof(R->sq));
    cqe->result = h->result;
    cqe->result_len = 7;
    cqe->user_data = 0xdead; /* must not survive: the ring echoes user_data */
    return h->action;
}

static struct ring_counts process(struct hctx *h, uint32_t max)
{
    struct ring_counts c = ring_process(R, &st, max, handler, h);
    check_state(true);
    return c;
}

Test(ring, init_zeroes_header)
{
    memset(R, 0xff, sizeof(*R));
    ring_init(R, &st);
    cr_assert_eq(R->sq_head, 0);
    cr_assert_eq(R->cq_tail, 0);
    cr_assert_eq(R->status, 0);
    cr_assert_eq(R->cq_overflow_count, 0);
    cr_assert_eq(st.sq_head + st.cq_tail + st.cq_head + st.cq_reserved + st.cq_full_count, 0);
}

Test(ring, empty_ring_does_nothing)
{
    struct hctx h = {0};
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.consumed + c.posted + c.left + c.events, 0);
    cr_assert_eq(h.calls, 0);
}

Test(ring, nop_batch)
{
    struct hctx h = {0};
    for (int i = 0; i < 16; i++)
        submit(mk_nop(100 + i));
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.consumed, 16);
    cr_assert_eq(c.posted, 16);
    cr_assert_eq(c.left, 0);
    cr_assert_eq(c.invalid, 0);
    cr_assert_eq(h.calls, 0, "NOP completes in the ring, not in the handler");
    cr_assert_eq(R->sq_head, 16);
    cr_assert_eq(R->cq_tail, 16);
    struct capos_cqe e;
    for (int i = 0; i < 16; i++) {
        cr_assert(reap(&e));
        cr_assert_eq(e.user_data, 100 + i);
        cr_assert_eq(e.result, 0);
        cr_assert_eq(e.flags | e.result_len | e.call_id | e.cap_count | e.reserved0 | e.reserved1,
                     0);
    }
    cr_assert_not(reap(&e));
    cr_assert_eq(R->status, 0);
}

Test(ring, wraparound_at_2_32)
{
    struct hctx h = {0};
    start_at(0xfffffff5u);
    uint64_t next = 0, want = 0;
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < 16; i++)
            submit(mk_nop(next++));
        struct ring_counts c = process(&h, 16);
        cr_assert_eq(c.consumed, 16, "round %d", round);
        struct capos_cqe e;
        while (reap(&e))
            cr_assert_eq(e.user_data, want++);
    }
    cr_assert_eq(want, 128);
    cr_assert_eq(st.sq_head, 0xfffffff5u + 128);
    cr_assert_eq(R->status, 0);
}

Test(ring, sq_tail_far_ahead_is_discarded)
{
    struct hctx h = {0};
    submit(mk_nop(1));
    R->sq_tail = 17; /* 17 queued: impossible */
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.consumed, 0);
    cr_assert_eq(c.posted, 0);
    cr_assert_eq(c.events, CAPOS_RING_SQ_CORRUPT);
    cr_assert_eq(R->status, CAPOS_RING_SQ_CORRUPT);
    cr_assert_eq(R->sq_head, 17, "the SQ reads empty after the reset");
    cr_assert_eq(R->cq_tail, 0);
    /* The process can carry on from there. */
    submit(mk_nop(2));
    c = process(&h, 16);
    cr_assert_eq(c.posted, 1);
    cr_assert_eq(c.events, 0);
    struct capos_cqe e;
    cr_assert(reap(&e));
    cr_assert_eq(e.user_data, 2);
}

Test(ring, sq_tail_huge_and_behind)
{
    struct hctx h = {0};
    /* tail - head, as userspace might set it: too far ahead, or behind. */
    const uint32_t bad[] = {17, 100, 0x80000000u, 0xffffffffu, (uint32_t)-4};
    for (int i = 0; i < 4; i++)
        submit(mk_nop(i));
    process(&h, 16); /* head is 4 */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        R->sq_tail = st.sq_head + bad[i];
        R->status = 0;
        struct ring_counts c = process(&h, 16);
        cr_assert_eq(c.consumed, 0);
        cr_assert_eq(c.events, CAPOS_RING_SQ_CORRUPT, "tail - head = %u", bad[i]);
        cr_assert_eq(R->status, CAPOS_RING_SQ_CORRUPT);
        cr_assert_eq(st.sq_head, R->sq_tail);
    }
}

Test(ring, sq_exactly_full_is_fine)
{
    struct hctx h = {0};
    start_at(0x7ffffff8u);
    for (int i = 0; i < 16; i++)
        submit(mk_nop(i));
    cr_assert_eq(ring_sq_pending(R, &st, &(uint32_t){0}), 16);
    cr_assert_eq(process(&h, 16).consumed, 16);
    cr_assert_eq(R->status, 0);
}

Test(ring, cq_head_corrupt_cases)
{
    struct hctx h = {0};
    struct capos_cqe e;
    for (int i = 0; i < 6; i++)
        submit(mk_nop(i));
    process(&h, 16);
    reap(&e);
    reap(&e); /* head 2, tail 6 */
    uint32_t ev = 0;
    cr_assert_eq(ring_cq_ready(R, &st, &ev), 4);
    cr_assert_eq(ev, 0);

    /* Ahead of the tail. */
    R->cq_head = 7;
    cr_assert_eq(ring_cq_ready(R, &st, &ev), 0);
    cr_assert_eq(ev, CAPOS_RING_CQ_CORRUPT);
    cr_assert_eq(R->cq_tail, 7, "the kernel's tail moves to userspace's head");
    cr_assert_eq(st.cq_head, 7);
    check_state(true);

    /* Behind the last head it accepted (un-consuming). */
    submit(mk_nop(10));
    submit(mk_nop(11));
    process(&h, 16); /* tail 9 */
    reap(&e);        /* head 8 */
    cr_assert_eq(ring_cq_ready(R, &st, &(uint32_t){0}), 1);
    R->cq_head = 6;
    ev = 0;
    cr_assert_eq(ring_cq_ready(R, &st, &ev), 0);
    cr_assert_eq(ev, CAPOS_RING_CQ_CORRUPT);
    check_state(true);

    /* Far behind, and a full-window lie (tail - 32 looks "full" but goes back). */
    R->cq_head = st.cq_tail - 32;
    ev = 0;
    cr_assert_eq(ring_cq_space(R, &st, &ev), 32);
    cr_assert_eq(ev, CAPOS_RING_CQ_CORRUPT);
    check_state(true);

    /* After recovery the ring works normally. */
    R->status = 0;
    submit(mk_nop(99));
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.posted, 1);
    cr_assert_eq(c.events, 0);
    cr_assert(reap(&e));
    cr_assert_eq(e.user_data, 99);
}

Test(ring, cq_full_backpressure)
{
    struct hctx h = {0};
    uint64_t next = 0, want = 0;
    for (int round = 0; round < 2; round++) {
        int n = round == 0 ? 16 : 14;
        for (int i = 0; i < n; i++)
            submit(mk_nop(next++));
        cr_assert_eq(process(&h, 16).posted, (uint32_t)n);
    }
    /* 30 CQEs outstanding: nothing more may be consumed (the last
     * RING_CONTROL_SLOTS are for RELEASE and CANCEL). */
    for (int i = 0; i < 16; i++)
        submit(mk_nop(next++));
    struct capos_cqe before[CAPOS_CQ_ENTRIES];
    memcpy(before, R->cq, sizeof(before));
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.consumed, 0);
    cr_assert_eq(c.left, 16);
    cr_assert_eq(c.events, CAPOS_RING_CQ_FULL);
    cr_assert_eq(R->status, CAPOS_RING_CQ_FULL);
    cr_assert_eq(R->cq_overflow_count, 1);
    cr_assert_eq(memcmp(before, R->cq, sizeof(before)), 0, "no CQE overwritten");
    cr_assert_eq(R->sq_head, 30, "the SQEs stay queued");

    /* Userspace frees 5: exactly 5 more go through. */
    struct capos_cqe e;
    for (int i = 0; i < 5; i++) {
        cr_assert(reap(&e));
        cr_assert_eq(e.user_data, want++);
    }
    c = process(&h, 16);
    cr_assert_eq(c.consumed, 5);
    cr_assert_eq(c.left, 11);
    cr_assert_eq(c.events, CAPOS_RING_CQ_FULL);
    /* Drain and finish: every user_data exactly once, in order. */
    while (want < next) {
        while (reap(&e))
            cr_assert_eq(e.user_data, want++);
        process(&h, 16);
    }
    cr_assert_eq(want, 46);
    cr_assert_eq(st.sq_head, 46);
}

Test(ring, post_cqe_refuses_when_full)
{
    struct capos_cqe e = {.user_data = 1};
    for (int i = 0; i < 32; i++)
        cr_assert(ring_post_cqe(R, &st, &e));
    unsigned char before[sizeof(*R)];
    memcpy(before, R, sizeof(*R));
    cr_assert_not(ring_post_cqe(R, &st, &e));
    cr_assert_eq(memcmp(before, R, sizeof(*R)), 0, "nothing written");
    R->cq_head = 1;
    cr_assert(ring_post_cqe(R, &st, &e));
    cr_assert_eq(R->cq_tail, 33);
    check_state(true);
}

Test(ring, bounded_work_per_call)
{
    struct hctx h = {0};
    for (int i = 0; i < 16; i++)
        submit(mk_nop(i));
    struct ring_counts c = process(&h, 4);
    cr_assert_eq(c.consumed, 4);
    cr_assert_eq(c.left, 12);
    cr_assert_eq(c.events, 0);
    cr_assert_eq(process(&h, 0).consumed, 0);
    cr_assert_eq(process(&h, 100).consumed, 12);
}

Test(ring, handler_gets_a_private_copy)
{
    struct hctx h = {.action = RING_POST, .result = 42, .scribble = true};
    struct capos_sqe s = mk_call(77);
    submit(s);
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.posted, 1);
    cr_assert_eq(h.calls, 1);
    cr_assert_eq(memcmp(&h.last, &s, sizeof(s)), 0);
    const char *p = h.last_ptr;
    cr_assert(p < (const char *)R || p >= (const char *)(R + 1), "SQE handed over in the page");
    struct capos_cqe e;
    cr_assert(reap(&e));
    cr_assert_eq(e.user_data, 77, "user_data echoed whatever the handler did");
    cr_assert_eq(e.result, 42);
    cr_assert_eq(e.result_len, 7);
}

Test(ring, return_may_carry_the_exception_flag)
{
    struct capos_sqe r = mk_ret(1);
    r.flags = CAPOS_SQE_F_EXCEPTION;
    cr_assert_eq(ring_check_sqe(&r), CAPOS_OK);
}

Test(ring, every_valid_opcode_reaches_the_handler)
{
    struct hctx h = {.action = RING_POST};
    struct capos_sqe ok[] = {mk_call(1), mk_recv(2), mk_ret(3), mk_release(4)};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(ring_check_sqe(&ok[i]), CAPOS_OK, "case %zu", i);
        submit(ok[i]);
        struct ring_counts c = process(&h, 16);
        cr_assert_eq(c.posted, 1);
        cr_assert_eq(c.invalid, 0);
        cr_assert_eq(memcmp(&h.last, &ok[i], sizeof(ok[i])), 0);
    }
    cr_assert_eq(h.calls, 4);
}

/* One invalid SQE and the error its CQE must carry. */
struct bad {
    const char *what;
    struct capos_sqe e;
    int32_t err;
};

#define WITH(base, ...)                                                                            \
    ({                                                                                             \
        struct capos_sqe x_ = base;                                                                \
        __VA_ARGS__;                                                                               \
        x_;                                                                                        \
    })

static const uint64_t KPTR = 0xffffffff80100000ull;
static const uint64_t NONCANON = 0x0000900000000000ull;

static void run_bad(const struct bad *b, size_t n)
{
    struct hctx h = {.action = RING_POST};
    for (size_t i = 0; i < n; i++) {
        struct capos_sqe e = b[i].e;
        e.user_data = 0x1000 + i;
        cr_assert_eq(ring_check_sqe(&e), b[i].err, "%s: got %d want %d", b[i].what,
                     ring_check_sqe(&e), b[i].err);
        submit(e);
        struct ring_counts c = process(&h, 16);
        cr_assert_eq(c.posted, 1, "%s", b[i].what);
        cr_assert_eq(c.invalid, 1, "%s", b[i].what);
        struct capos_cqe q;
        cr_assert(reap(&q));
        cr_assert_eq(q.user_data, 0x1000 + i, "%s: user_data echoed", b[i].what);
        cr_assert_eq(q.result, b[i].err, "%s", b[i].what);
        cr_assert_eq(q.flags | q.result_len | q.call_id | q.cap_count, 0);
    }
    cr_assert_eq(h.calls, 0, "an invalid SQE never reaches the handler");
    cr_assert_eq(R->status, 0, "bad entries are not ring corruption");
}

Test(ring, bad_opcodes)
{
    struct bad b[] = {
        {"zeroed SQE", {0}, CAPOS_E_BAD_OPCODE},
        {"opcode CAPOS_OP_COUNT", WITH(mk_nop(0), x_.opcode = CAPOS_OP_COUNT), CAPOS_E_BAD_OPCODE},
        {"opcode 255", WITH(mk_nop(0), x_.opcode = 255), CAPOS_E_BAD_OPCODE},
        {"FINISH", WITH(mk_nop(0), x_.opcode = CAPOS_OP_FINISH), CAPOS_E_RESERVED_OPCODE},
        {"bad opcode wins over bad flags", WITH(mk_nop(0), x_.opcode = 9, x_.flags = 1),
         CAPOS_E_BAD_OPCODE},
    };
    run_bad(b, sizeof(b) / sizeof(b[0]));
}

Test(ring, bad_flags_and_reserved_fields)
{
    struct bad b[] = {
        {"NOP flag 1", WITH(mk_nop(0), x_.flags = 1), CAPOS_E_BAD_FLAGS},
        {"NOP flag 0x80", WITH(mk_nop(0), x_.flags = 0x80), CAPOS_E_BAD_FLAGS},
        {"CALL flags", WITH(mk_call(0), x_.flags = 4), CAPOS_E_BAD_FLAGS},
        {"CALL exception flag", WITH(mk_call(0), x_.flags = CAPOS_SQE_F_EXCEPTION),
         CAPOS_E_BAD_FLAGS},
        {"RECV exception flag", WITH(mk_recv(0), x_.flags = CAPOS_SQE_F_EXCEPTION),
         CAPOS_E_BAD_FLAGS},
        {"RETURN unknown flag", WITH(mk_ret(0), x_.flags = 2), CAPOS_E_BAD_FLAGS},
        {"NOP reserved", WITH(mk_nop(0), x_.reserved = 1), CAPOS_E_BAD_FLAGS},
        {"CALL reserved", WITH(mk_call(0), x_.reserved = 0x8000), CAPOS_E_BAD_FLAGS},
        {"NOP method", WITH(mk_nop(0), x_.method = 1), CAPOS_E_BAD_FLAGS},
        {"NOP cap", WITH(mk_nop(0), x_.cap = 1), CAPOS_E_BAD_FLAGS},
        {"NOP interface", WITH(mk_nop(0), x_.interface_id = 1ull << 63), CAPOS_E_BAD_FLAGS},
        {"NOP params", WITH(mk_nop(0), x_.params_addr = UBUF), CAPOS_E_BAD_FLAGS},
        {"NOP params_len", WITH(mk_nop(0), x_.params_len = 1), CAPOS_E_BAD_FLAGS},
        {"NOP result", WITH(mk_nop(0), x_.result_addr = UBUF), CAPOS_E_BAD_FLAGS},
        {"NOP result_len", WITH(mk_nop(0), x_.result_len = 1), CAPOS_E_BAD_FLAGS},
        {"NOP call_id", WITH(mk_nop(0), x_.call_id = 1), CAPOS_E_BAD_FLAGS},
        {"NOP xfer_count", WITH(mk_nop(0), x_.xfer_count = 1), CAPOS_E_BAD_FLAGS},
        {"NOP xfer_addr", WITH(mk_nop(0), x_.xfer_addr = UBUF), CAPOS_E_BAD_FLAGS},
        {"CALL call_id", WITH(mk_call(0), x_.call_id = 5), CAPOS_E_BAD_FLAGS},
        {"RECV params", WITH(mk_recv(0), x_.params_addr = UBUF, x_.params_len = 8),
         CAPOS_E_BAD_FLAGS},
        {"RECV interface", WITH(mk_recv(0), x_.interface_id = 1), CAPOS_E_BAD_FLAGS},
        {"RECV method", WITH(mk_recv(0), x_.method = 1), CAPOS_E_BAD_FLAGS},
        {"RECV call_id", WITH(mk_recv(0), x_.call_id = 1), CAPOS_E_BAD_FLAGS},
        {"RECV xfer", WITH(mk_recv(0), x_.xfer_count = 1, x_.xfer_addr = UBUF), CAPOS_E_BAD_FLAGS},
        {"RETURN result", WITH(mk_ret(0), x_.result_addr = UBUF), CAPOS_E_BAD_FLAGS},
        {"RETURN result_len", WITH(mk_ret(0), x_.result_len = 8), CAPOS_E_BAD_FLAGS},
        {"RETURN method", WITH(mk_ret(0), x_.method = 1), CAPOS_E_BAD_FLAGS},
        {"RETURN interface", WITH(mk_ret(0), x_.interface_id = 1), CAPOS_E_BAD_FLAGS},
        {"RELEASE params", WITH(mk_release(0), x_.params_len = 1), CAPOS_E_BAD_FLAGS},
        {"RELEASE xfer", WITH(mk_release(0), x_.xfer_addr = UBUF), CAPOS_E_BAD_FLAGS},
        {"RELEASE call_id", WITH(mk_release(0), x_.call_id = 1), CAPOS_E_BAD_FLAGS},
        {"RELEASE result", WITH(mk_release(0), x_.result_addr = UBUF), CAPOS_E_BAD_FLAGS},
        {"flags win over lengths", WITH(mk_call(0), x_.flags = 1, x_.params_len = 1u << 31),
         CAPOS_E_BAD_FLAGS},
    };
    run_bad(b, sizeof(b) / sizeof(b[0]));
}

Test(ring, lengths_over_the_abi_limits)
{
    struct bad b[] = {
        {"CALL params", WITH(mk_call(0), x_.params_len = CAPOS_MAX_PARAMS_LEN + 1),
         CAPOS_E_TOO_LARGE},
        {"CALL params 4G-1", WITH(mk_call(0), x_.params_len = 0xffffffffu), CAPOS_E_TOO_LARGE},
        {"CALL result", WITH(mk_call(0), x_.result_len = CAPOS_MAX_RESULT_LEN + 1),
         CAPOS_E_TOO_LARGE},
        {"CALL xfer", WITH(mk_call(0), x_.xfer_count = CAPOS_MAX_XFER + 1, x_.xfer_addr = UBUF),
         CAPOS_E_TOO_LARGE},
        {"CALL xfer 65535", WITH(mk_call(0), x_.xfer_count = 0xffff, x_.xfer_addr = UBUF),
         CAPOS_E_TOO_LARGE},
        {"RECV result", WITH(mk_recv(0), x_.result_len = CAPOS_MAX_RESULT_LEN + 1),
         CAPOS_E_TOO_LARGE},
        {"RETURN params", WITH(mk_ret(0), x_.params_len = CAPOS_MAX_PARAMS_LEN + 1),
         CAPOS_E_TOO_LARGE},
        {"RETURN xfer", WITH(mk_ret(0), x_.xfer_count = CAPOS_MAX_XFER + 1), CAPOS_E_TOO_LARGE},
        {"length wins over address",
         WITH(mk_call(0), x_.params_len = 1u << 20, x_.params_addr = KPTR), CAPOS_E_TOO_LARGE},
    };
    run_bad(b, sizeof(b) / sizeof(b[0]));
    struct capos_sqe max =
        WITH(mk_call(0), x_.params_len = CAPOS_MAX_PARAMS_LEN, x_.result_len = CAPOS_MAX_RESULT_LEN,
             x_.xfer_count = CAPOS_MAX_XFER, x_.xfer_addr = UBUF);
    cr_assert_eq(ring_check_sqe(&max), CAPOS_OK, "exactly at the limits");
}

Test(ring, bad_user_addresses)
{
    struct bad b[] = {
        {"params NULL", WITH(mk_call(0), x_.params_addr = 0), CAPOS_E_BAD_ADDRESS},
        {"params kernel", WITH(mk_call(0), x_.params_addr = KPTR), CAPOS_E_BAD_ADDRESS},
        {"params non-canonical", WITH(mk_call(0), x_.params_addr = NONCANON), CAPOS_E_BAD_ADDRESS},
        {"params at the limit", WITH(mk_call(0), x_.params_addr = LIMIT), CAPOS_E_BAD_ADDRESS},
        {"params crossing the limit",
         WITH(mk_call(0), x_.params_addr = LIMIT - 8, x_.params_len = 9), CAPOS_E_BAD_ADDRESS},
        {"params wraps",
         WITH(mk_call(0), x_.params_addr = 0xfffffffffffffff0ull, x_.params_len = 32),
         CAPOS_E_BAD_ADDRESS},
        {"params 2^63", WITH(mk_call(0), x_.params_addr = 1ull << 63), CAPOS_E_BAD_ADDRESS},
        {"result NULL", WITH(mk_call(0), x_.result_addr = 0), CAPOS_E_BAD_ADDRESS},
        {"result kernel", WITH(mk_call(0), x_.result_addr = KPTR), CAPOS_E_BAD_ADDRESS},
        {"result wraps", WITH(mk_call(0), x_.result_addr = ~0ull, x_.result_len = 2),
         CAPOS_E_BAD_ADDRESS},
        {"result non-canonical", WITH(mk_call(0), x_.result_addr = NONCANON), CAPOS_E_BAD_ADDRESS},
        {"xfer NULL", WITH(mk_call(0), x_.xfer_count = 1), CAPOS_E_BAD_ADDRESS},
        {"xfer kernel", WITH(mk_call(0), x_.xfer_count = 1, x_.xfer_addr = KPTR),
         CAPOS_E_BAD_ADDRESS},
        {"xfer crossing", WITH(mk_call(0), x_.xfer_count = 2, x_.xfer_addr = LIMIT - 8),
         CAPOS_E_BAD_ADDRESS},
        {"RECV result kernel", WITH(mk_recv(0), x_.result_addr = KPTR), CAPOS_E_BAD_ADDRESS},
        {"RECV result NULL", WITH(mk_recv(0), x_.result_addr = 0), CAPOS_E_BAD_ADDRESS},
        {"RETURN params kernel", WITH(mk_ret(0), x_.params_addr = KPTR), CAPOS_E_BAD_ADDRESS},
        {"RETURN xfer NULL", WITH(mk_ret(0), x_.xfer_addr = 0), CAPOS_E_BAD_ADDRESS},
        {"empty buffer, kernel pointer", WITH(mk_call(0), x_.params_addr = KPTR, x_.params_len = 0),
         CAPOS_E_BAD_ADDRESS},
        {"address wins over interface",
         WITH(mk_call(0), x_.params_addr = KPTR, x_.interface_id = 0), CAPOS_E_BAD_ADDRESS},
    };
    run_bad(b, sizeof(b) / sizeof(b[0]));
    struct capos_sqe edge[] = {
        WITH(mk_call(0), x_.params_addr = LIMIT - 64, x_.params_len = 64), /* ends at the limit */
        WITH(mk_call(0), x_.params_addr = 0, x_.params_len = 0),           /* no params */
        WITH(mk_call(0), x_.result_addr = LIMIT, x_.result_len = 0),       /* empty at the end */
        WITH(mk_call(0), x_.xfer_count = 2, x_.xfer_addr = LIMIT - 16),    /* xfer to the end */
        WITH(mk_recv(0), x_.result_addr = CAPOS_USER_RING_ADDR,
             x_.result_len = 64), /* any user page */
    };
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        cr_assert_eq(ring_check_sqe(&edge[i]), CAPOS_OK, "edge case %zu", i);
}

Test(ring, missing_required_fields)
{
    struct bad b[] = {
        {"CALL interface 0", WITH(mk_call(0), x_.interface_id = 0), CAPOS_E_WRONG_INTERFACE},
        {"RETURN call_id 0", WITH(mk_ret(0), x_.call_id = 0), CAPOS_E_BAD_CALL_ID},
    };
    run_bad(b, sizeof(b) / sizeof(b[0]));
}

/* ---- The opcode table (lib/kcore/ring_opdef.c) ---- */

Test(ring, opdef_table_has_a_row_per_opcode)
{
    cr_assert_null(ring_opdefs[0].name, "opcode 0 is invalid, so a zeroed SQE is an error");
    cr_assert_null(ring_opdef(0));
    cr_assert_null(ring_opdef(CAPOS_OP_COUNT));
    cr_assert_null(ring_opdef(255));
    for (unsigned op = 1; op < CAPOS_OP_COUNT; op++) {
        const struct ring_opdef *d = &ring_opdefs[op];
        /* A row left out of the table is all zero: no name. */
        cr_assert(d->name && d->name[0], "opcode %u has a row with a name", op);
        cr_assert_eq(ring_opdef((uint8_t)op), d);
        for (unsigned other = 1; other < op; other++)
            cr_assert_str_neq(d->name, ring_opdefs[other].name, "names are unique");
        cr_assert_eq(d->valid, !d->reserved, "%s: the row macro makes every row but reserved ones",
                     d->name);
        cr_assert_eq(d->uses & ~RING_F_ALL, 0, "%s: known fields", d->name);
        cr_assert_eq(d->required & ~(d->uses & RING_F_REQUIRABLE), 0,
                     "%s: only fields it uses, and only those with an error of their own", d->name);
        cr_assert_eq(d->sqe_flags & ~CAPOS_SQE_F_VALID_MASK, 0, "%s: known flags", d->name);
    }
    /* ring_process completes a NOP without looking at the table; that is
     * only right while NOP takes no field and no flag. */
    const struct ring_opdef *nop = &ring_opdefs[CAPOS_OP_NOP];
    cr_assert(nop->valid && nop->uses == 0 && nop->sqe_flags == 0 && nop->required == 0);
    /* Nor does it look at the table for a RELEASE with nothing but cap set:
     * right while RELEASE takes cap alone, no flag, and requires nothing
     * that 0 would fail (opdef_rows_decide_fields_and_flags then checks
     * every other byte and flag through ring_process). */
    const struct ring_opdef *rel = &ring_opdefs[CAPOS_OP_RELEASE];
    cr_assert(rel->valid && rel->uses == RING_F_CAP && rel->sqe_flags == 0 && rel->required == 0);
}

/* Fields an opcode may leave unused, as bytes of the SQE. */
static const struct {
    const char *name;
    size_t off, size;
    uint32_t bit; /* RING_F_*; 0: no opcode uses it */
} sqe_fields[] = {
#define FIELD(f, bit)                                                                              \
    {                                                                                              \
#f, offsetof(struct capos_sqe, f), sizeof(((struct capos_sqe *)0)->f), bit                 \
    }
    FIELD(method, RING_F_METHOD),          FIELD(cap, RING_F_CAP),
    FIELD(interface_id, RING_F_INTERFACE), FIELD(params_addr, RING_F_PARAMS),
    FIELD(params_len, RING_F_PARAMS),      FIELD(result_len, RING_F_RESULT),
    FIELD(result_addr, RING_F_RESULT),     FIELD(call_id, RING_F_CALL_ID),
    FIELD(xfer_count, RING_F_XFER),        FIELD(reserved, 0),
    FIELD(xfer_addr, RING_F_XFER),
#undef FIELD
};

/* A valid SQE made from an opcode's row alone: acceptable values in the
 * fields it uses, 0 elsewhere. */
static struct capos_sqe mk_from_row(uint8_t op)
{
    const struct ring_opdef *d = &ring_opdefs[op];
    struct capos_sqe e = {.opcode = op};
    if (d->uses & RING_F_METHOD)
        e.method = 1;
    if (d->uses & RING_F_CAP)
        e.cap = 0x10001;
    if (d->uses & RING_F_INTERFACE)
        e.interface_id = 0x8badf00d12345678ull;
    if (d->uses & RING_F_PARAMS)
        e.params_addr = UBUF, e.params_len = 16;
    if (d->uses & RING_F_RESULT)
        e.result_addr = UBUF + 0x1000, e.result_len = 64;
    if (d->uses & RING_F_CALL_ID)
        e.call_id = 1;
    if (d->uses & RING_F_XFER)
        e.xfer_addr = UBUF + 0x2000, e.xfer_count = 1;
    return e;
}

/* The result ring_process gives e (the fast path), which must be what
 * ring_check_sqe (the rules in order) says. */
static int32_t process_one(struct capos_sqe e)
{
    struct hctx h = {.action = RING_POST};
    submit(e);
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.posted, 1);
    struct capos_cqe q;
    cr_assert(reap(&q));
    cr_assert_eq(q.result, ring_check_sqe(&e), "opcode %u: ring_process and ring_check_sqe agree",
                 e.opcode);
    cr_assert_eq(h.calls, q.result == 0 && e.opcode != CAPOS_OP_NOP);
    return q.result;
}

Test(ring, opdef_rows_decide_fields_and_flags)
{
    for (unsigned op = 1; op < CAPOS_OP_COUNT; op++) {
        const struct ring_opdef *d = &ring_opdefs[op];
        struct capos_sqe ok = mk_from_row((uint8_t)op);
        if (d->reserved) {
            cr_assert_eq(process_one(ok), CAPOS_E_RESERVED_OPCODE, "%s", d->name);
            continue;
        }
        cr_assert_eq(process_one(ok), CAPOS_OK, "%s with the fields it uses", d->name);
        for (size_t f = 0; f < sizeof(sqe_fields) / sizeof(sqe_fields[0]); f++) {
            if (d->uses & sqe_fields[f].bit)
                continue;
            for (size_t byte = 0; byte < sqe_fields[f].size; byte++) {
                struct capos_sqe e = ok;
                ((unsigned char *)&e)[sqe_fields[f].off + byte] = 0x80;
                cr_assert_eq(process_one(e), CAPOS_E_BAD_FLAGS, "%s: %s byte %zu not 0", d->name,
                             sqe_fields[f].name, byte);
            }
        }
        for (unsigned bit = 0; bit < 8; bit++) {
            struct capos_sqe e = WITH(ok, x_.flags = (uint8_t)(1u << bit));
            cr_assert_eq(process_one(e), d->sqe_flags & (1u << bit) ? CAPOS_OK : CAPOS_E_BAD_FLAGS,
                         "%s: flag bit %u", d->name, bit);
        }
        if (d->required & RING_F_INTERFACE)
            cr_assert_eq(process_one(WITH(ok, x_.interface_id = 0)), CAPOS_E_WRONG_INTERFACE);
        if (d->required & RING_F_CALL_ID)
            cr_assert_eq(process_one(WITH(ok, x_.call_id = 0)), CAPOS_E_BAD_CALL_ID);
    }
}

/* CAPOS_SQE_F_XFER_INLINE: one descriptor in xfer_addr itself, on CALL and
 * RETURN only, with xfer_count exactly 1; the word is never taken for an
 * address. The fast path (process_one) must agree with the rules. */
Test(ring, inline_transfer_descriptor)
{
    const uint64_t words[] = {capos_xfer_inline(5, CAPOS_XFER_MOVE),
                              capos_xfer_inline(0xffffffffu, CAPOS_XFER_COPY), 0,
                              0xffff800000000000ull, ~0ull};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        struct capos_sqe c = mk_from_row(CAPOS_OP_CALL);
        c.flags = CAPOS_SQE_F_XFER_INLINE;
        c.xfer_addr = words[i];
        cr_assert_eq(ring_check_sqe(&c), CAPOS_OK, "CALL, inline word %#lx",
                     (unsigned long)words[i]);
        cr_assert_eq(process_one(c), CAPOS_OK, "CALL, inline word %#lx (fast path)",
                     (unsigned long)words[i]);
        struct capos_sqe r = mk_from_row(CAPOS_OP_RETURN);
        r.flags = CAPOS_SQE_F_XFER_INLINE | CAPOS_SQE_F_EXCEPTION;
        r.xfer_addr = words[i];
        cr_assert_eq(process_one(r), CAPOS_OK, "RETURN, inline word %#lx", (unsigned long)words[i]);
    }
    /* Without the flag the same words are addresses: 0 with a count, and
     * kernel or non-canonical ones, are refused. */
    struct capos_sqe plain = WITH(mk_from_row(CAPOS_OP_CALL), x_.xfer_addr = 0xffff800000000000ull);
    cr_assert_eq(process_one(plain), CAPOS_E_BAD_ADDRESS);
    const uint16_t counts[] = {0, 2, 16, 17, 0xffff};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct capos_sqe c = mk_from_row(CAPOS_OP_CALL);
        c.flags = CAPOS_SQE_F_XFER_INLINE;
        c.xfer_count = counts[i];
        c.xfer_addr = capos_xfer_inline(5, CAPOS_XFER_COPY);
        cr_assert_eq(process_one(c), CAPOS_E_BAD_FLAGS, "inline with xfer_count %u",
                     (unsigned)counts[i]);
    }
    const uint8_t others[] = {CAPOS_OP_NOP, CAPOS_OP_RECV, CAPOS_OP_RELEASE, CAPOS_OP_CANCEL};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        struct capos_sqe e = mk_from_row(others[i]);
        e.flags = CAPOS_SQE_F_XFER_INLINE;
        cr_assert_eq(process_one(e), CAPOS_E_BAD_FLAGS, "%s refuses the inline flag",
                     ring_opdefs[others[i]].name);
    }
}

Test(ring, invalid_entries_mixed_with_valid_ones)
{
    struct hctx h = {.action = RING_POST};
    submit(mk_nop(1));
    submit(WITH(mk_nop(2), x_.flags = 1));
    submit(mk_call(3));
    submit((struct capos_sqe){.user_data = 4});
    submit(mk_nop(5));
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.posted, 5);
    cr_assert_eq(c.invalid, 2);
    const int32_t want[] = {0, CAPOS_E_BAD_FLAGS, 0, CAPOS_E_BAD_OPCODE, 0};
    struct capos_cqe e;
    for (int i = 0; i < 5; i++) {
        cr_assert(reap(&e));
        cr_assert_eq(e.user_data, (uint64_t)i + 1);
        cr_assert_eq(e.result, want[i], "entry %d", i);
    }
}

Test(ring, stop_leaves_the_entry_queued)
{
    struct hctx h = {.action = RING_STOP};
    submit(mk_nop(1));
    submit(mk_call(2));
    submit(mk_nop(3));
    struct ring_counts c = process(&h, 16);
    cr_assert_eq(c.consumed, 1);
    cr_assert_eq(c.posted, 1);
    cr_assert_eq(c.left, 2);
    cr_assert_eq(c.events, 0);
    cr_assert_eq(R->sq_head, 1);
    h.action = RING_POST;
    c = process(&h, 16);
    cr_assert_eq(c.consumed, 2);
    cr_assert_eq(h.calls, 2, "the CALL is handed over again");
    cr_assert_eq(h.last.user_data, 2);
}

/* A handler that posts a completion of its own (say, a RECV of this same
 * process that the CALL satisfied) before answering. */
static enum ring_action post_extra(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct capos_cqe extra = {.user_data = 0xe000 + sqe->user_data};
    *(int *)ctx += ring_post_cqe(R, &st, &extra);
    return RING_POST;
}

Test(ring, handler_posting_its_own_cqe_is_counted)
{
    int extra = 0;
    for (int i = 0; i < 16; i++)
        submit(mk_call(i));
    /* Each CALL takes 2 slots; the 16th finds only the 2 control slots. */
    struct ring_counts c = ring_process(R, &st, 16, post_extra, &extra);
    cr_assert_eq(c.posted + extra, 30);
    cr_assert_eq(c.consumed, 15);
    for (int i = 0; i < 15; i++)
        submit(mk_call(100 + i));
    struct capos_cqe before[CAPOS_CQ_ENTRIES];
    memcpy(before, R->cq, sizeof(before));
    c = ring_process(R, &st, 16, post_extra, &extra);
    cr_assert_eq(c.consumed, 0);
    cr_assert_eq(c.events, CAPOS_RING_CQ_FULL);
    cr_assert_eq(memcmp(before, R->cq, sizeof(before)), 0, "no CQE overwritten");
    check_state(true);
    /* With 5 slots free (3 reaped, 2 kept for control opcodes): the first
     * CALL posts 2, the second too (a handler's own extra completion may
     * use a control slot), the third must wait. */
    struct capos_cqe e;
    for (int i = 0; i < 3; i++)
        reap(&e);
    c = ring_process(R, &st, 16, post_extra, &extra);
    cr_assert_eq(c.consumed, 2);
    cr_assert_eq(extra, 17);
    cr_assert_eq(st.cq_tail - st.cq_head, 31);
    check_state(true);
}

static enum ring_action defer_calls(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    return sqe->opcode == CAPOS_OP_CALL ? RING_DEFER : RING_POST;
}

static struct ring_counts process_defer(uint32_t max)
{
    struct ring_counts c = ring_process(R, &st, max, defer_calls, NULL);
    check_state(true);
    return c;
}

Test(ring, deferred_completions_never_find_the_cq_full)
{
    /* 20 deferred calls, then NOPs until the CQ is full counting them. */
    for (int i = 0; i < 16; i++)
        submit(mk_call(i));
    struct ring_counts c = process_defer(16);
    cr_assert_eq(c.deferred, 16);
    cr_assert_eq(c.posted, 0);
    cr_assert_eq(c.consumed, 16);
    for (int i = 16; i < 20; i++)
        submit(mk_call(i));
    for (int i = 0; i < 10; i++)
        submit(mk_nop(100 + i));
    c = process_defer(16);
    cr_assert_eq(c.deferred, 4);
    cr_assert_eq(c.posted, 10);
    cr_assert_eq(st.cq_reserved, 20);
    /* 10 posted + 20 reserved = 30: a NOP must wait. */
    submit(mk_nop(200));
    c = process_defer(16);
    cr_assert_eq(c.consumed, 0);
    cr_assert_eq(c.events, CAPOS_RING_CQ_FULL);
    /* Userspace reaps nothing, yet all 20 completions get their slots. */
    for (int i = 0; i < 20; i++) {
        struct capos_cqe e = {.user_data = i, .result = 1};
        cr_assert(ring_post_reserved(R, &st, &e), "deferred completion %d", i);
        check_state(true);
    }
    cr_assert_eq(st.cq_reserved, 0);
    cr_assert_eq(st.cq_tail - st.cq_head, 30);
    struct capos_cqe extra = {0};
    cr_assert_not(ring_post_reserved(R, &st, &extra), "no reservation left");
    /* A completion posted without a reservation may use the two slots kept
     * from new SQEs, and then no more. */
    cr_assert(ring_post_cqe(R, &st, &extra));
    cr_assert(ring_post_cqe(R, &st, &extra));
    cr_assert_not(ring_post_cqe(R, &st, &extra));
    /* Everything comes out, nothing lost. */
    struct capos_cqe e;
    int n = 0;
    while (reap(&e))
        n++;
    cr_assert_eq(n, 32);
    c = process_defer(16);
    cr_assert_eq(c.posted, 1);
}

Test(ring, reservation_survives_a_hostile_cq_head)
{
    for (int i = 0; i < 5; i++)
        submit(mk_call(i));
    process_defer(16);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 16; i++)
            submit(mk_nop(i));
        process_defer(16);
    }
    /* 25 posted (5 deferred + 32 attempted: only 25 fit below the
     * control slots), 5 reserved. */
    cr_assert_eq(st.cq_tail - st.cq_head, 25);
    cr_assert_eq(st.cq_reserved, 5);
    /* Moving cq_head back would make 32 "used" if trusted. */
    R->cq_head -= 5;
    for (int i = 0; i < 5; i++) {
        struct capos_cqe e = {.user_data = 1000 + i};
        cr_assert(ring_post_reserved(R, &st, &e));
        check_state(true);
    }
    /* Posting into reservations never reads the head; the next look at
     * it (cap_enter's count) finds the corruption. */
    uint32_t ev = 0;
    ring_cq_ready(R, &st, &ev);
    cr_assert(R->status & CAPOS_RING_CQ_CORRUPT);
}

static struct capos_sqe mk_control(uint8_t op, uint64_t user_data)
{
    struct capos_sqe e = {.opcode = op, .user_data = user_data};
    if (op == CAPOS_OP_RELEASE)
        e.cap = 0x10001;
    else
        e.target_user_data = 7;
    return e;
}

Test(ring, control_opcodes_take_the_last_slots)
{
    /* A CQ full of pending calls (30: all but the control slots). */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 15; i++)
            submit(mk_call(i));
        process_defer(16);
    }
    cr_assert_eq(st.cq_reserved, 30);
    /* RELEASE and CANCEL still go through (a CALL would wait: see
     * deferred_completions_never_find_the_cq_full). */
    struct ring_counts c;
    submit(mk_control(CAPOS_OP_RELEASE, 1));
    submit(mk_control(CAPOS_OP_CANCEL, 2));
    submit(mk_control(CAPOS_OP_RELEASE, 3));
    c = process_defer(16);
    cr_assert_eq(c.consumed, 2, "two control opcodes take the two kept slots");
    cr_assert_eq(c.posted, 2);
    cr_assert_eq(c.left, 1);
    cr_assert_eq(c.events, CAPOS_RING_CQ_FULL);
    cr_assert_eq(st.cq_tail - st.cq_head + st.cq_reserved, CAPOS_CQ_ENTRIES);
    /* The row says which opcodes are control ones. */
    for (unsigned op = 1; op < CAPOS_OP_COUNT; op++)
        cr_assert_eq(ring_opdefs[op].control, op == CAPOS_OP_RELEASE || op == CAPOS_OP_CANCEL, "%s",
                     ring_opdefs[op].name);
}

Test(ring, cancel_reservation)
{
    submit(mk_call(1));
    process_defer(16);
    cr_assert_eq(st.cq_reserved, 1);
    ring_cancel_reserved(&st);
    cr_assert_eq(st.cq_reserved, 0);
    ring_cancel_reserved(&st);
    cr_assert_eq(st.cq_reserved, 0, "never below zero");
}

Test(ring, fetch_masks_the_index)
{
    R->sq[15] = mk_nop(15);
    R->sq[0] = mk_nop(16);
    struct capos_sqe s;
    ring_fetch_sqe(R, 0xffffffffu, &s);
    cr_assert_eq(s.user_data, 15);
    ring_fetch_sqe(R, 16, &s);
    cr_assert_eq(s.user_data, 16);
}

/* xorshift64*: reproducible randomness. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

/* A random SQE near the valid ones: a valid template with a few fields
 * disturbed, so that every check gets exercised. */
static struct capos_sqe random_sqe(void)
{
    struct capos_sqe e;
    switch (rnd() % 7) {
    case 0:
        e = mk_call(rnd());
        break;
    case 4:
        e = mk_ret(rnd());
        e.opcode = CAPOS_OP_RETURN_RECV;
        e.result_addr = UBUF + 0x2000;
        e.result_len = 512;
        break;
    case 1:
        e = mk_recv(rnd());
        break;
    case 2:
        e = mk_ret(rnd());
        break;
    case 3:
        e = mk_release(rnd());
        break;
    default:
        e = mk_nop(rnd());
        break;
    }
    /* Sometimes an inline descriptor (valid on CALL and RETURN with one). */
    if (rnd() % 4 == 0) {
        e.flags |= CAPOS_SQE_F_XFER_INLINE;
        if (rnd() % 2)
            e.xfer_count = 1;
    }
    int n = rnd() % 3;
    for (int i = 0; i < n; i++) {
        unsigned char *p = (unsigned char *)&e;
        size_t at = rnd() % sizeof(e);
        if (at >= 40 && at < 48)
            continue; /* keep user_data, for the echo check */
        p[at] = rnd() % 4 == 0 ? 0 : (unsigned char)rnd();
    }
    return e;
}

static enum ring_action post_all(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    (*(int *)ctx)++;
    return RING_POST;
}

Test(ring, random_entries_agree_with_ring_check_sqe)
{
    int calls = 0;
    for (int i = 0; i < 20000; i++) {
        struct capos_sqe e = random_sqe();
        int32_t want = ring_check_sqe(&e);
        submit(e);
        int before = calls;
        struct ring_counts c = ring_process(R, &st, 16, post_all, &calls);
        cr_assert_eq(c.posted, 1);
        struct capos_cqe q;
        cr_assert(reap(&q));
        cr_assert_eq(q.user_data, e.user_data);
        if (want != CAPOS_OK) {
            cr_assert_eq(q.result, want);
            cr_assert_eq(calls, before);
        } else {
            cr_assert_eq(q.result, 0);
            cr_assert_eq(calls, before + (e.opcode != CAPOS_OP_NOP));
        }
    }
}

/* The hostile process: between kernel calls it may scribble anywhere on the
 * page, behave, or reap. The kernel's state must stay sane throughout. */
static enum ring_action random_action(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    if (rnd() % 8 == 0)
        memset((void *)R, (int)rnd(), sizeof(*R)); /* a sibling thread scribbles mid-call */
    uint64_t x = rnd() % 8;
    return x < 5 ? RING_POST : x < 7 ? RING_DEFER : RING_STOP;
}

Test(ring, hostile_producer_randomized)
{
    rng = 0x5eed0001;
    for (int iter = 0; iter < 200000; iter++) {
        uint64_t what = rnd() % 16;
        if (what < 3) {
            size_t at = rnd() % sizeof(*R);
            size_t len = rnd() % 64 + 1;
            if (at + len > sizeof(*R))
                len = sizeof(*R) - at;
            for (size_t i = 0; i < len; i++)
                ((unsigned char *)R)[at + i] = (unsigned char)rnd();
        } else if (what == 3) {
            R->sq_tail = (uint32_t)rnd();
        } else if (what == 4) {
            R->cq_head = st.cq_head + (uint32_t)(rnd() % 40) - 4;
        } else if (what < 8) {
            if (R->sq_tail - st.sq_head < 16)
                submit(random_sqe());
        } else if (what < 10) {
            struct capos_cqe q;
            reap(&q);
        } else if (what == 10 && st.cq_reserved) {
            struct capos_cqe q = {.user_data = rnd()};
            cr_assert(ring_post_reserved(R, &st, &q), "a reserved completion was refused");
        } else if (what == 11) {
            ring_cancel_reserved(&st);
        } else {
            uint32_t old_tail = st.cq_tail, max = rnd() % 20;
            uint32_t reserved = st.cq_reserved;
            struct ring_counts c = ring_process(R, &st, max, random_action, NULL);
            cr_assert_leq(c.consumed, max);
            cr_assert_leq(c.consumed, CAPOS_SQ_ENTRIES);
            cr_assert_eq(c.consumed, c.posted + c.deferred);
            cr_assert_leq(c.invalid, c.posted);
            cr_assert_eq(st.cq_reserved, reserved + c.deferred);
            if (!(c.events & CAPOS_RING_CQ_CORRUPT))
                cr_assert_eq(st.cq_tail - old_tail, c.posted);
        }
        check_state(false);
        cr_assert_leq(ring_sq_pending(R, &st, &(uint32_t){0}), CAPOS_SQ_ENTRIES);
    }
}

/* ---- The fast path's view (ring_peek_single and its halves, ring_issue_peeked) ---- */

/* Records the SQE; posts (with a result of its own), defers or stops by
 * its user_data, so that both ways of issuing it see the same answer. */
static enum ring_action act_record(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    *(struct capos_sqe *)ctx = *sqe;
    cqe->result = 77;
    cqe->user_data = 0; /* the echo is the ring's, whatever the handler writes */
    return sqe->user_data % 3 == 0 ? RING_POST : sqe->user_data % 3 == 1 ? RING_DEFER : RING_STOP;
}

/* Whatever the ring holds, the fast path takes an SQE exactly when it is
 * the only one waiting, one of the opcodes asked for (never a NOP),
 * valid, and ring_process would give it a CQ slot
 * by the kernel's own record; and taking it leaves the page and the
 * kernel state exactly as ring_process does when its handler defers that
 * SQE. */
Test(ring, peek_single_agrees_with_ring_process)
{
    rng = 0xfa57;
    int taken = 0, refused = 0;
    static struct capos_ring copy_page;
    struct capos_ring *copy = &copy_page;
    for (int i = 0; i < 20000; i++) {
        start_at((uint32_t)rnd());
        /* Fill the CQ partly: posted (some reaped) and reserved. */
        uint32_t posted = rnd() % (CAPOS_CQ_ENTRIES + 1);
        for (uint32_t k = 0; k < posted; k++)
            ring_post_cqe(R, &st, &(struct capos_cqe){.user_data = k});
        for (uint32_t k = rnd() % 4; k; k--)
            reap(&(struct capos_cqe){0});
        st.cq_reserved = (uint32_t)(rnd() % 3);
        if (st.cq_tail - st.cq_head + st.cq_reserved > CAPOS_CQ_ENTRIES)
            st.cq_reserved = 0;
        uint32_t n = rnd() % 4 == 0 ? 0 : rnd() % 3 == 0 ? 2 : 1;
        for (uint32_t k = 0; k < n; k++)
            submit(random_sqe());
        struct ring_state st0 = st;
        memcpy(copy, R, sizeof(*R));

        struct capos_sqe peeked;
        uint32_t mask = (uint32_t)rnd() | 1u << CAPOS_OP_CALL;
        bool fast = ring_peek_single(R, &st, mask, &peeked);
        bool room =
            st0.cq_tail - st0.cq_head + st0.cq_reserved < CAPOS_CQ_ENTRIES - RING_CONTROL_SLOTS;
        struct capos_sqe first = copy->sq[st0.sq_head & CAPOS_SQ_MASK];
        bool want = n == 1 && room && first.opcode != CAPOS_OP_NOP && first.opcode < 32 &&
                    (mask >> first.opcode & 1) && ring_check_sqe(&first) == CAPOS_OK;
        cr_assert_eq(fast, want, "iteration %d: pending %u, room %d, check %d", i, n, room,
                     ring_check_sqe(&first));
        cr_assert(memcmp(&st, &st0, sizeof(st)) == 0, "peeking changed the kernel state");
        cr_assert(memcmp(R, copy, sizeof(*R)) == 0, "peeking changed the page");
        /* The kernel's two halves (the SQ's before the kernel lock, the
         * CQ's room after): the SQ half answers without the room, and
         * both together are the whole. */
        struct capos_sqe sq_only;
        bool sq = ring_peek_sq(R, &st, mask, &sq_only);
        cr_assert_eq(sq,
                     want ||
                         (!room && n == 1 && first.opcode != CAPOS_OP_NOP && first.opcode < 32 &&
                          (mask >> first.opcode & 1) && ring_check_sqe(&first) == CAPOS_OK),
                     "iteration %d: the SQ half, room %d", i, room);
        cr_assert_eq(ring_cq_has_room(&st), room, "iteration %d: the CQ half", i);
        cr_assert(!sq || memcmp(&sq_only, &first, sizeof(first)) == 0, "the SQ half's copy");
        cr_assert(memcmp(&st, &st0, sizeof(st)) == 0, "the SQ half changed the kernel state");
        if (!fast) {
            refused++;
            continue;
        }
        taken++;
        cr_assert(memcmp(&peeked, &first, sizeof(first)) == 0, "not the SQE in the slot");
        struct capos_sqe seen_fast = {0};
        enum ring_action a = ring_issue_peeked(R, &st, &peeked, act_record, &seen_fast);
        struct ring_state st_fast = st;
        static struct capos_ring page_fast;
        memcpy(&page_fast, R, sizeof(*R));
        cr_assert(memcmp(&seen_fast, &peeked, sizeof(peeked)) == 0, "the handler got another SQE");

        /* The same ring through ring_process. */
        st = st0;
        memcpy(R, copy, sizeof(*R));
        struct capos_sqe seen = {0};
        struct ring_counts c = ring_process(R, &st, CAPOS_SQ_ENTRIES, act_record, &seen);
        cr_assert_eq(c.consumed, a == RING_STOP ? 0 : 1);
        cr_assert_eq(c.deferred, a == RING_DEFER);
        cr_assert(memcmp(&seen, &peeked, sizeof(seen)) == 0, "ring_process saw another SQE");
        cr_assert(memcmp(&st, &st_fast, sizeof(st)) == 0, "kernel states differ (action %d)", a);
        cr_assert(memcmp(R, &page_fast, sizeof(*R)) == 0, "pages differ (action %d)", a);
        if (a == RING_DEFER) {
            /* And consuming it without a handler is the same. */
            st = st0;
            memcpy(R, copy, sizeof(*R));
            ring_consume_deferred(R, &st);
            cr_assert(memcmp(&st, &st_fast, sizeof(st)) == 0, "ring_consume_deferred's state");
            cr_assert(memcmp(R, &page_fast, sizeof(*R)) == 0, "ring_consume_deferred's page");
        }
    }
    /* Both outcomes were exercised, not one of them only. */
    cr_assert_gt(taken, 1000);
    cr_assert_gt(refused, 1000);
}

/* A hostile process rewrites its only SQE after the kernel peeked: the
 * kernel keeps working on its copy, and issuing it moves sq_head by one
 * whatever the page says. */
Test(ring, peek_single_works_on_a_private_copy)
{
    struct capos_sqe e = mk_call(5);
    submit(e);
    struct capos_sqe peeked;
    cr_assert(ring_peek_single(R, &st, 1u << CAPOS_OP_CALL, &peeked));
    memset(&R->sq[0], 0xff, sizeof(R->sq[0]));
    cr_assert_eq(peeked.params_len, 64);
    cr_assert_eq(peeked.user_data, 5);
    R->sq_tail = 0xdeadbeef;
    struct capos_sqe seen;
    peeked.user_data = 1; /* act_record defers it */
    cr_assert_eq(ring_issue_peeked(R, &st, &peeked, act_record, &seen), RING_DEFER);
    cr_assert_eq(seen.params_len, 64);
    cr_assert_eq(st.sq_head, 1);
    cr_assert_eq(R->sq_head, 1);
    cr_assert_eq(st.cq_reserved, 1);
    /* The corrupt tail is the general path's to report. */
    cr_assert(!ring_peek_single(R, &st, 1u << CAPOS_OP_CALL, &peeked));
    cr_assert_eq(ring_sq_pending(R, &st, &(uint32_t){0}), 0);
    cr_assert(R->status & CAPOS_RING_SQ_CORRUPT);
}
