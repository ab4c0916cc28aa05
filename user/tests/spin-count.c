/*
 * QEMU test program (a child of sched-timing): a CPU-bound process. It
 * spins for SPIN_NS of clock time, counting loop rounds, and exits with
 * the count in thousands, so that its parent can compare the CPU shares
 * of several of them. It enters the kernel only to read the clock, every
 * 2^16 rounds.
 */
#include "capos_rt.h"

#include "capos.capnp.h"

#define SPIN_NS 300000000ull /* 300 ms */

static uint64_t now_ns(uint32_t timer)
{
    uint8_t p[64] __attribute__((aligned(8))), r[64] __attribute__((aligned(8)));
    struct capnpc_call c;
    Timer_now_Results_r now;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    if (Timer_now_call(&capos_transport, timer, &c, &now) != CAPNPC_OK)
        return UINT64_MAX; /* no clock: stop at once */
    return Timer_now_Results_get_ns(now);
}

int main(void)
{
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    if (!timer)
        return -1;
    uint64_t end = now_ns(timer) + SPIN_NS;
    uint64_t rounds = 0;
    for (;;) {
        for (volatile uint32_t i = 0; i < 65536; i++)
            ;
        rounds += 65536;
        if (now_ns(timer) >= end)
            break;
    }
    return (int)(rounds / 1000);
}
