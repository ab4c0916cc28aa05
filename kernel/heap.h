#ifndef CAPOS_HEAP_H
#define CAPOS_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct account;

/*
 * Kernel heap. Small blocks (up to 2 KiB) come from per-size-class slabs of
 * single frames reached through the direct map; larger ones are whole
 * frames mapped side by side into the kernel's heap region, so they never
 * need physically contiguous memory. Not interrupt-safe: never call it
 * from an interrupt handler.
 *
 * Every block belongs to an account (account.h): its slab pages and large
 * blocks are that account's alone and charged to it as FL_HEAP frames, so
 * what a process makes the kernel allocate counts against its own quota,
 * and freeing blocks of one account can never leave another's pages
 * pinned. kmalloc() allocates for the kernel's own account.
 */
void *kmalloc(size_t size);
void *kmalloc_in(struct account *a, size_t size);
void *kzalloc_in(struct account *a, size_t size);

/* Every block starts with a header of this many bytes. */
#define HEAP_BLOCK_HEADER 16u
/* The slab classes: block sizes, header included, smallest first (2016
 * fits two per page). X(class, arg) is applied to each; heap.c builds its
 * table from this list. */
#define HEAP_SLAB_LARGEST 2016u
#define HEAP_SLAB_CLASSES(X, arg)                                                                  \
    X(32, arg) X(64, arg) X(128, arg) X(256, arg) X(512, arg) X(1024, arg) X(HEAP_SLAB_LARGEST, arg)
#define HEAP_CLASS_EQ_(c, n) || (c) == (n)
/* Whether n is a slab class: requests of up to n - HEAP_BLOCK_HEADER bytes
 * above the next smaller class then get blocks of one size, so that a
 * freed block can serve any of them. */
#define HEAP_IS_SLAB_CLASS(n) (0 HEAP_SLAB_CLASSES(HEAP_CLASS_EQ_, n))
/* The largest request a slab block takes: a block of it never crosses a
 * page. */
#define HEAP_SLAB_MAX_REQUEST (HEAP_SLAB_LARGEST - HEAP_BLOCK_HEADER)
void *kzalloc(size_t size);
#define HEAP_COUNT_(c, arg) +1
#define HEAP_NCLASSES       (0 HEAP_SLAB_CLASSES(HEAP_COUNT_, 0))

/* One account's slabs: its partly used pages of each class. */
struct heap_pool {
    struct slab_page *partial[HEAP_NCLASSES];
    bool empty_kept[HEAP_NCLASSES]; /* partial[] holds an empty page, kept for reuse */
    /* One freed large block of at most HEAP_KEEP_LARGE_PAGES, kept mapped
     * for the next of the same size (a stream of big messages would map
     * and unmap pages for every one otherwise). Still charged. */
    struct large_header *kept_large;
    struct account *owner;
};
#define HEAP_KEEP_LARGE_PAGES 4
void heap_pool_init(struct heap_pool *pool, struct account *owner);
/* Give the pool's kept empty pages back (the owner is exiting). */
void heap_pool_trim(struct heap_pool *pool);
/* Whether the pool has no pages at all. */
bool heap_pool_empty(const struct heap_pool *pool);

/* Frees to the block's own account. Panics on a pointer that kmalloc did not return or that was
 * already freed: heap corruption must stop the kernel, not spread. */
void kfree(void *p);

struct heap_stats {
    uint64_t live_blocks;
    uint64_t live_bytes;    /* as requested */
    uint64_t frames_in_use; /* slab pages plus large runs */
};
void heap_stats(struct heap_stats *out);

/* Allocate and free a mix of sizes, checking contents and that every frame
 * comes back. Returns false (after printing why) on any inconsistency. */
bool heap_self_test(void);

/* Give the kernel account's kept empty slab pages back. */
void heap_trim(void);

#endif
