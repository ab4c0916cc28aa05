/*
 * A CPU-bound process of the SMP benchmark (user/bench/smp-bench.c): it
 * CALLs "ctl" to say it is ready and gets back how much work to do, does
 * it in user mode without entering the kernel, and CALLs "ctl" again with
 * the rdtsc values before and after. A fixed amount of work, unlike
 * cpu-counter's fixed time: the benchmark measures how soon N of them are
 * all done.
 */
#include "capos_rt.h"

#include "bench.h"
#include "capos.capnp.h"

int main(void)
{
    uint32_t ctl = capos_capset_find("ctl", Echo_INTERFACE_ID, 0);
    if (!ctl)
        return 1;
    uint64_t work;
    if (!bench_ctl_call(ctl, 0, 0, &work, 1))
        return 2;
    uint64_t w[2];
    w[0] = rdtsc();
    for (uint64_t n = 0; n < work; n++)
        for (int i = 0; i < 500; i++)
            __asm__ volatile("" ::: "memory");
    w[1] = rdtsc();
    return bench_ctl_call(ctl, w, 2, 0, 0) ? 0 : 3;
}
