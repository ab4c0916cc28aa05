/*
 * Park table (park.h). Each bucket is a doubly linked FIFO, so parking,
 * removing a waiter (timeout, death) and waking the oldest are O(1); a
 * wake walks only its own bucket, and keys that share a bucket are told
 * apart by the whole key.
 */
#include "kcore/park.h"

bool park_table_init(struct park_table *t, struct park_bucket *buckets, uint32_t nbuckets)
{
    if (nbuckets == 0 || (nbuckets & (nbuckets - 1)) != 0)
        return false;
    for (uint32_t i = 0; i < nbuckets; i++)
        buckets[i].head = buckets[i].tail = NULL;
    t->buckets = buckets;
    t->mask = nbuckets - 1;
    t->waiters = 0;
    return true;
}

static struct park_bucket *bucket_of(const struct park_table *t, struct park_key key)
{
    /* Only spreads keys over buckets; matching compares the key whole. */
    uint64_t h = (key.addr >> 2) ^ (key.space * 0x9e3779b97f4a7c15ull);
    h ^= h >> 29;
    return &t->buckets[h & t->mask];
}

static bool key_eq(struct park_key a, struct park_key b)
{
    return a.space == b.space && a.addr == b.addr;
}

void park_enqueue(struct park_table *t, struct park_waiter *w, struct park_key key)
{
    struct park_bucket *b = bucket_of(t, key);
    w->key = key;
    w->next = NULL;
    w->prev = b->tail;
    if (b->tail)
        b->tail->next = w;
    else
        b->head = w;
    b->tail = w;
    w->parked = true;
    t->waiters++;
}

static void unlink(struct park_table *t, struct park_bucket *b, struct park_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        b->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        b->tail = w->prev;
    w->next = w->prev = NULL;
    w->parked = false;
    t->waiters--;
}

bool park_remove(struct park_table *t, struct park_waiter *w)
{
    if (!w->parked)
        return false;
    unlink(t, bucket_of(t, w->key), w);
    return true;
}

uint32_t park_wake(struct park_table *t, struct park_key key, uint32_t count,
                   void (*woken)(void *ctx, struct park_waiter *w), void *ctx)
{
    struct park_bucket *b = bucket_of(t, key);
    uint32_t n = 0;
    for (struct park_waiter *w = b->head, *next; w && n < count; w = next) {
        next = w->next;
        if (!key_eq(w->key, key))
            continue;
        unlink(t, b, w);
        n++;
        if (woken)
            woken(ctx, w); /* last: it may park w again, behind `next` */
    }
    return n;
}

struct park_waiter *park_first(const struct park_table *t, struct park_key key)
{
    /* park_wake's scan, stopped at its first match. */
    for (struct park_waiter *w = bucket_of(t, key)->head; w; w = w->next)
        if (key_eq(w->key, key))
            return w;
    return 0;
}

uint32_t park_count(const struct park_table *t, struct park_key key)
{
    uint32_t n = 0;
    for (const struct park_waiter *w = bucket_of(t, key)->head; w; w = w->next)
        n += key_eq(w->key, key);
    return n;
}
