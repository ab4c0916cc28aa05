/*
 * QEMU test program: NOPs through the ring. One NOP, then a batch of 16 in
 * one cap_enter; every completion must come back with result 0 and its own
 * user_data. Exit code 0 means all checks passed; any other code names the
 * check that failed.
 */
#include "capos_rt.h"

int main(void)
{
    if (capos_nop() != 0)
        return 1;

    volatile struct capos_ring *r = capos_ring();
    uint32_t tail = r->sq_tail;
    for (uint32_t i = 0; i < CAPOS_SQ_ENTRIES; i++) {
        volatile struct capos_sqe *s = &r->sq[(tail + i) & CAPOS_SQ_MASK];
        *s = (struct capos_sqe){.opcode = CAPOS_OP_NOP, .user_data = 1000 + i};
    }
    __atomic_store_n(&r->sq_tail, tail + CAPOS_SQ_ENTRIES, __ATOMIC_RELEASE);
    int64_t ready = capos_cap_enter(CAPOS_SQ_ENTRIES, UINT64_MAX);
    if (ready != CAPOS_SQ_ENTRIES)
        return 2;
    for (uint32_t i = 0; i < CAPOS_SQ_ENTRIES; i++) {
        struct capos_cqe c;
        if (!capos_ring_wait(1000 + i, &c))
            return 3;
        if (c.result != 0)
            return 4;
    }
    return 0;
}
