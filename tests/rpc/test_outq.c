/*
 * The bounded output queue (lib/rpc/outq.h): whole messages or nothing,
 * bytes out in order across the wrap, the pause mark, and a consumer that
 * claims more than was queued.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "rpc/outq.h"

static uint8_t mem[64];

/* Drain q into out through peeks of at most max bytes; the count. */
static size_t drain(struct rpc_outq *q, uint32_t max, uint8_t *out)
{
    size_t got = 0;
    uint32_t n;
    const uint8_t *p;
    while ((p = rpc_outq_peek(q, max, &n)), n > 0) {
        cr_assert_leq(n, max, "peek gave %u bytes; at most %u were asked", n, max);
        memcpy(out + got, p, n);
        got += n;
        rpc_outq_consume(q, n);
    }
    return got;
}

Test(outq, whole_messages_or_nothing)
{
    struct rpc_outq q;
    rpc_outq_init(&q, mem, sizeof(mem), 48);
    uint8_t a[40], b[30];
    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    cr_assert(rpc_outq_push(&q, a, sizeof(a)));
    cr_assert_not(rpc_outq_push(&q, b, sizeof(b)), "30 bytes taken with 24 free");
    cr_assert_eq(q.len, 40, "a refused message left %u bytes queued, not 40", q.len);
    cr_assert(rpc_outq_push(&q, b, 24), "24 bytes refused with 24 free");
    cr_assert_eq(q.len, 64);
    cr_assert(rpc_outq_push(&q, b, 0), "an empty message is always taken");
    cr_assert_not(rpc_outq_push(&q, b, 1));
    cr_assert_eq(q.peak, 64);
}

Test(outq, order_kept_across_the_wrap)
{
    struct rpc_outq q;
    rpc_outq_init(&q, mem, sizeof(mem), 64);
    uint8_t in[1000], out[1000];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 3);
    /* Messages of 1..23 bytes, written 5 at a time, so head and tail go
     * round the ring at every offset. */
    size_t sent = 0, got = 0, len = 1;
    while (sent < sizeof(in)) {
        size_t n = len < sizeof(in) - sent ? len : sizeof(in) - sent;
        if (!rpc_outq_push(&q, in + sent, n)) {
            uint32_t k;
            const uint8_t *p = rpc_outq_peek(&q, 5, &k);
            cr_assert_gt(k, 0, "a queue refusing %zu bytes with %u free is empty", n,
                         q.cap - q.len);
            memcpy(out + got, p, k);
            got += k;
            rpc_outq_consume(&q, k);
            continue;
        }
        sent += n;
        len = len % 23 + 1;
    }
    got += drain(&q, 5, out + got);
    cr_assert_eq(got, sizeof(in));
    cr_assert_arr_eq(out, in, sizeof(in), "bytes came out of the queue in another order");
}

Test(outq, pause_mark)
{
    struct rpc_outq q;
    rpc_outq_init(&q, mem, sizeof(mem), 16);
    uint8_t x[16] = {0};
    cr_assert_not(rpc_outq_full(&q));
    rpc_outq_push(&q, x, 15);
    cr_assert_not(rpc_outq_full(&q), "full at 15 bytes with the mark at 16");
    rpc_outq_push(&q, x, 1);
    cr_assert(rpc_outq_full(&q), "not full at the mark");
    rpc_outq_consume(&q, 1);
    cr_assert_not(rpc_outq_full(&q));
    /* A mark above the capacity is lowered to it. */
    rpc_outq_init(&q, mem, sizeof(mem), 1000);
    cr_assert_eq(q.pause, sizeof(mem));
}

Test(outq, consuming_more_than_queued_is_clamped)
{
    struct rpc_outq q;
    rpc_outq_init(&q, mem, sizeof(mem), 64);
    uint8_t x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, out[10];
    rpc_outq_push(&q, x, 10);
    rpc_outq_consume(&q, 1000);
    cr_assert_eq(q.len, 0, "%u bytes left after consuming all", q.len);
    cr_assert(rpc_outq_push(&q, x, 10));
    cr_assert_eq(drain(&q, 64, out), 10);
    cr_assert_arr_eq(out, x, 10);
}
