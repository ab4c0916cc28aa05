/*
 * QEMU test program for ring fairness, started twice (instances=2). Both
 * processes hammer their rings with batches of 16 NOPs. Process 1 does a
 * hundred times the work of process 2; if one ring could starve the other,
 * process 2 would not finish first. Each prints when it finishes.
 *
 * Process 1's work must outlast its first time slice (20 ms) by far, or it
 * finishes before process 2 ever runs and proves nothing: 20000 batches
 * (about 24 M instructions) took less than that under TCG on a 2.6 GHz
 * host, and the test failed most of the time.
 */
#include "capos_rt.h"

static void batch(volatile struct capos_ring *r)
{
    uint32_t tail = r->sq_tail;
    for (uint32_t i = 0; i < CAPOS_SQ_ENTRIES; i++) {
        volatile uint64_t *w = (volatile uint64_t *)&r->sq[(tail + i) & CAPOS_SQ_MASK];
        w[0] = CAPOS_OP_NOP;
        w[1] = w[2] = w[3] = w[4] = w[6] = w[7] = 0;
        w[5] = 1 + i;
    }
    __atomic_store_n(&r->sq_tail, tail + CAPOS_SQ_ENTRIES, __ATOMIC_RELEASE);
    capos_cap_enter(CAPOS_SQ_ENTRIES, UINT64_MAX);
    __atomic_store_n(&r->cq_head, __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

int main(void)
{
    volatile struct capos_ring *r = capos_ring();
    uint32_t batches = capos_pid() == 1 ? 200000 : 2000;
    capos_printf("fair: pid %u starts %u batches\n", capos_pid(), batches);
    for (uint32_t i = 0; i < batches; i++)
        batch(r);
    capos_printf("fair: pid %u finished\n", capos_pid());
    return 0;
}
