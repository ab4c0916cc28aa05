/* The bounded output queue (outq.h): a byte ring. */
#include "rpc/outq.h"

#include <string.h>

void rpc_outq_init(struct rpc_outq *q, void *buf, uint32_t cap, uint32_t pause)
{
    *q = (struct rpc_outq){.buf = buf, .cap = cap, .pause = pause < cap ? pause : cap};
}

bool rpc_outq_push(struct rpc_outq *q, const void *p, size_t n)
{
    if (n == 0)
        return true;
    if (n > q->cap - q->len)
        return false;
    /* The free space starts at tail and may wrap once. */
    uint32_t tail = (uint32_t)(((uint64_t)q->head + q->len) % q->cap);
    uint32_t first = q->cap - tail < n ? q->cap - tail : (uint32_t)n;
    memcpy(q->buf + tail, p, first);
    memcpy(q->buf, (const uint8_t *)p + first, n - first);
    q->len += (uint32_t)n;
    if (q->len > q->peak)
        q->peak = q->len;
    return true;
}

const uint8_t *rpc_outq_peek(const struct rpc_outq *q, uint32_t max, uint32_t *n)
{
    uint32_t run = q->cap - q->head < q->len ? q->cap - q->head : q->len;
    *n = run < max ? run : max;
    return q->buf + q->head;
}

void rpc_outq_consume(struct rpc_outq *q, uint32_t n)
{
    if (n > q->len)
        n = q->len; /* the caller's bug; never run past the queued bytes */
    if (n == 0)
        return;
    q->head = (uint32_t)(((uint64_t)q->head + n) % q->cap);
    q->len -= n;
    if (q->len == 0)
        q->head = 0; /* keeps the next message contiguous when it can be */
}
