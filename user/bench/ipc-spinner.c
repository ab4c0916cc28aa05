/*
 * A CPU-bound neighbour for the loaded IPC benchmark (user/bench/ipc-bench.c):
 * it CALLs the endpoint "stop" once, then spins in user mode, never
 * entering the kernel, until that call's completion appears in its CQ
 * (the benchmark RETURNs it when it has measured), and exits.
 */
#include "capos_rt.h"

#include "capos.capnp.h"

static const uint64_t params[2] = {0x0000000100000000ull, 0x00000000fffffffcull};
static uint8_t results[64] __attribute__((aligned(8)));

int main(void)
{
    uint32_t stop = capos_capset_find("stop", Echo_INTERFACE_ID, 0);
    if (!stop)
        return 1;
    volatile struct capos_ring *r = capos_ring();
    uint32_t tail = r->sq_tail;
    r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){.opcode = CAPOS_OP_CALL,
                                                     .cap = stop,
                                                     .interface_id = Echo_INTERFACE_ID,
                                                     .params_addr = (uint64_t)params,
                                                     .params_len = sizeof(params),
                                                     .result_addr = (uint64_t)results,
                                                     .result_len = sizeof(results),
                                                     .user_data = 1};
    __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    capos_cap_enter(0, 0);
    /* Spin: only the timer takes the CPU away from here. */
    while (__atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE) == r->cq_head)
        __asm__ volatile("" ::: "memory");
    return 0;
}
