/*
 * Profiling target (tools/qemu-profile.py): Timer.now through the stub,
 * between the "prof: start" and "prof: end N" markers. Not run by make
 * bench; for finding where the instructions go.
 */
#include "bench.h"

#define N 2000

int main(void)
{
    uint32_t timer = capos_capset_find("timer", Timer_INTERFACE_ID, 0);
    uint64_t sum = 0;
    for (int i = 0; i < 100; i++) {
        uint8_t p[64], r[64];
        struct capnpc_call c;
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        Timer_now_Results_r now;
        Timer_now_call(&capos_transport, timer, &c, &now);
    }
    capos_printf("prof: start\n");
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    for (int i = 0; i < N; i++) {
        uint8_t p[64], r[64];
        struct capnpc_call c;
        capnpc_call_init(&c, p, sizeof(p), r, sizeof(r));
        Timer_now_Results_r now;
        Timer_now_call(&capos_transport, timer, &c, &now);
        sum += Timer_now_Results_get_ns(now);
    }
    capos_printf("prof: end %d\n", N);
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    return sum == 0;
}
