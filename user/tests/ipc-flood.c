/*
 * QEMU test child of ipc-edge (the endpoint queue limit): fill the
 * endpoint "flood" with CALLs, count those the kernel refuses at once with
 * CAPOS_E_NO_SPACE (its queue holds at most 128), tell the parent through
 * the endpoint "ready" that every CALL has been taken, then wait for the
 * answers. Exits with the number of NO_SPACE completions (0..FLOOD_CALLS),
 * or 100+ when something else went wrong.
 *
 * FLOOD_CALLS is 29: a process has at most 30 operations other than
 * RELEASE and CANCEL in flight (the CQ reserves a slot for each deferred
 * completion, and keeps two for those control opcodes), and the ready
 * CALL needs one of them while every queued flood CALL is still waiting.
 */
#include "capos_rt.h"

#include <string.h>

#define EDGE_IFACE  0xed6e0000c0ffee01ull
#define FLOOD_CALLS 29u
#define READY_ID    5000u

static uint64_t params[FLOOD_CALLS][2];
static uint64_t results[FLOOD_CALLS][8];
static bool done[FLOOD_CALLS];

int main(void)
{
    uint32_t flood = capos_capset_find("flood", EDGE_IFACE, 0);
    uint32_t ready = capos_capset_find("ready", EDGE_IFACE, 0);
    if (!flood || !ready)
        return 100;
    volatile struct capos_ring *r = capos_ring();
    for (uint32_t i = 0; i < FLOOD_CALLS; i++) {
        params[i][0] = capos_pid();
        params[i][1] = i;
        struct capos_sqe s = {.opcode = CAPOS_OP_CALL,
                              .method = 1,
                              .cap = flood,
                              .interface_id = EDGE_IFACE,
                              .params_addr = (uint64_t)params[i],
                              .params_len = sizeof(params[i]),
                              .result_addr = (uint64_t)results[i],
                              .result_len = sizeof(results[i]),
                              .user_data = 1000 + i};
        if (!capos_ring_submit(&s))
            return 101;
        if (r->sq_tail - r->sq_head == CAPOS_SQ_ENTRIES)
            capos_cap_enter(0, 0);
    }
    capos_cap_enter(0, 0);
    if (r->sq_tail != r->sq_head)
        return 102; /* every CALL must have been taken (queued or refused) */
    int nospace = 0;
    for (uint32_t i = 0; i < FLOOD_CALLS; i++) {
        struct capos_cqe c;
        if (!capos_ring_try_take(1000 + i, &c))
            continue; /* queued: answered later */
        if (c.result != CAPOS_E_NO_SPACE)
            return 103; /* nothing else may complete before the parent serves */
        done[i] = true;
        nospace++;
    }
    /* Every CALL is queued or refused: say so (with the count). */
    static uint64_t rp[1];
    static uint64_t rr[4];
    rp[0] = (uint64_t)nospace;
    struct capos_sqe s = {.opcode = CAPOS_OP_CALL,
                          .method = 2,
                          .cap = ready,
                          .interface_id = EDGE_IFACE,
                          .params_addr = (uint64_t)rp,
                          .params_len = sizeof(rp),
                          .result_addr = (uint64_t)rr,
                          .result_len = sizeof(rr),
                          .user_data = READY_ID};
    struct capos_cqe c;
    if (!capos_ring_submit(&s) || !capos_ring_wait(READY_ID, &c) || c.result != 0)
        return 104;
    /* The parent answers each queued CALL with its own params. */
    for (uint32_t i = 0; i < FLOOD_CALLS; i++) {
        if (done[i])
            continue;
        if (!capos_ring_wait(1000 + i, &c) || c.result != 0 || c.result_len != sizeof(params[i]) ||
            memcmp(results[i], params[i], sizeof(params[i])) != 0)
            return 105;
    }
    return nospace;
}
