/*
 * libFuzzer target for the kernel side of the capability ring.
 *
 * Input: the first sizeof(struct capos_ring) bytes are the initial ring
 * page (zero-padded if short); the rest is a script of operations, one
 * opcode byte each followed by its arguments, mixing what a hostile
 * process does to the page with the calls the kernel makes:
 *
 *   0 max                 ring_process(max % 20); the handler takes one
 *                         byte per call: POST / DEFER / STOP and a result
 *   1 off16 len8 bytes    userspace writes bytes into the page
 *   2 u32                 userspace sets sq_tail
 *   3 u32                 userspace sets cq_head
 *   4                     a deferred completion arrives (ring_post_reserved)
 *   5                     a deferred operation is cancelled
 *   6                     ring_sq_pending and ring_cq_ready (cap_enter's count)
 *   7 u64                 ring_post_cqe
 *
 * The page is a heap block of exactly its size, so ASan catches any access
 * outside it. After every operation the kernel's invariants are checked and
 * a violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <capos/errors.h>

#include "kcore/ring.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

struct input {
    const uint8_t *p;
    size_t n;
};

static uint8_t byte(struct input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t bytes(struct input *in, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++)
        v |= (uint64_t)byte(in) << (8 * i);
    return v;
}

static struct capos_ring *R;
static struct ring_state st;
static uint32_t pending; /* deferred operations the "kernel" still has to answer */

static void check_state(void)
{
    CHECK(st.cq_tail - st.cq_head + st.cq_reserved <= CAPOS_CQ_ENTRIES);
    CHECK(st.cq_reserved == pending);
}

static enum ring_action handler(void *ctx, const struct capos_sqe *sqe, struct capos_cqe *cqe)
{
    struct input *in = ctx;
    /* Only valid, non-NOP entries get here, as a private copy. */
    CHECK(ring_check_sqe(sqe) == CAPOS_OK);
    CHECK(sqe->opcode != CAPOS_OP_NOP);
    CHECK((const char *)sqe < (const char *)R || (const char *)sqe >= (const char *)(R + 1));
    /* Slot reserved for this entry while we run. */
    CHECK(st.cq_tail - st.cq_head + st.cq_reserved <= CAPOS_CQ_ENTRIES);
    uint8_t b = byte(in);
    if (b & 0x80) { /* the process's other thread scribbles meanwhile */
        ((uint8_t *)R)[byte(in) * 9 % sizeof(*R)] = b;
        R->sq_tail += b & 3;
    }
    cqe->result = (int8_t)b;
    switch (b % 4) {
    case 0:
        pending++;
        return RING_DEFER;
    case 1:
        return RING_STOP;
    default:
        return RING_POST;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    R = malloc(sizeof(*R));
    memset(R, 0, sizeof(*R));
    ring_init(R, &st);
    pending = 0;
    size_t page = size < sizeof(*R) ? size : sizeof(*R);
    memcpy(R, data, page);
    struct input in = {data + page, size - page};

    for (int steps = 0; in.n > 0 && steps < 4096; steps++) {
        uint32_t ev = 0;
        switch (byte(&in) % 8) {
        case 0: {
            uint32_t max = byte(&in) % 20, old_tail = st.cq_tail, old_res = st.cq_reserved;
            struct ring_counts c = ring_process(R, &st, max, handler, &in);
            CHECK(c.consumed <= max && c.consumed <= CAPOS_SQ_ENTRIES);
            CHECK(c.consumed == c.posted + c.deferred);
            CHECK(c.invalid <= c.posted);
            CHECK(c.left <= CAPOS_SQ_ENTRIES);
            CHECK(st.cq_reserved == old_res + c.deferred);
            if (!(c.events & CAPOS_RING_CQ_CORRUPT))
                CHECK(st.cq_tail - old_tail == c.posted);
            if (c.consumed)
                CHECK(R->sq_head == st.sq_head);
            break;
        }
        case 1: {
            size_t off = bytes(&in, 2) % sizeof(*R), len = byte(&in);
            if (len > sizeof(*R) - off)
                len = sizeof(*R) - off;
            for (size_t i = 0; i < len; i++)
                ((uint8_t *)R)[off + i] = byte(&in);
            break;
        }
        case 2:
            R->sq_tail = (uint32_t)bytes(&in, 4);
            break;
        case 3:
            R->cq_head = (uint32_t)bytes(&in, 4);
            break;
        case 4: {
            struct capos_cqe e = {.user_data = bytes(&in, 1), .result = 1};
            bool ok = ring_post_reserved(R, &st, &e);
            CHECK(ok == (pending > 0)); /* a reservation always gets its slot */
            pending -= ok;
            break;
        }
        case 5:
            if (pending) {
                ring_cancel_reserved(&st);
                pending--;
            }
            break;
        case 6:
            CHECK(ring_sq_pending(R, &st, &ev) <= CAPOS_SQ_ENTRIES);
            CHECK(ring_cq_ready(R, &st, &ev) <= CAPOS_CQ_ENTRIES);
            break;
        case 7: {
            struct capos_cqe e = {.user_data = bytes(&in, 8)};
            uint32_t space = ring_cq_space(R, &st, &ev);
            CHECK(ring_post_cqe(R, &st, &e) == (space > 0));
            break;
        }
        }
        check_state();
    }
    free(R);
    return 0;
}
