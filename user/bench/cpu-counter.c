/*
 * A counting CPU-bound process for the fairness benchmark
 * (user/bench/ipc-bench.c): it CALLs "ctl" to say it is ready and gets
 * back a deadline (an rdtsc value), counts loop iterations in user mode,
 * never entering the kernel, until rdtsc passes the deadline, and CALLs
 * "ctl" again with its count. rdtsc is one clock for every process (under
 * -icount it is the virtual time), so all counters stop together.
 */
#include "capos_rt.h"

#include "bench.h"
#include "capos.capnp.h"

int main(void)
{
    uint32_t ctl = capos_capset_find("ctl", Echo_INTERFACE_ID, 0);
    if (!ctl)
        return 1;
    uint64_t deadline;
    if (!bench_ctl_call(ctl, 0, 0, &deadline, 1))
        return 2;
    /* An iteration is about 2,000 instructions: the clock is read seldom
     * (under -icount every rdtsc ends QEMU's translation block), and one
     * iteration past the deadline is a few microseconds. */
    uint64_t count = 0;
    while (rdtsc() < deadline) {
        for (int i = 0; i < 500; i++)
            __asm__ volatile("" ::: "memory");
        count++;
    }
    return bench_ctl_call(ctl, &count, 1, 0, 0) ? 0 : 3;
}
