/*
 * QEMU test child of ipc-edge and revoke-restrict: submit one CALL on the
 * endpoint "svc", let the kernel take it, and exit at once without waiting
 * for the answer. Without an "svc" capability it just exits 0.
 */
#include "capos_rt.h"

#define EDGE_IFACE 0xed6e0000c0ffee01ull

int main(void)
{
    uint32_t svc = capos_capset_find("svc", EDGE_IFACE, 0);
    if (!svc)
        return 0;
    static const uint64_t params[2] = {0xca11e8177ull, 0};
    static uint64_t results[8];
    struct capos_sqe s = {.opcode = CAPOS_OP_CALL,
                          .method = 3,
                          .cap = svc,
                          .interface_id = EDGE_IFACE,
                          .params_addr = (uint64_t)params,
                          .params_len = sizeof(params),
                          .result_addr = (uint64_t)results,
                          .result_len = sizeof(results),
                          .user_data = 1};
    capos_ring_submit(&s);
    capos_cap_enter(0, 0);
    return 0;
}
