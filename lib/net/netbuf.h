/*
 * A byte ring over caller-provided memory: TCP's send and receive buffers.
 * The receive side also writes out-of-order data ahead of the readable
 * bytes (netbuf_put_at), which becomes readable when the gap is filled.
 */
#ifndef CAPOS_NET_NETBUF_H
#define CAPOS_NET_NETBUF_H

#include <stddef.h>
#include <stdint.h>

struct netbuf {
    uint8_t *mem;
    size_t cap;
    size_t head; /* index of the first byte */
    size_t len;  /* bytes held, from head */
};

void netbuf_init(struct netbuf *b, uint8_t *mem, size_t cap);
static inline size_t netbuf_free(const struct netbuf *b)
{
    return b->cap - b->len;
}
/* Appends up to n bytes; returns how many fit. */
size_t netbuf_write(struct netbuf *b, const void *src, size_t n);
/* Copies n bytes starting off bytes past head into dst, off + n <= cap
 * (bytes past len are whatever netbuf_put_at left there). */
void netbuf_peek(const struct netbuf *b, size_t off, void *dst, size_t n);
/* Stores n bytes at off bytes past head without changing len; off + n must
 * not exceed cap. */
void netbuf_put_at(struct netbuf *b, size_t off, const void *src, size_t n);
/* Drops n <= len bytes from the front. */
void netbuf_consume(struct netbuf *b, size_t n);

#endif
