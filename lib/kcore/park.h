/*
 * Park table: the waiting side of a futex (ParkSpace, docs/threads.md).
 * Pure, freestanding bookkeeping with no allocation: each waiter is a
 * struct park_waiter the caller embeds (in its thread), and the table is a
 * fixed array of buckets the caller provides.
 *
 * A key names a 4-byte word of one address space: the space's identity
 * and the user address, compared whole, so waiters of different
 * processes never share a key (a hash of the two would let a process
 * pick addresses that collide with another's). Waiters of one key are woken in
 * the order they parked (FIFO). The table does not read user memory or
 * block anyone: the kernel checks the word's value before parking and
 * blocks the thread itself.
 *
 * Not thread-safe: the kernel serialises every call (one lock per bucket
 * once there are several CPUs).
 */
#ifndef CAPOS_LIB_PARK_H
#define CAPOS_LIB_PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 4-byte word of one address space: waiters match on both halves, so
 * no choice of addresses lets one process's wake reach another's waiter. */
struct park_key {
    uint64_t space; /* any nonzero value unique to the address space */
    uint64_t addr;
};

struct park_waiter {
    struct park_key key;
    struct park_waiter *next, *prev; /* in its bucket; prev NULL at the head */
    bool parked;
};

struct park_bucket {
    struct park_waiter *head, *tail;
};

struct park_table {
    struct park_bucket *buckets;
    uint32_t mask; /* bucket count - 1 (a power of two) */
    uint32_t waiters;
};

/* nbuckets must be a power of two; the buckets are emptied. */
bool park_table_init(struct park_table *t, struct park_bucket *buckets, uint32_t nbuckets);

/* The key of the 4-byte word at uaddr in address space `space`. */
static inline struct park_key park_key(uint64_t space, uint64_t uaddr)
{
    return (struct park_key){.space = space, .addr = uaddr};
}

/* The bucket of key. Only spreads keys over buckets; matching compares
 * the key whole. */
static inline struct park_bucket *park_bucket_of(const struct park_table *t, struct park_key key)
{
    uint64_t h = (key.addr >> 2) ^ (key.space * 0x9e3779b97f4a7c15ull);
    h ^= h >> 29;
    return &t->buckets[h & t->mask];
}

static inline bool park_key_eq(struct park_key a, struct park_key b)
{
    return a.space == b.space && a.addr == b.addr;
}

/* The small steps are inline: the kernel's fast path (ParkSpace.wakeWait)
 * is a find, a check, an unlink and an enqueue, and a call for each
 * costs more than the step. */

/* Queue w under key (w must not be parked). */
static inline void park_enqueue(struct park_table *t, struct park_waiter *w, struct park_key key)
{
    struct park_bucket *b = park_bucket_of(t, key);
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

/* Take w, parked in bucket b, out of it. */
static inline void park_unlink(struct park_table *t, struct park_bucket *b, struct park_waiter *w)
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

/* Take w out of its queue (a timeout, or its thread died); false if it
 * was not parked (already woken). */
bool park_remove(struct park_table *t, struct park_waiter *w);

/* Wake at most `count` waiters of key, oldest first: each is unlinked
 * and passed to woken(ctx, w) (which may re-park it elsewhere). Returns
 * how many. count 0 wakes none; any count, however large, is fine. */
uint32_t park_wake(struct park_table *t, struct park_key key, uint32_t count,
                   void (*woken)(void *ctx, struct park_waiter *w), void *ctx);

/* The waiter park_wake(key) would wake first, or NULL: it stays parked.
 * *bucket: where it is (for park_unlink, which then wakes it as park_wake
 * would: park_wake(key, n - 1) after it wakes the rest of n). */
static inline struct park_waiter *park_first(const struct park_table *t, struct park_key key,
                                             struct park_bucket **bucket)
{
    /* park_wake's scan, stopped at its first match. */
    *bucket = park_bucket_of(t, key);
    for (struct park_waiter *w = (*bucket)->head; w; w = w->next)
        if (park_key_eq(w->key, key))
            return w;
    return NULL;
}

/* Waiters parked under key (for tests and debug checks). */
uint32_t park_count(const struct park_table *t, struct park_key key);

#endif
