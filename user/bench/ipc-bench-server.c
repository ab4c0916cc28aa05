/*
 * The server side of the IPC benchmark (user/bench/ipc-bench.c): answers
 * every call on its exported endpoint "svc" with a 16-byte result, as
 * cheaply as the ring allows: the RETURN of one call and the RECV of the
 * next as one RETURN_RECV entry (and a RELEASE of whatever capability came
 * with the call) go to the kernel in one cap_enter. Method 1 means "last call": answer it and exit;
 * method 2 means "give the capability back": the RETURN moves it to the
 * caller again instead of releasing it.
 */
#include "capos_rt.h"

#include "capos.capnp.h"

static uint8_t recv_buf[8192] __attribute__((aligned(8)));
/* Segment table (one segment of one word) and an empty struct root. */
static const uint64_t result[2] = {0x0000000100000000ull, 0x00000000fffffffcull};

int main(void)
{
    uint32_t ep = capos_capset_find("svc", Echo_INTERFACE_ID, 0);
    if (!ep)
        return 1;
    volatile struct capos_ring *r = capos_ring();
    const struct capos_recv_header *h = (const void *)recv_buf;
    const struct capos_cap_record *rec = (const void *)(recv_buf + sizeof(*h));
    uint32_t tail = r->sq_tail;
    r->sq[tail & CAPOS_SQ_MASK] = (struct capos_sqe){.opcode = CAPOS_OP_RECV,
                                                     .cap = ep,
                                                     .result_addr = (uint64_t)recv_buf,
                                                     .result_len = sizeof(recv_buf),
                                                     .user_data = 1};
    __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    /* Completions to wait for: the RELEASEs complete at once, the
     * RETURN_RECV when the next call comes; waiting for all of them makes
     * one cap_enter per call. */
    uint32_t want = 1;
    for (;;) {
        capos_cap_enter(want, UINT64_MAX);
        /* Reap: the RECV or RETURN_RECV completions (user_data 1); the
         * RELEASEs' need nothing. */
        bool got = false;
        struct capos_cqe c = {0};
        uint32_t head = r->cq_head;
        while (head != __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE)) {
            const volatile struct capos_cqe *q = &r->cq[head & CAPOS_CQ_MASK];
            if (q->user_data == 1) {
                c.result = q->result;
                c.flags = q->flags;
                c.call_id = q->call_id;
                got = true;
            }
            head++;
        }
        __atomic_store_n(&r->cq_head, head, __ATOMIC_RELEASE);
        if (!got)
            continue;
        if (c.flags & CAPOS_CQE_F_RETURN_FAILED)
            return 2; /* an answer the kernel refused: nothing to measure */
        if (c.result < 0)
            return 0; /* the endpoint closed: the benchmark is over */
        if (h->method == 1) {
            struct capos_sqe ret = {.opcode = CAPOS_OP_RETURN,
                                    .cap = ep,
                                    .call_id = c.call_id,
                                    .params_addr = (uint64_t)result,
                                    .params_len = sizeof(result),
                                    .user_data = 2};
            struct capos_cqe done;
            capos_ring_submit(&ret);
            capos_ring_wait(2, &done);
            return 0;
        }
        tail = r->sq_tail;
        uint16_t caps = h->cap_count;
        static struct capos_xfer back;
        bool give_back = h->method == 2 && caps == 1;
        if (give_back) {
            back = (struct capos_xfer){.cap = rec[0].cap, .mode = CAPOS_XFER_MOVE};
            caps = 0;
        }
        want = 1;
        for (uint16_t i = 0; i < caps && i < 4; i++, want++)
            r->sq[tail++ & CAPOS_SQ_MASK] =
                (struct capos_sqe){.opcode = CAPOS_OP_RELEASE, .cap = rec[i].cap};
        /* The answer and the next RECV in one entry (RETURN_RECV). */
        r->sq[tail++ & CAPOS_SQ_MASK] =
            (struct capos_sqe){.opcode = CAPOS_OP_RETURN_RECV,
                               .cap = ep,
                               .call_id = c.call_id,
                               .params_addr = (uint64_t)result,
                               .params_len = sizeof(result),
                               .result_addr = (uint64_t)recv_buf,
                               .result_len = sizeof(recv_buf),
                               .user_data = 1,
                               /* In the entry, as the runtime sends one. */
                               .flags = give_back ? CAPOS_SQE_F_XFER_INLINE : 0,
                               .xfer_count = give_back ? 1 : 0,
                               .xfer_addr = give_back ? capos_xfer_inline(back.cap, back.mode) : 0};
        __atomic_store_n(&r->sq_tail, tail, __ATOMIC_RELEASE);
    }
}
