/* The event loop: every completion the shell did not wait for itself. */
#include "shell.h"

static void dispatch(const struct capos_cqe *cqe)
{
    uint64_t ud = cqe->user_data;
    if (ud >> 40 != 1)
        return; /* not one of ours: a late reply nobody waits for */
    enum event_kind kind = (enum event_kind)((ud >> 8) & 0xff);
    uint32_t idx = (uint32_t)(ud & 0xff);
    if (kind == EV_JOB_WAIT || kind == EV_JOB_RECV || kind == EV_JOB_LINE)
        jobs_event(kind, idx, cqe);
}

bool events_step(void)
{
    struct capos_cqe c;
    bool any = false;
    while (capos_ring_take_any(&c)) {
        dispatch(&c);
        any = true;
    }
    return any || capos_cap_enter(1, UINT64_MAX) >= 0;
}

bool events_wait_for(uint64_t want, struct capos_cqe *out)
{
    for (unsigned failures = 0; failures < 1000;) {
        struct capos_cqe c;
        while (capos_ring_take_any(&c)) {
            if (c.user_data == want) {
                *out = c;
                return true;
            }
            dispatch(&c);
        }
        /* cap_enter fails only if the ring itself is broken: give up
         * rather than spin forever. */
        if (capos_cap_enter(1, UINT64_MAX) < 0)
            failures++;
    }
    return false;
}
