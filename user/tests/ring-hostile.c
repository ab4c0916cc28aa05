/*
 * QEMU test program: a hostile ring. Garbage SQEs, kernel-half and
 * non-canonical pointers, oversized lengths, a corrupted sq_tail and
 * cq_head, and a CQ left full: each gets an error CQE or a status bit, and
 * the process keeps running. Exit code 0 = every check passed; otherwise
 * the code names the failed check.
 */
#include "capos_rt.h"

static volatile struct capos_ring *r;

/* Submit one SQE directly and wait for its CQE. */
static int32_t submit_and_wait(struct capos_sqe sqe)
{
    sqe.user_data = capos_ring_next_id();
    struct capos_cqe c;
    if (!capos_ring_submit(&sqe) || !capos_ring_wait(sqe.user_data, &c))
        return 1000;
    return c.result;
}

static int check_bad_sqes(void)
{
    static const struct {
        struct capos_sqe sqe;
        int32_t expect;
    } cases[] = {
        {{.opcode = 0}, CAPOS_E_BAD_OPCODE},
        {{.opcode = CAPOS_OP_COUNT}, CAPOS_E_BAD_OPCODE},
        {{.opcode = 255}, CAPOS_E_BAD_OPCODE},
        {{.opcode = CAPOS_OP_FINISH}, CAPOS_E_RESERVED_OPCODE},
        {{.opcode = CAPOS_OP_NOP, .flags = 0x80}, CAPOS_E_BAD_FLAGS},
        {{.opcode = CAPOS_OP_NOP, .reserved = 1}, CAPOS_E_BAD_FLAGS},
        /* A kernel-half params pointer. */
        {{.opcode = CAPOS_OP_CALL,
          .cap = 0x10000,
          .params_addr = 0xffffffff80100000ull,
          .params_len = 64},
         CAPOS_E_BAD_ADDRESS},
        /* Non-canonical. */
        {{.opcode = CAPOS_OP_CALL,
          .cap = 0x10000,
          .params_addr = 0x0000800000000000ull,
          .params_len = 8},
         CAPOS_E_BAD_ADDRESS},
        /* addr + len wraps around. */
        {{.opcode = CAPOS_OP_CALL,
          .cap = 0x10000,
          .result_addr = 0x7ffffffff000ull,
          .result_len = 0x2000},
         CAPOS_E_BAD_ADDRESS},
        /* Oversized lengths. */
        {{.opcode = CAPOS_OP_CALL,
          .cap = 0x10000,
          .params_addr = 0x400000,
          .params_len = CAPOS_MAX_PARAMS_LEN + 1},
         CAPOS_E_TOO_LARGE},
        {{.opcode = CAPOS_OP_CALL,
          .cap = 0x10000,
          .xfer_addr = 0x400000,
          .xfer_count = CAPOS_MAX_XFER + 1},
         CAPOS_E_TOO_LARGE},
        /* No such capability: a free slot, id 0, a stale generation. */
        {{.opcode = CAPOS_OP_CALL, .cap = 0x10040, .interface_id = 0xa3b90b046e5043e0ull},
         CAPOS_E_BAD_CAP},
        /* Interface ids are never 0. */
        {{.opcode = CAPOS_OP_CALL, .cap = 0x10005}, CAPOS_E_WRONG_INTERFACE},
        {{.opcode = CAPOS_OP_RELEASE, .cap = 0}, CAPOS_E_BAD_CAP},
        {{.opcode = CAPOS_OP_RELEASE, .cap = 0xffffffffu}, CAPOS_E_BAD_CAP},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t got = submit_and_wait(cases[i].sqe);
        if (got != cases[i].expect)
            return 10 + (int)i;
    }
    return 0;
}

static int check_cq_full(void)
{
    /* As many NOPs as the CQ and the SQ hold, without reaping: 30 complete
     * (the last CQ slots are kept for RELEASE and CANCEL), 16 wait in the
     * SQ until the CQ has room. Nothing is dropped. */
    enum { CQ_TAKES = CAPOS_CQ_ENTRIES - CAPOS_CQ_CONTROL_SLOTS, N = CQ_TAKES + CAPOS_SQ_ENTRIES };
    uint32_t base = 5000;
    for (uint32_t i = 0; i < N; i++) {
        struct capos_sqe s = {.opcode = CAPOS_OP_NOP, .user_data = base + i};
        uint32_t tail = r->sq_tail;
        if (tail - r->sq_head >= CAPOS_SQ_ENTRIES)
            capos_cap_enter(0, 0);
        if (r->sq_tail - r->sq_head >= CAPOS_SQ_ENTRIES)
            return 29; /* the kernel took fewer than the CQ allows */
        r->sq[tail & CAPOS_SQ_MASK] = s;
        __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    }
    if (capos_cap_enter(0, 0) != CQ_TAKES)
        return 30;
    if (!(r->status & CAPOS_RING_CQ_FULL))
        return 31;
    if (r->sq_tail - r->sq_head != CAPOS_SQ_ENTRIES)
        return 32; /* the rest must still be queued */
    for (uint32_t i = 0; i < N; i++) {
        struct capos_cqe c;
        if (!capos_ring_wait(base + i, &c) || c.result != 0)
            return 33;
    }
    r->status = 0;
    return 0;
}

static int check_corrupt_indices(void)
{
    /* sq_tail far ahead of the kernel's head: discarded and reported. */
    uint32_t tail = r->sq_tail;
    __atomic_store_n(&r->sq_tail, tail + 1000, __ATOMIC_RELEASE);
    capos_cap_enter(0, 0);
    if (!(r->status & CAPOS_RING_SQ_CORRUPT))
        return 40;
    /* The kernel reset its head to our tail; the ring works again. */
    r->status = 0;
    if (capos_nop() != 0)
        return 41;
    /* cq_head beyond cq_tail: reported, and the ring recovers. */
    uint32_t head = r->cq_head;
    __atomic_store_n(&r->cq_head, head + 77, __ATOMIC_RELEASE);
    capos_cap_enter(0, 0);
    if (!(r->status & CAPOS_RING_CQ_CORRUPT))
        return 42;
    __atomic_store_n(&r->cq_head, r->cq_tail, __ATOMIC_RELEASE);
    r->status = 0;
    if (capos_nop() != 0)
        return 43;
    return 0;
}

static int check_garbage_page(void)
{
    /* Random bytes over every SQ slot, then a plausible tail. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (unsigned i = 0; i < sizeof(r->sq); i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((volatile uint8_t *)r->sq)[i] = (uint8_t)x;
    }
    uint32_t tail = r->sq_tail;
    __atomic_store_n(&r->sq_tail, tail + CAPOS_SQ_ENTRIES, __ATOMIC_RELEASE);
    capos_cap_enter(0, 0);
    /* Whatever the garbage said, every entry was consumed or refused and
     * the process is still alive and usable. */
    __atomic_store_n(&r->cq_head, r->cq_tail, __ATOMIC_RELEASE);
    r->status = 0;
    return capos_nop() == 0 ? 0 : 50;
}

int main(void)
{
    r = capos_ring();
    int rc;
    if ((rc = check_bad_sqes()) || (rc = check_cq_full()) || (rc = check_corrupt_indices()) ||
        (rc = check_garbage_page()))
        return rc;
    return 0;
}
