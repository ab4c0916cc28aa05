/* QEMU test program: owns an exported endpoint but never answers; sleeps
 * 1.5 s and exits, closing the endpoint under its waiting callers. Given
 * its Timer as "timer-long" instead of "timer", it sleeps 60 s: for a
 * parent that kills it and must find it still asleep, however long a
 * loaded host stalls the parent (spawn-hostile, also in smp-stress). */
#include "capos_rt.h"

#include "capos.capnp.h"

int main(void)
{
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint64_t ns = 1500000000ull;
    if (!timer) {
        timer = capos_capset_find("timer-long", Timer_INTERFACE_ID, 0);
        ns = 60000000000ull;
    }
    uint8_t p[64], r[64];
    struct capnpc_call c;
    capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
    Timer_sleep_call(&capos_transport, timer, &c, ns, 0);
    capos_printf("sleeper: exiting without answering anyone\n");
    return 0;
}
