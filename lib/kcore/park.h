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

/* Queue w under key (w must not be parked). */
void park_enqueue(struct park_table *t, struct park_waiter *w, struct park_key key);

/* Take w out of its queue (a timeout, or its thread died); false if it
 * was not parked (already woken). */
bool park_remove(struct park_table *t, struct park_waiter *w);

/* Wake at most `count` waiters of key, oldest first: each is unlinked
 * and passed to woken(ctx, w) (which may re-park it elsewhere). Returns
 * how many. count 0 wakes none; any count, however large, is fine. */
uint32_t park_wake(struct park_table *t, struct park_key key, uint32_t count,
                   void (*woken)(void *ctx, struct park_waiter *w), void *ctx);

/* The waiter park_wake(key) would wake first, or NULL: it stays parked. */
struct park_waiter *park_first(const struct park_table *t, struct park_key key);

/* Waiters parked under key (for tests and debug checks). */
uint32_t park_count(const struct park_table *t, struct park_key key);

#endif
