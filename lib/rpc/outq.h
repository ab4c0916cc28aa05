/*
 * A bounded output queue of bytes: what a connection has to send and the
 * socket has not taken yet. The RPC engine's host.send must take a whole
 * message at once, and a peer may read slowly or not at all, so messages
 * wait here while the socket's writes are in flight; the caller pauses
 * reading from the peer while the queue is above its pause mark
 * (back-pressure), and a message that does not fit is refused whole (the
 * connection is then closed: nothing is sent in part).
 *
 * A ring over memory the caller provides (no allocation); freestanding.
 */
#ifndef CAPOS_LIB_RPC_OUTQ_H
#define CAPOS_LIB_RPC_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rpc_outq {
    uint8_t *buf;
    uint32_t cap;   /* bytes of buf */
    uint32_t pause; /* at or above this many queued bytes, stop reading the peer */
    uint32_t head;  /* offset of the oldest byte */
    uint32_t len;   /* bytes queued */
    uint32_t peak;  /* most bytes ever queued, for statistics */
};

/* An empty queue over buf[0..cap); pause <= cap. */
void rpc_outq_init(struct rpc_outq *q, void *buf, uint32_t cap, uint32_t pause);
/* Queue all of p[0..n), or nothing: false if it does not fit. */
bool rpc_outq_push(struct rpc_outq *q, const void *p, size_t n);
/* The oldest queued bytes that are contiguous in memory, at most max;
 * their count in *n (0 when empty). */
const uint8_t *rpc_outq_peek(const struct rpc_outq *q, uint32_t max, uint32_t *n);
/* The socket took n of the peeked bytes (n <= len). */
void rpc_outq_consume(struct rpc_outq *q, uint32_t n);
/* Reading from the peer must wait. */
static inline bool rpc_outq_full(const struct rpc_outq *q)
{
    return q->len >= q->pause;
}

#endif
