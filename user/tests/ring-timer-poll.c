/*
 * QEMU test program: the timer completes NOPs without cap_enter. Queue a
 * NOP, then spin in user mode without entering the kernel until its CQE
 * appears (the timer interrupt polls the ring), with a generous bound.
 */
#include "capos_rt.h"

int main(void)
{
    volatile struct capos_ring *r = capos_ring();
    uint32_t tail = r->sq_tail;
    r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){.opcode = CAPOS_OP_NOP, .user_data = 77};
    __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    uint32_t head = r->cq_head;
    for (uint64_t spins = 0; spins < 4000000000ull; spins++) {
        if (__atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE) != head) {
            const volatile struct capos_cqe *c = &r->cq[head & CAPOS_CQ_MASK];
            if (c->user_data != 77 || c->result != 0)
                return 2;
            __atomic_store_n(&r->cq_head, head + 1, __ATOMIC_RELEASE);
            return 0;
        }
    }
    return 1; /* no completion without cap_enter */
}
