/* Byte ring; see netbuf.h. Every copy is split at the wrap point. */
#include "net/netbuf.h"

#include "string.h"

void netbuf_init(struct netbuf *b, uint8_t *mem, size_t cap)
{
    b->mem = mem;
    b->cap = cap;
    b->head = 0;
    b->len = 0;
}

void netbuf_put_at(struct netbuf *b, size_t off, const void *src, size_t n)
{
    if (n == 0 || off + n > b->cap)
        return;
    size_t pos = (b->head + off) % b->cap;
    size_t first = b->cap - pos < n ? b->cap - pos : n;
    memcpy(b->mem + pos, src, first);
    memcpy(b->mem, (const uint8_t *)src + first, n - first);
}

size_t netbuf_write(struct netbuf *b, const void *src, size_t n)
{
    if (n > netbuf_free(b))
        n = netbuf_free(b);
    netbuf_put_at(b, b->len, src, n);
    b->len += n;
    return n;
}

void netbuf_peek(const struct netbuf *b, size_t off, void *dst, size_t n)
{
    if (n == 0 || off + n > b->cap)
        return;
    size_t pos = (b->head + off) % b->cap;
    size_t first = b->cap - pos < n ? b->cap - pos : n;
    memcpy(dst, b->mem + pos, first);
    memcpy((uint8_t *)dst + first, b->mem, n - first);
}

void netbuf_consume(struct netbuf *b, size_t n)
{
    if (n > b->len)
        n = b->len;
    b->head = b->cap ? (b->head + n) % b->cap : 0;
    b->len -= n;
}
