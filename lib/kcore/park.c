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

bool park_remove(struct park_table *t, struct park_waiter *w)
{
    if (!w->parked)
        return false;
    park_unlink(t, park_bucket_of(t, w->key), w);
    return true;
}

uint32_t park_wake(struct park_table *t, struct park_key key, uint32_t count,
                   void (*woken)(void *ctx, struct park_waiter *w), void *ctx)
{
    struct park_bucket *b = park_bucket_of(t, key);
    uint32_t n = 0;
    for (struct park_waiter *w = b->head, *next; w && n < count; w = next) {
        next = w->next;
        if (!park_key_eq(w->key, key))
            continue;
        park_unlink(t, b, w);
        n++;
        if (woken)
            woken(ctx, w); /* last: it may park w again, behind `next` */
    }
    return n;
}

uint32_t park_count(const struct park_table *t, struct park_key key)
{
    uint32_t n = 0;
    for (const struct park_waiter *w = park_bucket_of(t, key)->head; w; w = w->next)
        n += park_key_eq(w->key, key);
    return n;
}
